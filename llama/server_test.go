package llama_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/llama"
)

// solo is what one prompt gives alone in a Session, greedily: the reference for a stream.
type solo struct {
	prompt    llama.Prompt
	ids       []int32
	minMargin float32 // the smallest gap between the two largest logits over the reply
}

// soloRuns generates n tokens for each prompt alone in a fresh session and keeps those whose
// greedy choices are never near a tie, so that batched arithmetic cannot flip them.
func soloRuns(t *testing.T, m *llama.Model, prompts []llama.Prompt, n int, minMargin float32) []solo {
	t.Helper()
	var kept []solo
	for _, p := range prompts {
		s, err := m.NewSession(llama.WithContextSize(256), llama.WithThreads(1))
		require.NoError(t, err)
		r := solo{prompt: p, minMargin: 1e9}
		_, err = s.Generate(context.Background(), p, llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}, func(tok llama.Token) bool {
			r.ids = append(r.ids, tok.ID)
			r.minMargin = min(r.minMargin, s.LastMargin())
			return true
		})
		require.NoError(t, err)
		require.NoError(t, s.Close())
		if r.minMargin >= minMargin {
			kept = append(kept, r)
		}
	}
	return kept
}

func serverPrompts(n int) []llama.Prompt {
	words := []string{"river", "stone", "cloud", "lamp", "garden", "engine", "violin", "harbor", "desert", "signal", "forest", "copper"}
	var ps []llama.Prompt
	for i := range n {
		ps = append(ps, llama.Text(fmt.Sprintf("The %s and the %s", words[i%len(words)], words[(i*5+3)%len(words)])))
	}
	return ps
}

// Every stream of a Server gives, token for token, what its prompt gives alone in a Session,
// with more requests than sequences, so that streams join and leave while others decode; with
// each step's greedy picks made on one goroutine, and shared out among three.
func TestServerStreamsMatchTheirSoloRuns(t *testing.T) {
	const n = 16
	for _, id := range tinyIDs {
		for _, split := range []bool{false, true} {
			name := id + "/picks on one goroutine"
			if split {
				name = id + "/picks shared out"
			}
			t.Run(name, func(t *testing.T) {
				if split {
					defer llama.SplitArgmax(3)()
				}
				splits := llama.ArgmaxSplits()
				m, err := llama.Load(tinyModel(t, id))
				require.NoError(t, err)
				defer m.Close()
				refs := soloRuns(t, m, serverPrompts(12), n, 1e-3)
				t.Logf("%d of 12 prompts have no near-tie in their first %d tokens", len(refs), n)
				require.GreaterOrEqual(t, len(refs), 6)

				sv, err := m.NewServer(llama.WithSequences(3), llama.WithContextSize(3*256), llama.WithThreads(1))
				require.NoError(t, err)
				defer sv.Close()
				got := make([][]int32, len(refs))
				results := make([]llama.Result, len(refs))
				var wg sync.WaitGroup
				for i, r := range refs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						res, err := sv.Generate(context.Background(), r.prompt, llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}, func(tok llama.Token) bool {
							got[i] = append(got[i], tok.ID)
							return true
						})
						assert.NoError(t, err)
						results[i] = res
					}()
				}
				wg.Wait()
				for i, r := range refs {
					assert.Equal(t, r.ids, got[i], "stream %d (%q)", i, r.prompt)
					assert.Equal(t, n, results[i].Tokens)
					assert.Equal(t, llama.StopMaxTokens, results[i].Stop)
				}
				st := sv.Stats()
				assert.Equal(t, len(refs), st.Requests)
				assert.Equal(t, len(refs)*(n-1), st.GenTokens, "every token but each stream's last was decoded once")
				assert.LessOrEqual(t, st.MaxActive, 3)
				assert.Greater(t, st.MaxBatch, 1, "steps carried several streams")
				assert.Less(t, st.Steps, len(refs)*n, "streams shared steps")
				if split {
					assert.Greater(t, llama.ArgmaxSplits(), splits, "steps shared their picks out")
				} else {
					assert.Equal(t, splits, llama.ArgmaxSplits(), "the tiny models' steps are too small to share out")
				}
			})
		}
	}
}

// The default model, real weights: streams answer chat prompts token for token as a Session
// does.
func TestServerMatchesSessionsOnTheDefaultModel(t *testing.T) {
	m, err := llama.Load(defaultModel(t))
	require.NoError(t, err)
	defer m.Close()
	var prompts []llama.Prompt
	for _, q := range []string{"Name a colour.", "What is 2 + 2?", "Say hello in French.", "Name a planet.", "What is the capital of Italy?"} {
		p, err := m.ChatPrompt([]llama.Message{{Role: "user", Content: q}})
		require.NoError(t, err)
		prompts = append(prompts, p)
	}
	const n = 24
	refs := soloRuns(t, m, prompts, n, 1e-2)
	require.GreaterOrEqual(t, len(refs), 3, "real weights rarely tie")
	sv, err := m.NewServer(llama.WithSequences(4), llama.WithThreads(1))
	require.NoError(t, err)
	defer sv.Close()
	var wg sync.WaitGroup
	for _, r := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ids []int32
			res, err := sv.Generate(context.Background(), r.prompt, llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}, func(tok llama.Token) bool {
				ids = append(ids, tok.ID)
				return true
			})
			assert.NoError(t, err)
			assert.Equal(t, r.ids, ids, "%q", r.prompt)
			assert.Equal(t, n, res.Tokens)
		}()
	}
	wg.Wait()
}

// A request that does not fit one sequence's share of the context is refused before anything
// is decoded, and the streams under way go on.
func TestServerRefusesWhatDoesNotFitASequence(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	sv, err := m.NewServer(llama.WithSequences(2), llama.WithContextSize(512), llama.WithThreads(1))
	require.NoError(t, err)
	defer sv.Close()
	require.Equal(t, 256, sv.SequenceContext())

	var res llama.Result
	var genErr error
	refused := map[string]error{}
	res, genErr = sv.Generate(context.Background(), llama.Text("go on"), llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, func(tok llama.Token) bool {
		if tok.Index == 2 {
			_, refused["too long to generate"] = sv.Generate(context.Background(), llama.Text("x"), llama.GenerateOptions{MaxTokens: 300}, nil)
			_, refused["prompt too long"] = sv.GenerateTokens(context.Background(), make([]int32, 256), llama.GenerateOptions{MaxTokens: 1}, nil)
			_, refused["token outside the vocabulary"] = sv.GenerateTokens(context.Background(), []int32{1, 1 << 20}, llama.GenerateOptions{MaxTokens: 1}, nil)
			_, refused["empty"] = sv.GenerateTokens(context.Background(), nil, llama.GenerateOptions{MaxTokens: 1}, nil)
		}
		return true
	})
	require.NoError(t, genErr)
	assert.Equal(t, 8, res.Tokens, "the stream under way went on")
	assert.ErrorIs(t, refused["too long to generate"], llama.ErrContextFull)
	assert.ErrorIs(t, refused["prompt too long"], llama.ErrContextFull)
	assert.ErrorIs(t, refused["token outside the vocabulary"], llama.ErrDecode)
	assert.ErrorContains(t, refused["empty"], "empty prompt")
	assert.Equal(t, 1, sv.Stats().Requests, "the refused ones were never queued")
}

// Cancelling one stream, or its callback returning false, stops that stream at the next step;
// the others run to their end.
func TestServerStopsOneStreamOnly(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	sv, err := m.NewServer(llama.WithSequences(3), llama.WithThreads(1))
	require.NoError(t, err)
	defer sv.Close()
	const n, at = 24, 3
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		res llama.Result
		err error
	}
	outs := make([]outcome, 3)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := context.Background()
			if i == 0 {
				c = ctx
			}
			res, err := sv.Generate(c, llama.Text(fmt.Sprintf("stream %d", i)), llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}, func(tok llama.Token) bool {
				switch {
				case i == 0 && tok.Index == at:
					cancel()
				case i == 1 && tok.Index == at:
					return false
				}
				return true
			})
			outs[i] = outcome{res, err}
		}()
	}
	wg.Wait()
	require.ErrorIs(t, outs[0].err, context.Canceled)
	assert.Equal(t, llama.StopCancelled, outs[0].res.Stop)
	assert.Equal(t, at+1, outs[0].res.Tokens, "the tokens decoded after the cancel were dropped")
	require.NoError(t, outs[1].err)
	assert.Equal(t, llama.StopCallback, outs[1].res.Stop)
	assert.Equal(t, at+1, outs[1].res.Tokens)
	require.NoError(t, outs[2].err)
	assert.Equal(t, n, outs[2].res.Tokens, "the other stream ran to its end")
	assert.Equal(t, 3, sv.Stats().Requests)
	assert.Less(t, sv.Stats().GenTokens, 3*n, "the stopped streams stopped decoding")

	// A request cancelled while it waits for a sequence leaves without decoding.
	waiting, cancelWaiting := context.WithCancel(context.Background())
	cancelWaiting()
	res, err := sv.Generate(waiting, llama.Text("never"), llama.GenerateOptions{MaxTokens: 4}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, res.Tokens)
}

// Closing the model ends every stream, decoding or waiting, with ErrClosed; later requests are
// refused, and Close may be called from a stream's callback. Whichever stream is admitted first
// closes the model at its fifth token, long before any stream could fill its 4096 tokens.
func TestClosingTheModelEndsEveryStream(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	before := llama.LiveContexts()
	sv, err := m.NewServer(llama.WithSequences(2), llama.WithContextSize(2*4096), llama.WithThreads(1))
	require.NoError(t, err)
	var closeOnce sync.Once
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = sv.Generate(context.Background(), llama.Text("until closed"), llama.GenerateOptions{IgnoreEOG: true}, func(tok llama.Token) bool {
				if tok.Index == 4 {
					closeOnce.Do(func() { assert.NoError(t, m.Close(), "Close from a stream's callback") })
				}
				return true
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.ErrorIs(t, err, llama.ErrClosed, "stream %d", i)
	}
	assert.Equal(t, before, llama.LiveContexts(), "the server's context is freed")
	_, err = sv.Generate(context.Background(), llama.Text("after"), llama.GenerateOptions{MaxTokens: 1}, nil)
	assert.ErrorIs(t, err, llama.ErrClosed)
	assert.NoError(t, sv.Close())
	_, err = m.NewServer()
	assert.ErrorIs(t, err, llama.ErrClosed)
}

// A context for many sequences that cannot fit is refused with the sizes, before llama.cpp is
// asked; bad options are errors.
func TestServerOptionsAndMemory(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	_, err = m.NewServer(llama.WithSequences(64), llama.WithContextSize(1<<30))
	require.ErrorIs(t, err, llama.ErrOutOfMemory)
	assert.Contains(t, err.Error(), "KV cache")
	for _, n := range []int{0, -1, 257} {
		_, err := m.NewServer(llama.WithSequences(n))
		assert.ErrorContains(t, err, "sequences", "%d", n)
	}
	sv, err := m.NewServer(llama.WithSequences(4), llama.WithKVUnified(true), llama.WithContextSize(1000), llama.WithThreads(1))
	require.NoError(t, err)
	defer sv.Close()
	assert.Equal(t, 1024, sv.ContextSize(), "llama.cpp pads the context to 256")
	assert.Equal(t, 256, sv.SequenceContext(), "a unified cache is shared out evenly")
	res, err := sv.Generate(context.Background(), llama.Text(strings.Repeat("unified ", 4)), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Tokens)
}

// llama.cpp decodes a step of a Server in one pass over the weights only when the next tokens
// of its streams come in ascending sequence order (it splits a batch for per-sequence KV
// buffers at every break in that order). Streams that end out of order and are followed by
// new requests must not scramble it, and a new request takes the lowest free sequence.
func TestServerStepsGoInSequenceOrder(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	var mu sync.Mutex
	var steps [][]int32
	llama.SetStepHook(func(seqs []int32, gen int) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, slices.Clone(seqs[:gen]))
	})
	defer llama.SetStepHook(nil)
	sv, err := m.NewServer(llama.WithSequences(3), llama.WithThreads(1))
	require.NoError(t, err)
	// Three users in a closed loop, with replies of different lengths, so that they end out
	// of the order they began in and the next requests take the sequences freed.
	lengths := [][]int{{3, 3, 3, 3}, {11}, {5, 5}}
	var wg sync.WaitGroup
	release := sv.Hold() // the first requests start together
	for u, ls := range lengths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r, n := range ls {
				_, err := sv.Generate(context.Background(), llama.Text(fmt.Sprintf("user %d request %d", u, r)),
					llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}, nil)
				assert.NoError(t, err)
			}
		}()
	}
	for sv.Waiting() < len(lengths) {
		time.Sleep(100 * time.Microsecond)
	}
	release()
	wg.Wait()
	require.NoError(t, sv.Close())
	mu.Lock()
	defer mu.Unlock()
	several := 0
	for i, seqs := range steps {
		assert.True(t, slices.IsSorted(seqs), "step %d decodes sequences %v", i, seqs)
		assert.Equal(t, len(seqs), len(slices.Compact(slices.Clone(seqs))), "step %d decodes a sequence twice: %v", i, seqs)
		for _, s := range seqs {
			assert.Less(t, s, int32(3))
		}
		if len(seqs) > 1 {
			several++
		}
	}
	// The first round is admitted together: its second and third tokens are one step each
	// for all three streams.
	assert.GreaterOrEqual(t, several, 2, "streams were decoded together")
}

// Under a hold, requests wait and nothing is decoded; released, they are admitted together.
func TestServerHoldAdmitsTogether(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	sv, err := m.NewServer(llama.WithSequences(3), llama.WithThreads(1))
	require.NoError(t, err)
	defer sv.Close()
	release := sv.Hold()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := sv.Generate(context.Background(), llama.Text(fmt.Sprintf("held %d", i)), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
			assert.NoError(t, err)
			assert.Equal(t, 4, res.Tokens)
		}()
	}
	for sv.Waiting() < 4 {
		time.Sleep(100 * time.Microsecond)
	}
	assert.Zero(t, sv.Stats().Steps, "nothing is decoded under a hold")
	release()
	release() // counts once
	wg.Wait()
	st := sv.Stats()
	assert.Equal(t, 3, st.MaxActive, "the three sequences were filled at once")
	assert.Equal(t, 4, st.Requests)
	assert.Zero(t, sv.Waiting())
}
