package llama_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
)

// residentSet reads the process's resident memory from /proc/self/status after a GC that
// returns freed Go memory to the OS: all of it (VmRSS) and its anonymous part (RssAnon), the
// heaps of Go and C, without the pages of files such as the executable, which the kernel may
// fold into huge pages at any time.
func residentSet(t *testing.T) (all, anon int64) {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status to read the resident set from: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		require.NoError(t, err)
		switch fields[0] {
		case "VmRSS:":
			all = kb << 10
		case "RssAnon:":
			anon = kb << 10
		}
	}
	require.NoError(t, sc.Err())
	if all == 0 || anon == 0 {
		t.Skip("no VmRSS or RssAnon line in /proc/self/status")
	}
	return all, anon
}

// settledGoroutines waits a little for goroutines that are ending to end, and returns how many
// are left once there are at most want, or after the wait.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// A model loaded, run and closed many times leaves nothing behind: after 200 cycles the
// resident set is within 5% of its level after the first, no mapping of the file is left, and
// no goroutine outlives its cycle. The leak this test found, about 100 bytes per weight tensor
// at every load (see helpers.c), fragmented the heap and grew it by 1.3 MiB, 8.6%.
//
// The cycles run in a process of their own, so that the heap is not the one earlier tests
// left, with glibc's mmap threshold fixed: left to adapt to the sizes freed, it moves once
// the first buffers of megabytes are unmapped, and later ones stay in the heap, which grew by
// 20% over the first 20 cycles and jumped by 6 MiB in some runs. The goroutine is locked to
// one thread and computes with one, since glibc gives each thread that allocates an arena of
// its own. The growth is that of RssAnon, the heaps of Go and C: VmRSS also counts the
// executable's pages, which the kernel may fold into huge pages at any time.
func TestLoadGenerateCloseCyclesLeakNothing(t *testing.T) {
	if asanBuild {
		t.Skip("AddressSanitizer keeps freed memory in quarantine, so the resident set grows by design; the ASan run checks leaks itself")
	}
	if os.Getenv("LLMBENCH_TEST_CYCLES") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadGenerateCloseCyclesLeakNothing$", "-test.v")
		cmd.Env = append(os.Environ(), "LLMBENCH_TEST_CYCLES=1", "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072")
		out, err := cmd.CombinedOutput()
		t.Logf("%s", out)
		require.NoError(t, err)
		return
	}
	const cycles, window = 200, 10
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	path := tinyModel(t, "tiny-llama")
	goroutines := runtime.NumGoroutine()
	var all, anon []int64 // after each cycle
	for range cycles {
		m, err := llama.Load(path)
		require.NoError(t, err)
		s, err := m.NewSession(llama.WithContextSize(64), llama.WithThreads(1))
		require.NoError(t, err)
		res, err := s.Generate(context.Background(), llama.Text("once more"), llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, nil)
		require.NoError(t, err)
		require.Equal(t, 8, res.Tokens)
		require.NoError(t, s.Close())
		require.NoError(t, m.Close())
		a, n := residentSet(t)
		all, anon = append(all, a), append(anon, n)
	}

	// The lowest of the last readings: the heap's free lists make single ones wander.
	growth := slices.Min(anon[cycles-window:]) - anon[0]
	var seen []string
	for _, i := range []int{1, 2, 5, 10, 20, 50, 100, 150, 200} {
		seen = append(seen, fmt.Sprintf("%d: %s (anon %s)", i, mib(all[i-1]), mib(anon[i-1])))
	}
	t.Logf("VmRSS after cycle %s; anonymous memory grew by %s (%+.1f%% of the first level)",
		strings.Join(seen, ", "), mib(growth), 100*float64(growth)/float64(all[0]))
	assert.LessOrEqual(t, float64(growth), 0.05*float64(all[0]), "the resident set grew by %s from %s after the first cycle", mib(growth), mib(all[0]))
	maps, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	assert.NotContains(t, string(maps), path, "the model's file is still mapped")
	assert.LessOrEqual(t, settledGoroutines(goroutines), goroutines, "goroutines left after %d cycles", cycles)
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// Every method of a closed Session or Model that needs llama.cpp returns ErrClosed, whichever
// was closed first; the rest keep answering from what was read at load.
func TestEveryMethodAfterCloseReturnsErrClosed(t *testing.T) {
	sessionCalls := map[string]func(*llama.Session) error{
		"Generate": func(s *llama.Session) error {
			_, err := s.Generate(context.Background(), llama.Text("x"), llama.GenerateOptions{MaxTokens: 1}, nil)
			return err
		},
		"GenerateTokens": func(s *llama.Session) error {
			_, err := s.GenerateTokens(context.Background(), []int32{5}, llama.GenerateOptions{MaxTokens: 1}, nil)
			return err
		},
		"Prefill": func(s *llama.Session) error {
			_, err := s.Prefill(context.Background(), []int32{5})
			return err
		},
		"Reset": func(s *llama.Session) error { return s.Reset() },
	}
	modelCalls := map[string]func(*llama.Model) error{
		"NewSession": func(m *llama.Model) error {
			_, err := m.NewSession(llama.WithContextSize(64))
			return err
		},
		"Tokenize": func(m *llama.Model) error {
			_, err := m.Tokenize("x", true, true)
			return err
		},
		"TokenizePrompt": func(m *llama.Model) error {
			_, err := m.TokenizePrompt(llama.Concat(llama.RawPrompt("<s>"), llama.Text("x")), true)
			return err
		},
		"TokenText": func(m *llama.Model) error {
			_, err := m.TokenText(5)
			return err
		},
		"Meta": func(m *llama.Model) error {
			_, _, err := m.Meta("general.name")
			return err
		},
	}
	for _, closing := range []string{"session", "model"} {
		t.Run("close "+closing, func(t *testing.T) {
			m, err := llama.Load(tinyModel(t, "tiny-llama"))
			require.NoError(t, err)
			defer m.Close()
			s, err := m.NewSession(llama.WithContextSize(64))
			require.NoError(t, err)
			_, err = s.Generate(context.Background(), llama.Text("before"), llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
			require.NoError(t, err)
			pos := s.Position()
			if closing == "session" {
				require.NoError(t, s.Close())
			} else {
				require.NoError(t, m.Close())
			}
			for name, call := range sessionCalls {
				t.Run("Session."+name, func(t *testing.T) { assert.ErrorIs(t, call(s), llama.ErrClosed) })
			}
			assert.Equal(t, pos, s.Position(), "Position stays readable")
			assert.Equal(t, m, s.Model())
			assert.NoError(t, s.Close())

			require.NoError(t, m.Close())
			for name, call := range modelCalls {
				t.Run("Model."+name, func(t *testing.T) { assert.ErrorIs(t, call(m), llama.ErrClosed) })
			}
			assert.False(t, m.IsEOG(2), "a closed model knows no tokens")
			assert.Equal(t, "tiny-llama", m.Info().Name, "Info stays readable")
			_, err = m.ChatPrompt([]llama.Message{{Role: "user", Content: "hi"}})
			assert.NoError(t, err, "the chat template is kept in Info")
		})
	}
}

// A token id outside the vocabulary is an error wherever it is given, never an end of the
// process: llama.cpp looks ids up with std::vector::at.
func TestTokenIDsOutsideTheVocabularyAreErrors(t *testing.T) {
	m, s := openTiny(t, "tiny-llama")
	n := int32(m.Info().VocabSize)
	for _, id := range []int32{-1, n, 1 << 30} {
		t.Run(strconv.Itoa(int(id)), func(t *testing.T) {
			_, err := m.TokenText(id)
			assert.ErrorContains(t, err, "outside the vocabulary")
			assert.False(t, m.IsEOG(id))
			_, err = s.GenerateTokens(context.Background(), []int32{1, id}, llama.GenerateOptions{MaxTokens: 1}, nil)
			assert.ErrorIs(t, err, llama.ErrDecode)
			_, err = s.Prefill(context.Background(), []int32{id})
			assert.ErrorIs(t, err, llama.ErrDecode)
			assert.Equal(t, 0, s.Position(), "nothing was decoded")
		})
	}
	res, err := s.Generate(context.Background(), llama.Text("still works"), llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Tokens)
}

// Closing a session or its model from another goroutine while a Generate runs on it stops the
// Generate at its next token with ErrClosed and what it had generated; Close returns once the
// context is freed.
func TestCloseDuringGenerateStopsIt(t *testing.T) {
	for _, closing := range []string{"session", "model"} {
		t.Run("close "+closing, func(t *testing.T) {
			m, err := llama.Load(tinyModel(t, "tiny-llama"))
			require.NoError(t, err)
			defer m.Close()
			s, err := m.NewSession(llama.WithContextSize(256))
			require.NoError(t, err)
			closer := func() error { return s.Close() }
			if closing == "model" {
				closer = m.Close
			}
			closed := make(chan error, 1)
			res, err := s.Generate(context.Background(), llama.Text("close me"), llama.GenerateOptions{IgnoreEOG: true}, func(tok llama.Token) bool {
				if tok.Index == 2 {
					go func() { closed <- closer() }()
					for !s.Closing() { // Close has raised the flag and waits for this call
						runtime.Gosched()
					}
				}
				return true
			})
			require.ErrorIs(t, err, llama.ErrClosed)
			assert.Equal(t, llama.StopCancelled, res.Stop)
			assert.Equal(t, 3, res.Tokens, "stopped at the token after Close began")
			require.NoError(t, <-closed)
			_, err = s.Generate(context.Background(), llama.Text("x"), llama.GenerateOptions{MaxTokens: 1}, nil)
			require.ErrorIs(t, err, llama.ErrClosed)
		})
	}
}

// A session serves one call at a time: while a Generate or a Prefill runs, every other call
// that uses the context is refused with ErrBusy and changes nothing, and the running call
// completes normally.
func TestOverlappingCallsOnOneSessionAreRefused(t *testing.T) {
	overlapping := map[string]func(*llama.Session) error{
		"Generate": func(s *llama.Session) error {
			_, err := s.Generate(context.Background(), llama.Text("second"), llama.GenerateOptions{MaxTokens: 1}, nil)
			return err
		},
		"GenerateTokens": func(s *llama.Session) error {
			_, err := s.GenerateTokens(context.Background(), []int32{5, 6}, llama.GenerateOptions{MaxTokens: 1}, nil)
			return err
		},
		"Prefill": func(s *llama.Session) error {
			_, err := s.Prefill(context.Background(), []int32{5, 6})
			return err
		},
		"Reset": func(s *llama.Session) error { return s.Reset() },
	}
	m, s := openTiny(t, "tiny-llama")
	long, err := m.Tokenize(strings.Repeat("a long prompt keeps the session busy ", 5), true, false)
	require.NoError(t, err)

	t.Run("during Generate", func(t *testing.T) {
		require.NoError(t, s.Reset())
		started, release := make(chan struct{}), make(chan struct{})
		var res llama.Result
		done := make(chan error, 1)
		go func() {
			var err error
			res, err = s.Generate(context.Background(), llama.Text("first"), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, func(tok llama.Token) bool {
				if tok.Index == 0 {
					close(started)
					<-release
				}
				return true
			})
			done <- err
		}()
		<-started
		for name, call := range overlapping {
			assert.ErrorIs(t, call(s), llama.ErrBusy, name)
		}
		close(release)
		require.NoError(t, <-done)
		assert.Equal(t, 4, res.Tokens)
		assert.Equal(t, res.PromptTokens+4, s.Position(), "the refused calls changed nothing")
	})

	t.Run("racing a Prefill", func(t *testing.T) {
		// Prefill has no callback to hold it at: the calls race it from other goroutines, and
		// each must either be refused or run entirely before or after it; under -race this
		// also checks the busy flag and the locks.
		require.NoError(t, s.Reset())
		var wg sync.WaitGroup
		errs := map[string]error{}
		var mu sync.Mutex
		start := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Prefill(context.Background(), long)
			mu.Lock()
			errs["Prefill (first)"] = err
			mu.Unlock()
		}()
		for name, call := range overlapping {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := call(s)
				mu.Lock()
				errs[name] = err
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		for name, err := range errs {
			if err != nil {
				assert.ErrorIs(t, err, llama.ErrBusy, name)
			}
		}
		// Whatever ran, the session is consistent and works.
		require.NoError(t, s.Reset())
		res, err := s.GenerateTokens(context.Background(), long, llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
		require.NoError(t, err)
		assert.Equal(t, len(long)+2, s.Position())
		assert.Equal(t, 2, res.Tokens)
	})
}

// Sessions of one model open, generate and close from many goroutines at once, and close the
// model meanwhile; run under -race this checks the locks between Model and Session.
func TestSessionsOpenAndCloseConcurrentlyWithTheModel(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-phi3"))
	require.NoError(t, err)
	defer m.Close()
	var wg sync.WaitGroup
	var running sync.Once
	generating := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				s, err := m.NewSession(llama.WithContextSize(64), llama.WithThreads(1))
				if err != nil {
					assert.ErrorIs(t, err, llama.ErrClosed)
					return
				}
				_, err = s.Generate(context.Background(), llama.Text("together"), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
				if err != nil {
					assert.ErrorIs(t, err, llama.ErrClosed)
				} else {
					running.Do(func() { close(generating) })
				}
				assert.NoError(t, s.Close())
			}
		}()
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	// Pull the model from under the goroutines once one has generated.
	select {
	case <-generating:
	case <-finished:
	}
	require.NoError(t, m.Close())
	<-finished
	_, err = m.NewSession()
	require.ErrorIs(t, err, llama.ErrClosed)
}

// slowSpec is a model slow enough on a CPU to time cancellation against: with one thread,
// about 17 ms a token and 4 s for a prompt of 1024 tokens here. Its layers are many and
// narrow, so that no single step of a prompt's graph, between which llama.cpp checks for an
// abort, takes long. It is 188 MB as F16, written in half a second.
func slowSpec() gguf.Spec {
	s, _ := gguf.TinySpec("tiny-llama")
	s.ID, s.Name = "slow-llama", "slow-llama"
	s.Layers, s.Embd, s.Heads, s.KVHeads, s.HeadDim, s.FF = 8, 1024, 16, 4, 64, 2816
	s.Context, s.Vocab = 2048, 4096
	return s
}

// loadSlow writes the slow model and loads it with its weights in host memory.
func loadSlow(t *testing.T) *llama.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slow.gguf")
	start := time.Now()
	require.NoError(t, gguf.Write(path, slowSpec(), gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}))
	t.Logf("wrote the slow model in %v", time.Since(start).Round(time.Millisecond))
	m, err := llama.Load(path, llama.WithGPULayers(0))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// slowPrompt is 1024 token ids of the slow model.
func slowPrompt() []int32 {
	long := make([]int32, 1024)
	for i := range long {
		long[i] = int32(3 + i*7%4000)
	}
	return long
}

// With a GPU backend, a prompt for weights kept in host memory is computed on the GPU unless
// op offload is off, as in llama.cpp.
func TestOpOffloadComputesPromptsOnTheGPU(t *testing.T) {
	if !llama.HasGPU() {
		t.Skip("no GPU backend loaded (set LLMBENCH_BACKEND_DIR)")
	}
	m := loadSlow(t)
	long := slowPrompt()
	took := map[bool]time.Duration{}
	for _, offload := range []bool{true, false} {
		s, err := m.NewSession(llama.WithContextSize(2048), llama.WithThreads(1), llama.WithOpOffload(offload))
		require.NoError(t, err)
		_, err = s.Prefill(context.Background(), long[:64]) // warm up
		require.NoError(t, err)
		require.NoError(t, s.Reset())
		start := time.Now()
		_, err = s.Prefill(context.Background(), long)
		took[offload] = time.Since(start)
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	t.Logf("prompt of %d tokens: %v with op offload, %v without", len(long), took[true].Round(time.Millisecond), took[false].Round(time.Millisecond))
	assert.Less(t, 2*took[true], took[false])
}

// Cancelling stops Generate at the next token, and a long prompt, which llama.cpp decodes in one
// call, inside that call: the abort callback is polled between the nodes of a CPU graph, many
// times per prompt. The partial result and the context's error come back, and the session stays
// usable. Nothing here reads a clock: the points of cancellation are tokens and the polls of
// the abort callback, llama.cpp's own progress.
//
// The model stays on the CPU, where the abort callback is polled, and the session computes with
// one thread. The prompt of 1024 tokens is one llama_decode call (of two 512-token ubatches).
func TestCancellationStopsWithinATokenOrAPartOfAPrompt(t *testing.T) {
	m := loadSlow(t)
	// Without op offload: with a GPU backend loaded, llama.cpp would compute the prompt's
	// batches on the GPU, in one graph between whose nodes nothing is polled.
	s, err := m.NewSession(llama.WithContextSize(2048), llama.WithThreads(1), llama.WithOpOffload(false))
	require.NoError(t, err)
	defer s.Close()
	long := slowPrompt()

	t.Run("from another goroutine during decode", func(t *testing.T) {
		require.NoError(t, s.Reset())
		const at = 10
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := s.Generate(ctx, llama.Text("slow down"), llama.GenerateOptions{MaxTokens: 100, IgnoreEOG: true}, func(tok llama.Token) bool {
			if tok.Index == at {
				go cancel()
				for !s.CancelRaised() { // the watch has seen the cancellation
					runtime.Gosched()
				}
			}
			return true
		})
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, llama.StopCancelled, res.Stop)
		assert.Equal(t, at+1, res.Tokens, "stopped before the next decode")
		assert.NotEmpty(t, res.Text)

		pos := s.Position()
		res, err = s.Generate(context.Background(), llama.Text(" on"), llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Tokens)
		assert.Equal(t, pos+res.PromptTokens-1+2, s.Position(), "the session goes on after the cancelled decode")
	})

	// How often a whole prompt polls the abort callback: the finer, the sooner a cancellation
	// inside it is seen.
	require.NoError(t, s.Reset())
	undo := s.TripAt(-1, func() {}) // counts polls, never trips
	_, err = s.Prefill(context.Background(), long)
	require.NoError(t, err)
	full := s.AbortPolls()
	undo()
	t.Logf("a prompt of %d tokens polls the abort callback %d times", len(long), full)
	require.GreaterOrEqual(t, full, int64(100), "a prompt is cancellable at many points")

	t.Run("inside a prompt", func(t *testing.T) {
		require.NoError(t, s.Reset())
		_, err := s.Prefill(context.Background(), long[:16])
		require.NoError(t, err)
		pos := s.Position()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		trip := full / 10
		defer s.TripAt(trip, cancel)()
		res, err := s.Prefill(ctx, long)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, trip, s.AbortPolls(), "llama.cpp stopped at the poll that saw the cancellation")
		assert.Equal(t, llama.StopCancelled, res.Stop)
		assert.Equal(t, pos, s.Position(), "a cancelled prefill leaves the session as it was")

		res, err = s.GenerateTokens(context.Background(), long[16:20], llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Tokens)
		assert.Equal(t, pos+4+2, s.Position())
	})

	t.Run("generate inside its prompt", func(t *testing.T) {
		require.NoError(t, s.Reset())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		defer s.TripAt(full/2, cancel)()
		res, err := s.GenerateTokens(ctx, long, llama.GenerateOptions{MaxTokens: 4}, nil)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, llama.StopCancelled, res.Stop)
		assert.Zero(t, res.Tokens)
		assert.Equal(t, 0, s.Position())
	})

	t.Run("prompt past its deadline", func(t *testing.T) {
		require.NoError(t, s.Reset())
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		res, err := s.GenerateTokens(ctx, long, llama.GenerateOptions{MaxTokens: 4}, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, llama.StopCancelled, res.Stop)
		assert.Zero(t, res.Tokens)
		assert.Equal(t, 0, s.Position())

		res, err = s.Generate(context.Background(), llama.Text("after the deadline"), llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Tokens)
	})
}
