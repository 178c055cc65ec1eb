package llama_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
)

// tinyModels writes each tiny synthetic architecture once per test binary.
var tinyModels = struct {
	once  sync.Once
	dir   string
	paths map[string]string
	err   error
}{}

func tinyModel(t testing.TB, id string) string {
	t.Helper()
	tinyModels.once.Do(func() {
		tinyModels.dir, tinyModels.err = os.MkdirTemp("", "llmbench-tiny-")
		if tinyModels.err != nil {
			return
		}
		tinyModels.paths = map[string]string{}
		for _, spec := range gguf.TinySpecs() {
			p := filepath.Join(tinyModels.dir, spec.ID+".gguf")
			if tinyModels.err = gguf.Write(p, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}); tinyModels.err != nil {
				return
			}
			tinyModels.paths[spec.ID] = p
		}
	})
	require.NoError(t, tinyModels.err)
	p, ok := tinyModels.paths[id]
	require.True(t, ok, "no tiny spec %s", id)
	return p
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyModels.dir != "" {
		os.RemoveAll(tinyModels.dir)
	}
	os.Exit(code)
}

var tinyIDs = []string{"tiny-llama", "tiny-gemma2", "tiny-phi3"}

func openTiny(t *testing.T, id string, opts ...llama.SessionOption) (*llama.Model, *llama.Session) {
	t.Helper()
	m, err := llama.Load(tinyModel(t, id))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	s, err := m.NewSession(append([]llama.SessionOption{llama.WithContextSize(256)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

func TestTinyModelsGenerateExactlyN(t *testing.T) {
	const n = 24
	for _, id := range tinyIDs {
		t.Run(id, func(t *testing.T) {
			m, s := openTiny(t, id)
			info := m.Info()
			spec, _ := gguf.TinySpec(id)
			assert.Equal(t, spec.Arch, info.Architecture)
			assert.Equal(t, spec.Layers, info.Layers)
			assert.Equal(t, spec.Vocab, info.VocabSize)
			assert.Equal(t, spec.Embd, info.EmbeddingSize)
			assert.Equal(t, llama.FileTypeF16, info.FileType)

			var got []llama.Token
			res, err := s.Generate(context.Background(), llama.Text("The quick brown fox"), llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true},
				func(tok llama.Token) bool {
					got = append(got, tok)
					return true
				})
			require.NoError(t, err)
			assert.Equal(t, n, res.Tokens)
			assert.Len(t, got, n)
			assert.Equal(t, llama.StopMaxTokens, res.Stop)
			for i, tok := range got {
				assert.Equal(t, i, tok.Index)
				assert.True(t, tok.ID >= 0 && int(tok.ID) < info.VocabSize, "token id %d", tok.ID)
			}
			assert.Positive(t, res.PromptTokens)
			assert.Positive(t, res.PromptTime)
			// llama.cpp decoded the prompt once and each generated token but the last, which the
			// session keeps for the next call.
			assert.Equal(t, res.PromptTokens, res.Perf.PromptEvalTokens)
			assert.Equal(t, n-1, res.Perf.EvalTokens)
			assert.Positive(t, res.Perf.EvalMs)
			assert.Equal(t, res.PromptTokens+n, s.Position())
		})
	}
}

func TestGreedyIsDeterministicAndResetWorks(t *testing.T) {
	_, s := openTiny(t, "tiny-llama")
	opts := llama.GenerateOptions{MaxTokens: 16, IgnoreEOG: true}
	first, err := s.Generate(context.Background(), llama.Text("hello world"), opts, nil)
	require.NoError(t, err)
	require.NoError(t, s.Reset())
	assert.Equal(t, 0, s.Position())
	second, err := s.Generate(context.Background(), llama.Text("hello world"), opts, nil)
	require.NoError(t, err)
	assert.Equal(t, first.Text, second.Text)
	assert.Equal(t, first.PromptTokens, second.PromptTokens)
}

func TestGreedyPicksWhatTheSamplerChainPicksWithTopK1(t *testing.T) {
	// top-k 1 leaves the sampler chain a single candidate, the largest logit, so llama.cpp's
	// own samplers must agree with the binding's argmax token for token.
	for _, id := range tinyIDs {
		t.Run(id, func(t *testing.T) {
			_, s := openTiny(t, id)
			greedy, err := s.Generate(context.Background(), llama.Text("compare the two"), llama.GenerateOptions{MaxTokens: 24, IgnoreEOG: true}, nil)
			require.NoError(t, err)
			require.NoError(t, s.Reset())
			top1, err := s.Generate(context.Background(), llama.Text("compare the two"), llama.GenerateOptions{MaxTokens: 24, IgnoreEOG: true, Temperature: 1, TopK: 1, Seed: 3}, nil)
			require.NoError(t, err)
			assert.Equal(t, top1.Text, greedy.Text)
		})
	}
}

func TestSamplingWithSeedIsReproducible(t *testing.T) {
	_, s := openTiny(t, "tiny-gemma2")
	opts := llama.GenerateOptions{MaxTokens: 16, IgnoreEOG: true, Temperature: 1.5, TopK: 100, TopP: 0.95, MinP: 0.01, Seed: 7}
	a, err := s.Generate(context.Background(), llama.Text("once upon a time"), opts, nil)
	require.NoError(t, err)
	require.NoError(t, s.Reset())
	b, err := s.Generate(context.Background(), llama.Text("once upon a time"), opts, nil)
	require.NoError(t, err)
	assert.Equal(t, a.Text, b.Text)
	assert.Equal(t, 16, a.Tokens)
}

func TestCallbackStopsEarly(t *testing.T) {
	_, s := openTiny(t, "tiny-phi3")
	calls := 0
	res, err := s.Generate(context.Background(), llama.Text("count"), llama.GenerateOptions{MaxTokens: 50, IgnoreEOG: true}, func(llama.Token) bool {
		calls++
		return calls < 3
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
	assert.Equal(t, 3, res.Tokens)
	assert.Equal(t, llama.StopCallback, res.Stop)

	// The session goes on from where it stopped.
	pos := s.Position()
	res, err = s.Generate(context.Background(), llama.Text(" more"), llama.GenerateOptions{MaxTokens: 2, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, pos+res.PromptTokens-1+2, s.Position(), "the pending token is decoded first")
}

func TestCancelDuringDecode(t *testing.T) {
	_, s := openTiny(t, "tiny-llama")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := s.Generate(ctx, llama.Text("cancel me"), llama.GenerateOptions{MaxTokens: 100, IgnoreEOG: true}, func(tok llama.Token) bool {
		if tok.Index == 4 {
			cancel()
		}
		return true
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, llama.StopCancelled, res.Stop)
	assert.Equal(t, 5, res.Tokens, "the partial result holds the tokens generated before cancellation")
	assert.NotEmpty(t, res.Text)

	// A cancelled context gives nothing and leaves the session usable.
	_, err = s.Generate(ctx, llama.Text("again"), llama.GenerateOptions{MaxTokens: 3}, nil)
	require.ErrorIs(t, err, context.Canceled)
	res, err = s.Generate(context.Background(), llama.Text("again"), llama.GenerateOptions{MaxTokens: 3, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Tokens)
}

func TestStopStrings(t *testing.T) {
	_, s := openTiny(t, "tiny-llama")
	full, err := s.Generate(context.Background(), llama.Text("abc"), llama.GenerateOptions{MaxTokens: 20, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(full.Text), 4)
	// Stop at a piece of the text greedy decoding is known to produce.
	stop := full.Text[2:4]
	require.NoError(t, s.Reset())
	res, err := s.Generate(context.Background(), llama.Text("abc"), llama.GenerateOptions{MaxTokens: 20, IgnoreEOG: true, Stop: []string{stop}}, nil)
	require.NoError(t, err)
	assert.Equal(t, llama.StopString, res.Stop)
	assert.Equal(t, full.Text[:strings.Index(full.Text, stop)], res.Text)
}

func TestContextFullIsCheckedBeforeDecoding(t *testing.T) {
	_, s := openTiny(t, "tiny-llama", llama.WithContextSize(64))
	n := s.ContextSize()
	require.GreaterOrEqual(t, n, 64, "llama.cpp may round the context up, never down")
	_, err := s.Generate(context.Background(), llama.Text("short"), llama.GenerateOptions{MaxTokens: n}, nil)
	require.ErrorIs(t, err, llama.ErrContextFull)
	assert.Equal(t, 0, s.Position(), "nothing was decoded")

	long := strings.Repeat("word ", n)
	_, err = s.Generate(context.Background(), llama.Text(long), llama.GenerateOptions{MaxTokens: 1}, nil)
	require.ErrorIs(t, err, llama.ErrContextFull)
	assert.Equal(t, 0, s.Position())

	// MaxTokens 0 generates until the context is full.
	res, err := s.Generate(context.Background(), llama.Text("short"), llama.GenerateOptions{IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, llama.StopContextFull, res.Stop)
	assert.Equal(t, n, res.PromptTokens+res.Tokens)
	_, err = s.Generate(context.Background(), llama.Text("more"), llama.GenerateOptions{MaxTokens: 1}, nil)
	require.ErrorIs(t, err, llama.ErrContextFull)
}

func TestGenerateTokensAndPrefill(t *testing.T) {
	m, s := openTiny(t, "tiny-gemma2")
	toks, err := m.Tokenize("the same words again and again", true, false)
	require.NoError(t, err)
	require.NotEmpty(t, toks)
	pre, err := s.Prefill(context.Background(), toks)
	require.NoError(t, err)
	assert.Equal(t, len(toks), s.Position())
	assert.Equal(t, llama.StopPromptOnly, pre.Stop)
	res, err := s.GenerateTokens(context.Background(), []int32{toks[1]}, llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, 8, res.Tokens)
	assert.Equal(t, len(toks)+1+8, s.Position())
}

func TestConcurrentGenerateOnOneSessionIsRefused(t *testing.T) {
	_, s := openTiny(t, "tiny-llama")
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Generate(context.Background(), llama.Text("first"), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, func(tok llama.Token) bool {
			if tok.Index == 0 {
				close(started)
				<-release
			}
			return true
		})
		done <- err
	}()
	<-started
	_, err := s.Generate(context.Background(), llama.Text("second"), llama.GenerateOptions{MaxTokens: 4}, nil)
	require.ErrorIs(t, err, llama.ErrBusy)
	require.ErrorIs(t, s.Reset(), llama.ErrBusy)
	close(release)
	require.NoError(t, <-done)
}

func TestSessionsOfOneModelRunConcurrently(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-phi3"))
	require.NoError(t, err)
	defer m.Close()
	var wg sync.WaitGroup
	texts := make([]string, 3)
	errs := make([]error, 3)
	for i := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := m.NewSession(llama.WithContextSize(128), llama.WithThreads(1))
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			res, err := s.Generate(context.Background(), llama.Text("same prompt"), llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, nil)
			texts[i], errs[i] = res.Text, err
		}()
	}
	wg.Wait()
	for i := range texts {
		require.NoError(t, errs[i])
		assert.Equal(t, texts[0], texts[i])
	}
}

func TestCloseIsIdempotentAndUseAfterCloseFails(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	s, err := m.NewSession(llama.WithContextSize(64))
	require.NoError(t, err)
	s2, err := m.NewSession(llama.WithContextSize(64))
	require.NoError(t, err)

	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err = s.Generate(context.Background(), llama.Text("x"), llama.GenerateOptions{MaxTokens: 1}, nil)
	require.ErrorIs(t, err, llama.ErrClosed)
	require.ErrorIs(t, s.Reset(), llama.ErrClosed)

	// Closing the model closes the sessions it still has.
	require.NoError(t, m.Close())
	require.NoError(t, m.Close())
	_, err = s2.Generate(context.Background(), llama.Text("x"), llama.GenerateOptions{MaxTokens: 1}, nil)
	require.ErrorIs(t, err, llama.ErrClosed)
	require.NoError(t, s2.Close())
	_, err = m.NewSession()
	require.ErrorIs(t, err, llama.ErrClosed)
	_, err = m.Tokenize("x", true, true)
	require.ErrorIs(t, err, llama.ErrClosed)
	assert.Equal(t, "tiny-llama", m.Info().Name, "Info stays readable")

	var nilModel *llama.Model
	var nilSession *llama.Session
	assert.NoError(t, nilModel.Close())
	assert.NoError(t, nilSession.Close())
}

func TestKVCacheLargerThanMemoryIsRefused(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	// 2 layers x 2 KV heads x 64 x 2 (K and V) x 2 bytes = 1 KiB a token: 2^31 tokens is 2 TiB.
	_, err = m.NewSession(llama.WithContextSize(1 << 31))
	require.ErrorIs(t, err, llama.ErrOutOfMemory)
	assert.Contains(t, err.Error(), "available")
	// The model goes on working.
	s, err := m.NewSession(llama.WithContextSize(64))
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestSessionOptionsAreChecked(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-llama"))
	require.NoError(t, err)
	defer m.Close()
	for name, opt := range map[string]llama.SessionOption{
		"negative context": llama.WithContextSize(-1),
		"zero threads":     llama.WithThreads(0),
		"zero batch":       llama.WithBatchSize(0),
		"unknown kv type":  llama.WithKVCacheType("f8"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := m.NewSession(opt)
			require.Error(t, err)
		})
	}
	t.Run("quantized kv cache with flash attention", func(t *testing.T) {
		s, err := m.NewSession(llama.WithContextSize(64), llama.WithKVCacheType(llama.KVQ8_0), llama.WithFlashAttention(llama.FlashOn))
		require.NoError(t, err)
		defer s.Close()
		res, err := s.Generate(context.Background(), llama.Text("kv"), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
		require.NoError(t, err)
		assert.Equal(t, 4, res.Tokens)
	})
}

func TestQuantize(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny-q4km.gguf")
	require.NoError(t, llama.Quantize(tinyModel(t, "tiny-gemma2"), out, llama.FileTypeQ4_K_M))
	in, err := os.Stat(tinyModel(t, "tiny-gemma2"))
	require.NoError(t, err)
	q, err := os.Stat(out)
	require.NoError(t, err)
	assert.Less(t, q.Size(), in.Size()/2)

	m, err := llama.Load(out)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, llama.FileTypeQ4_K_M, m.Info().FileType)
	s, err := m.NewSession(llama.WithContextSize(64))
	require.NoError(t, err)
	defer s.Close()
	res, err := s.Generate(context.Background(), llama.Text("quantized"), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Tokens)

	err = llama.Quantize(filepath.Join(t.TempDir(), "missing.gguf"), out+"2", llama.FileTypeQ4_K_M)
	require.Error(t, err)
}

func TestFileTypeNames(t *testing.T) {
	ft, err := llama.ParseFileType("q4_k_m")
	require.NoError(t, err)
	assert.Equal(t, llama.FileTypeQ4_K_M, ft)
	assert.Equal(t, "Q4_K_M", ft.String())
	_, err = llama.ParseFileType("Q9")
	assert.ErrorContains(t, err, "Q4_K_M")
	assert.Equal(t, "ftype(99)", llama.FileType(99).String())
}

func TestChatTemplates(t *testing.T) {
	msgs := []llama.Message{{Role: "user", Content: "Hi"}}
	for id, marker := range map[string]string{"tiny-gemma2": "<start_of_turn>", "tiny-phi3": "<|user|>", "tiny-llama": "[INST]"} {
		t.Run(id, func(t *testing.T) {
			m, err := llama.Load(tinyModel(t, id))
			require.NoError(t, err)
			defer m.Close()
			p, err := m.ChatPrompt(msgs)
			require.NoError(t, err)
			assert.Contains(t, p.String(), marker)
			assert.Contains(t, p.String(), "Hi")
		})
	}
	_, err := llama.ApplyTemplate("", msgs, true)
	require.ErrorIs(t, err, llama.ErrNoChatTemplate)
	_, err = llama.ApplyTemplate("chatml", nil, true)
	require.Error(t, err)
	_, err = llama.ApplyTemplate("{{ something llama.cpp cannot recognize }}", msgs, true)
	require.Error(t, err)
	p, err := llama.ApplyTemplate("chatml", msgs, true)
	require.NoError(t, err)
	assert.Equal(t, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", p.String())
}

func TestGivenChatTemplate(t *testing.T) {
	msgs := []llama.Message{{Role: "user", Content: "Hi"}}
	// The ggufttest model carries no template: without one given, ChatPrompt says so.
	bare, err := llama.Load(ggufttest.Valid(t, t.TempDir()))
	require.NoError(t, err)
	defer bare.Close()
	assert.Empty(t, bare.Info().ChatTemplate)
	_, err = bare.ChatPrompt(msgs)
	require.ErrorIs(t, err, llama.ErrNoChatTemplate)

	// A given template replaces the file's own.
	m, err := llama.Load(tinyModel(t, "tiny-llama"), llama.WithChatTemplate("chatml"))
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, "chatml", m.Info().ChatTemplate)
	p, err := m.ChatPrompt(msgs)
	require.NoError(t, err)
	assert.Equal(t, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", p.String())
}

func TestControlTokensTokenizeAsOne(t *testing.T) {
	m, err := llama.Load(tinyModel(t, "tiny-gemma2"))
	require.NoError(t, err)
	defer m.Close()
	toks, err := m.Tokenize("<start_of_turn>user", false, true)
	require.NoError(t, err)
	require.NotEmpty(t, toks)
	assert.Equal(t, int32(106), toks[0])
	plain, err := m.Tokenize("<start_of_turn>user", false, false)
	require.NoError(t, err)
	assert.Greater(t, len(plain), len(toks), "without parsing specials the marker is plain text")
	assert.True(t, m.IsEOG(107), "<end_of_turn> ends generation")
	text, err := m.TokenText(toks[len(toks)-1])
	require.NoError(t, err)
	assert.NotEmpty(t, text)
}

func TestDevicesListTheCPU(t *testing.T) {
	devs, err := llama.Devices()
	require.NoError(t, err)
	require.NotEmpty(t, devs)
	var cpu bool
	for _, d := range devs {
		cpu = cpu || d.Type == llama.DeviceCPU
	}
	assert.True(t, cpu, "%+v", devs)
	if !llama.HasGPU() {
		t.Log("no GPU backend loaded: CPU only (set LLMBENCH_BACKEND_DIR or make cuda for a GPU)")
	}
	assert.NotEmpty(t, llama.SystemInfo())
}

func TestLoadBackendErrors(t *testing.T) {
	err := llama.LoadBackend(filepath.Join(t.TempDir(), "nothing-here"))
	require.ErrorIs(t, err, llama.ErrBackend)
	err = llama.LoadBackend(t.TempDir())
	require.ErrorIs(t, err, llama.ErrBackend)
	assert.Contains(t, err.Error(), "libggml-cuda.so")
	notLib := filepath.Join(t.TempDir(), "libggml-cuda.so")
	require.NoError(t, os.WriteFile(notLib, []byte("not a shared object"), 0o644))
	err = llama.LoadBackend(notLib)
	require.ErrorIs(t, err, llama.ErrBackend)
}

// defaultModel returns the default small real model, skipping when it has not been fetched.
func defaultModel(t *testing.T) string {
	t.Helper()
	p := models.DefaultModelPath()
	if _, err := os.Stat(p); err != nil {
		t.Skipf("default model %s not present (make models fetches it): %v", p, err)
	}
	return p
}

func TestDefaultModelInfo(t *testing.T) {
	m, err := llama.Load(defaultModel(t))
	require.NoError(t, err)
	defer m.Close()
	info := m.Info()
	assert.Equal(t, "llama", info.Architecture)
	assert.Contains(t, strings.ToLower(info.Name), "smollm2")
	assert.Equal(t, llama.FileTypeQ4_1, info.FileType)
	assert.Equal(t, 30, info.Layers)
	assert.Equal(t, 576, info.EmbeddingSize)
	assert.Equal(t, 49152, info.VocabSize)
	assert.InDelta(t, 134.5e6, float64(info.Params), 2e6)
	assert.Equal(t, int64(98362432), info.FileBytes)
	assert.Greater(t, info.SizeBytes, uint64(50<<20))
	assert.Contains(t, info.ChatTemplate, "<|im_start|>")
	assert.Positive(t, info.LoadedIn)
}

func TestDefaultModelChatReplyStopsAtEndOfGeneration(t *testing.T) {
	m, err := llama.Load(defaultModel(t))
	require.NoError(t, err)
	defer m.Close()
	s, err := m.NewSession(llama.WithContextSize(1024))
	require.NoError(t, err)
	defer s.Close()
	prompt, err := m.ChatPrompt([]llama.Message{{Role: "user", Content: "What is the capital of France? Answer in one short sentence."}})
	require.NoError(t, err)
	var streamed strings.Builder
	res, err := s.Generate(context.Background(), prompt, llama.GenerateOptions{MaxTokens: 200}, func(tok llama.Token) bool {
		streamed.WriteString(tok.Text)
		return true
	})
	require.NoError(t, err)
	assert.Equal(t, llama.StopEOG, res.Stop, "reply: %q", res.Text)
	assert.NotEmpty(t, strings.TrimSpace(res.Text))
	assert.Equal(t, streamed.String(), res.Text)
	assert.Contains(t, res.Text, "Paris")
}

func TestMissingAndMalformedFilesAreInvalid(t *testing.T) {
	dir := t.TempDir()
	_, err := llama.Load(filepath.Join(dir, "missing.gguf"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = llama.Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "directory")
	empty := filepath.Join(dir, "empty.gguf")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = llama.Load(empty)
	require.ErrorIs(t, err, llama.ErrInvalidModel)
}

func TestErrorsWrapSentinels(t *testing.T) {
	_, err := llama.Load(filepath.Join(t.TempDir(), "x.gguf"))
	assert.False(t, errors.Is(err, llama.ErrInvalidModel), "a missing file is not an invalid model")
}
