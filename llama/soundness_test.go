package llama_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
)

// Inside the binding's context calls every backend freed waits for the scheduler, the CPU's
// too: llama_context frees its backends before its scheduler, whose free calls each backend's
// reset. Outside them, a free is done at once, as for any other code of the program.
func TestBackendFreesAreDeferredOnlyInsideContextCalls(t *testing.T) {
	inside, err := llama.DeferredBackendFrees(true)
	require.NoError(t, err)
	assert.Equal(t, 1, inside, "a CPU backend freed while a context is freed waits for its scheduler")
	outside, err := llama.DeferredBackendFrees(false)
	require.NoError(t, err)
	assert.Equal(t, 0, outside, "outside the binding's calls a free is done at once")
}

// Model.Close frees every session's context before the weights, also that of a session nobody
// references any more whose cleanup has not run yet: its KV cache is gone once Close returns.
// The sessions' cleanups are stopped here, so that they stay in that state.
func TestModelCloseFreesSessionsNoOneReferences(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	before := llama.LiveContexts()
	func() {
		for range 8 {
			s, err := m.NewSession(llama.WithContextSize(64), llama.WithThreads(1))
			require.NoError(t, err)
			_, err = s.Generate(context.Background(), llama.Text("dropped"), llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
			require.NoError(t, err)
			s.StopCleanup()
		}
	}()
	runtime.GC()
	runtime.GC()
	require.Equal(t, before+8, llama.LiveContexts(), "the sessions' contexts are alive until closed")
	require.NoError(t, m.Close())
	assert.Equal(t, before, llama.LiveContexts(), "Model.Close left contexts alive")
}

// A Session that is dropped without Close is freed by its cleanup, and its model forgets it.
func TestDroppedSessionsAreFreed(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	before := llama.LiveContexts()
	func() {
		s, err := m.NewSession(llama.WithContextSize(64), llama.WithThreads(1))
		require.NoError(t, err)
		_, err = s.Generate(context.Background(), llama.Text("dropped"), llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
		require.NoError(t, err)
	}()
	for llama.LiveContexts() > before {
		runtime.GC()
		runtime.Gosched()
	}
	require.NoError(t, m.Close())
}

// From inside a token callback the session's accessors answer; the calls that would wait for
// the call running the callback, or that use its context, return ErrReentrant and change
// nothing, instead of deadlocking; the model's other methods work.
func TestCallsFromTheTokenCallback(t *testing.T) {
	m, s := openTiny(t, "tiny-llama")
	other, err := m.NewSession(llama.WithContextSize(64), llama.WithThreads(1))
	require.NoError(t, err)
	defer other.Close()
	var positions []int
	got := map[string]error{}
	res, err := s.Generate(context.Background(), llama.Text("from the callback"), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, func(tok llama.Token) bool {
		positions = append(positions, s.Position())
		if tok.Index != 1 {
			return true
		}
		got["Session.Close"] = s.Close()
		got["Model.Close"] = m.Close()
		_, got["Session.Generate"] = s.Generate(context.Background(), llama.Text("again"), llama.GenerateOptions{MaxTokens: 1}, nil)
		_, got["Session.Prefill"] = s.Prefill(context.Background(), []int32{5})
		got["Session.Reset"] = s.Reset()
		_, got["Model.Tokenize"] = m.Tokenize("fine", false, false)
		_, got["other Session.Generate"] = other.Generate(context.Background(), llama.Text("fine"), llama.GenerateOptions{MaxTokens: 1, IgnoreEOG: true}, nil)
		got["other Session.Close"] = other.Close()
		return true
	})
	require.NoError(t, err)
	assert.Equal(t, 4, res.Tokens, "the call went on after the refused ones")
	for i, p := range positions {
		assert.Equal(t, res.PromptTokens+i+1, p, "Position at token %d", i)
	}
	for _, name := range []string{"Session.Close", "Model.Close", "Session.Generate", "Session.Prefill", "Session.Reset"} {
		assert.ErrorIs(t, got[name], llama.ErrReentrant, name)
	}
	for _, name := range []string{"Model.Tokenize", "other Session.Generate", "other Session.Close"} {
		assert.NoError(t, got[name], name)
	}
	assert.Equal(t, res.PromptTokens+4, s.Position())
	require.NoError(t, s.Close())
	require.NoError(t, m.Close())
}

// A model method called from a token callback while another goroutine closes the model
// returns: Model.Close does not hold the model's lock while it waits for the call.
func TestModelMethodsFromTheCallbackWhileTheModelCloses(t *testing.T) {
	m, s := openTiny(t, "tiny-llama")
	closed := make(chan error, 1)
	var tokErr error
	res, err := s.Generate(context.Background(), llama.Text("closing under me"), llama.GenerateOptions{MaxTokens: 32, IgnoreEOG: true}, func(tok llama.Token) bool {
		if tok.Index == 1 {
			go func() { closed <- m.Close() }()
			for !s.Closing() { // Model.Close is waiting for this call
				runtime.Gosched()
			}
			require.True(t, m.Closing())
			_, tokErr = m.Tokenize("still answers", false, false)
			_, _, metaErr := m.Meta("general.name")
			assert.NoError(t, metaErr)
		}
		return true
	})
	require.ErrorIs(t, err, llama.ErrClosed)
	assert.Equal(t, 2, res.Tokens, "the call stopped at the token after Close began")
	assert.NoError(t, tokErr, "the weights stay until the sessions are closed")
	require.NoError(t, <-closed)
	_, err = m.Tokenize("after", false, false)
	assert.ErrorIs(t, err, llama.ErrClosed)
}

// Two callbacks that each close the other's session would wait for each other forever: one of
// the Closes returns ErrReentrant and changes nothing, the other completes once the refused
// one's call ends.
func TestClosesThatWouldWaitForEachOtherAreRefused(t *testing.T) {
	m, a := openTiny(t, "tiny-llama")
	b, err := m.NewSession(llama.WithContextSize(256))
	require.NoError(t, err)
	defer b.Close()
	var both sync.WaitGroup
	both.Add(2)
	type outcome struct {
		closeErr, genErr error
		tokens           int
	}
	run := func(own, peer *llama.Session, out chan<- outcome) {
		var o outcome
		res, err := own.Generate(context.Background(), llama.Text("each other"), llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, func(tok llama.Token) bool {
			if tok.Index == 0 {
				both.Done()
				both.Wait() // both calls are in their callbacks
				o.closeErr = peer.Close()
			}
			return true
		})
		o.genErr, o.tokens = err, res.Tokens
		out <- o
	}
	outA, outB := make(chan outcome, 1), make(chan outcome, 1)
	go run(a, b, outA)
	go run(b, a, outB)
	oa, ob := <-outA, <-outB
	refused, done := oa, ob
	if ob.closeErr != nil {
		refused, done = ob, oa
	}
	require.ErrorIs(t, refused.closeErr, llama.ErrReentrant)
	require.NoError(t, done.closeErr, "the other Close waited for the refused one's call and freed it")
	// The refused Close changed nothing: the call that made the accepted one ran to its end,
	// while the refused one's own session was closed under it at its next token.
	assert.NoError(t, done.genErr)
	assert.Equal(t, 8, done.tokens)
	assert.ErrorIs(t, refused.genErr, llama.ErrClosed)
	assert.Equal(t, 1, refused.tokens)
}

// A Close that lands after a call has begun but before it watches its context still stops the
// call: the closed flag is never lowered, only the cancel flag is.
func TestCloseBetweenBeginAndWatchIsNotLost(t *testing.T) {
	_, s := openTiny(t, "tiny-llama")
	closed := make(chan error, 1)
	llama.SetAfterBeginHook(func(hooked *llama.Session) {
		if hooked != s {
			return
		}
		go func() { closed <- s.Close() }()
		for !s.Closing() {
			runtime.Gosched()
		}
	})
	defer llama.SetAfterBeginHook(nil)
	res, err := s.Generate(context.Background(), llama.Text("lost close"), llama.GenerateOptions{MaxTokens: 200, IgnoreEOG: true}, nil)
	require.ErrorIs(t, err, llama.ErrClosed)
	assert.Zero(t, res.Tokens, "the call stopped before decoding")
	require.NoError(t, <-closed)
}

// A failed quantization leaves out as it was, and the input can never be the output.
func TestQuantizeLosesNothing(t *testing.T) {
	in := tinyModel(t, "tiny-llama")
	orig, err := os.ReadFile(in)
	require.NoError(t, err)
	dir := t.TempDir()

	t.Run("failure keeps an existing output", func(t *testing.T) {
		out := filepath.Join(dir, "kept.gguf")
		require.NoError(t, os.WriteFile(out, []byte("an earlier file"), 0o644))
		err := llama.Quantize(in, out, llama.FileType(9999))
		require.Error(t, err)
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, "an earlier file", string(got))
		assertOnlyFiles(t, dir, "kept.gguf")
	})
	t.Run("output is the input", func(t *testing.T) {
		link := filepath.Join(dir, "link.gguf")
		require.NoError(t, os.Symlink(in, link))
		for _, out := range []string{in, link, filepath.Join(filepath.Dir(in), ".", filepath.Base(in))} {
			err := llama.Quantize(in, out, llama.FileTypeQ8_0)
			require.ErrorContains(t, err, "is the input itself")
		}
		got, err := os.ReadFile(in)
		require.NoError(t, err)
		assert.Equal(t, orig, got, "the input is untouched")
		require.NoError(t, os.Remove(link))
	})
	t.Run("success replaces the output", func(t *testing.T) {
		out := filepath.Join(dir, "kept.gguf")
		require.NoError(t, llama.Quantize(in, out, llama.FileTypeQ8_0))
		f, err := gguf.Validate(out)
		require.NoError(t, err)
		assert.Positive(t, f.Size)
		assertOnlyFiles(t, dir, "kept.gguf")
	})
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got, "no temporary file is left behind")
}
