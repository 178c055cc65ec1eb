package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/local-llm-bench/llmbench/gguf"
)

// loadMu serializes model loads: llama.cpp reports why a load failed only through its global
// log, which is captured for the duration of one load.
var loadMu sync.Mutex

// Model is a loaded model: its weights on the CPU or GPU and its vocabulary. It is safe for
// concurrent use; each goroutine generates through a Session of its own. Close frees the
// weights after closing the model's sessions. Its methods may be called from a session's token
// callback, Close excepted when the callback is one of this model's sessions' (ErrReentrant).
type Model struct {
	// mu guards the fields below; it is never held while waiting for a session's call.
	mu       sync.Mutex
	c        *C.struct_llama_model
	vocab    *C.struct_llama_vocab
	path     string
	info     Info
	cores    map[*sessionCore]struct{} // of the sessions not closed yet
	closing  bool                      // Close has begun: no new session
	loadTime time.Duration
	// placement is how the model was asked to be spread over the GPUs.
	placement modelConfig
	// special are the tokens the tokenizer matches by their text, read at first use.
	special     []specialToken
	specialOnce sync.Once
}

// Info describes a loaded model.
type Info struct {
	Path          string
	Architecture  string // general.architecture, e.g. "llama", "gemma2", "phi3"
	Name          string // general.name
	Description   string // llama.cpp's one-line description, e.g. "llama 135M Q4_1"
	Params        uint64 // parameter count
	SizeBytes     uint64 // bytes of all tensors
	FileBytes     int64  // bytes of the file
	FileType      FileType
	TrainContext  int
	Layers        int
	EmbeddingSize int
	Heads         int
	KVHeads       int
	SlidingWindow int
	VocabSize     int
	ChatTemplate  string
	LayersOnGPU   int // layers whose weights are on a GPU, the output layer counted as one
	LayersTotal   int // repeating layers plus the output layer
	GPU           bool
	BOS, EOS, EOT int32 // -1 when the model has none
	AddBOS        bool
	LoadedIn      time.Duration // wall time of llama.cpp's load
}

// Load validates the file at path and loads it. By default every layer goes to the GPU when a
// GPU backend is loaded (see LoadBackend) and the weights are memory-mapped. A file that is
// not a valid GGUF model gives ErrInvalidModel; a model that does not fit gives
// ErrOutOfMemory.
func Load(path string, opts ...ModelOption) (*Model, error) {
	cfg := defaultModelConfig()
	for _, o := range opts {
		o(&cfg)
	}
	f, err := gguf.Validate(path)
	if err != nil {
		if errors.Is(err, gguf.ErrInvalid) {
			return nil, fmt.Errorf("load %s: %w: %w", path, ErrInvalidModel, err)
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := ensureBackend(); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	gpu := HasGPU()

	params := C.llama_model_default_params()
	params.n_gpu_layers = C.int32_t(gpuLayers(cfg.gpuLayers, gpu))
	params.main_gpu = C.int32_t(cfg.mainGPU)
	params.split_mode = C.enum_llama_split_mode(cfg.splitMode)
	params.use_mmap = C.bool(cfg.mmap)
	if len(cfg.tensorSplit) > 0 {
		maxDev := int(C.llama_max_devices())
		if len(cfg.tensorSplit) > maxDev {
			return nil, fmt.Errorf("load %s: tensor split has %d shares, llama.cpp takes %d", path, len(cfg.tensorSplit), maxDev)
		}
		split := (*C.float)(C.calloc(C.size_t(maxDev), C.size_t(unsafe.Sizeof(C.float(0)))))
		defer C.free(unsafe.Pointer(split))
		shares := unsafe.Slice(split, maxDev)
		for i, v := range cfg.tensorSplit {
			shares[i] = C.float(v)
		}
		params.tensor_split = split
	}

	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))

	loadMu.Lock()
	stop := captureLog()
	start := time.Now()
	cm := C.llama_model_load_from_file(cpath, params)
	elapsed := time.Since(start)
	lines := stop()
	loadMu.Unlock()
	if cm == nil {
		return nil, fmt.Errorf("load %s: %w", path, loadError(lines))
	}

	m := &Model{c: cm, vocab: C.llama_model_get_vocab(cm), path: path, cores: map[*sessionCore]struct{}{}, loadTime: elapsed, placement: cfg}
	m.info = m.readInfo(f, int(params.n_gpu_layers), gpu, cfg.template)
	runtime.SetFinalizer(m, func(m *Model) { _ = m.Close() })
	return m, nil
}

func gpuLayers(asked int, gpu bool) int {
	if !gpu {
		return 0
	}
	if asked < 0 {
		return 999
	}
	return asked
}

// loadError classifies the reason llama.cpp logged for a failed load: memory it could not
// allocate, a file whose content it rejects, or another cause (a missing backend, a read error)
// reported as it is.
func loadError(lines []string) error {
	reason := explain(lines, "llama.cpp could not load the model")
	switch {
	case isOOM(reason):
		return fmt.Errorf("%w: %s", ErrOutOfMemory, reason)
	case containsAny(reason, "failed to open", "failed to read", "no such file", "permission denied", "mmap failed", "read error"):
		return errors.New(reason)
	case isInvalid(reason):
		return fmt.Errorf("%w: %s", ErrInvalidModel, reason)
	default:
		return errors.New(reason)
	}
}

func isOOM(reason string) bool {
	return containsAny(reason, "out of memory", "failed to allocate", "unable to allocate", "cudamalloc failed", "alloc failed")
}

// isInvalid recognizes what llama.cpp says of a file whose content it cannot use: its model
// loader reports every error it throws about the architecture, hyperparameters, vocabulary,
// keys and tensors as "error loading model", and a GGUF it cannot parse as "failed to load
// model from". Memory and I/O failures, which it reports the same way, are told apart first.
func isInvalid(reason string) bool {
	return containsAny(reason, "error loading model", "failed to load model from", "invalid model", "corrupted model")
}

func containsAny(s string, subs ...string) bool {
	s = strings.ToLower(s)
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (m *Model) readInfo(f *gguf.File, nGPULayers int, gpu bool, template string) Info {
	layers := int(C.llama_model_n_layer(m.c))
	info := Info{
		Path:          m.path,
		Architecture:  m.meta("general.architecture"),
		Name:          m.meta("general.name"),
		Description:   m.desc(),
		Params:        uint64(C.llama_model_n_params(m.c)),
		SizeBytes:     uint64(C.llama_model_size(m.c)),
		TrainContext:  int(C.llama_model_n_ctx_train(m.c)),
		Layers:        layers,
		EmbeddingSize: int(C.llama_model_n_embd(m.c)),
		Heads:         int(C.llama_model_n_head(m.c)),
		KVHeads:       int(C.llama_model_n_head_kv(m.c)),
		SlidingWindow: int(C.llama_model_n_swa(m.c)),
		VocabSize:     int(C.llama_vocab_n_tokens(m.vocab)),
		LayersTotal:   layers + 1,
		LayersOnGPU:   min(nGPULayers, layers+1),
		GPU:           gpu && nGPULayers > 0,
		BOS:           int32(C.llama_vocab_bos(m.vocab)),
		EOS:           int32(C.llama_vocab_eos(m.vocab)),
		EOT:           int32(C.llama_vocab_eot(m.vocab)),
		AddBOS:        bool(C.llama_vocab_get_add_bos(m.vocab)),
		LoadedIn:      m.loadTime,
	}
	if ft, err := strconv.Atoi(m.meta("general.file_type")); err == nil {
		info.FileType = FileType(ft)
	} else {
		info.FileType = -1
	}
	if f != nil {
		info.FileBytes = f.Size
	} else if st, err := os.Stat(m.path); err == nil {
		info.FileBytes = st.Size()
	}
	if tmpl := C.llama_model_chat_template(m.c, nil); tmpl != nil {
		info.ChatTemplate = C.GoString(tmpl)
	}
	if template != "" {
		info.ChatTemplate = template
	}
	return info
}

// meta reads a metadata value as a string; "" when absent.
func (m *Model) meta(key string) string {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	buf := make([]byte, 256)
	for {
		n := int(C.llama_model_meta_val_str(m.c, ckey, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))))
		if n < 0 {
			return ""
		}
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, n+1)
	}
}

func (m *Model) desc() string {
	buf := make([]byte, 256)
	n := int(C.llama_model_desc(m.c, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))))
	if n < 0 {
		return ""
	}
	return string(buf[:min(n, len(buf)-1)])
}

// Info describes the model. It is valid after Close.
func (m *Model) Info() Info { return m.info }

// Meta returns the value of a GGUF metadata key as llama.cpp renders it, and whether the key
// is present.
func (m *Model) Meta(key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return "", false, ErrClosed
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	var b [1]C.char
	if C.llama_model_meta_val_str(m.c, ckey, &b[0], 1) < 0 {
		return "", false, nil
	}
	return m.meta(key), true, nil
}

// Close frees the model's sessions, each once its call under way has stopped, then its
// weights. It is idempotent and safe on a nil Model. From inside the token callback of one of
// the model's sessions it returns ErrReentrant and closes nothing.
func (m *Model) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	if m.c == nil {
		m.mu.Unlock()
		return nil
	}
	g := goid()
	waits.mu.Lock()
	for c := range m.cores {
		if c.waitsFor(g) {
			waits.mu.Unlock()
			m.mu.Unlock()
			return fmt.Errorf("close model: %w", ErrReentrant)
		}
	}
	waits.mu.Unlock()
	m.closing = true
	cores := slices.Collect(maps.Keys(m.cores))
	m.mu.Unlock()

	for _, c := range cores {
		if err := c.close("close model"); err != nil {
			// A cycle of Closes formed since the check above: keep the model usable.
			m.mu.Lock()
			m.closing = false
			m.mu.Unlock()
			return err
		}
		m.forget(c)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return nil // a concurrent Close finished first
	}
	// No session was added once closing was set, and each one of the snapshot is freed.
	C.llama_model_free(m.c)
	m.c = nil
	m.vocab = nil
	m.cores = nil
	runtime.SetFinalizer(m, nil)
	return nil
}

// forget drops a closed session's core.
func (m *Model) forget(c *sessionCore) {
	m.mu.Lock()
	delete(m.cores, c)
	m.mu.Unlock()
}

// Tokenize turns text into token ids. addSpecial adds the BOS token where the model wants
// one; parseSpecial recognizes control tokens such as <start_of_turn> written in the text.
func (m *Model) Tokenize(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return nil, ErrClosed
	}
	return tokenize(m.vocab, text, addSpecial, parseSpecial)
}

func tokenize(vocab *C.struct_llama_vocab, text string, addSpecial, parseSpecial bool) ([]int32, error) {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	n := len(text) + 2
	for {
		toks := make([]int32, n)
		got := int(C.llama_tokenize(vocab, ctext, C.int32_t(len(text)), (*C.llama_token)(unsafe.Pointer(&toks[0])), C.int32_t(n), C.bool(addSpecial), C.bool(parseSpecial)))
		if got >= 0 {
			return toks[:got], nil
		}
		if -got <= n {
			return nil, fmt.Errorf("tokenize: llama.cpp returned %d", got)
		}
		n = -got
	}
}

// TokenText returns the text of one token as the model would print it (control tokens print
// as nothing); the bytes may be part of a UTF-8 sequence. An id outside the vocabulary is an
// error.
func (m *Model) TokenText(id int32) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return "", ErrClosed
	}
	// llama.cpp looks the id up with std::vector::at: one outside would end the process.
	if id < 0 || int(id) >= m.info.VocabSize {
		return "", fmt.Errorf("token text: token %d outside the vocabulary of %d", id, m.info.VocabSize)
	}
	return tokenPiece(m.vocab, id, make([]byte, 64)), nil
}

// tokenPiece renders a token with buf as scratch space, growing it when needed.
func tokenPiece(vocab *C.struct_llama_vocab, id int32, buf []byte) string {
	for {
		n := int(C.llama_token_to_piece(vocab, C.llama_token(id), (*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)), 0, false))
		if n >= 0 {
			return string(buf[:n])
		}
		buf = make([]byte, -n)
	}
}

// IsEOG reports whether a token ends generation (end of sequence or end of turn).
func (m *Model) IsEOG(id int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.c != nil && bool(C.llama_vocab_is_eog(m.vocab, C.llama_token(id)))
}
