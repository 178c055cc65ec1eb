package bench

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/local-llm-bench/llmbench/llama"
)

// Workload names a kind of measurement.
type Workload string

// The workloads.
const (
	// WorkloadChat sends each baseline prompt through the model's chat template and generates
	// greedily until end of generation or ChatMaxTokens: latency per response and tokens/s, as
	// an application sees them.
	WorkloadChat Workload = "chat"
	// WorkloadPrompt processes PromptTokens token ids in one go (llama-bench's pp512).
	WorkloadPrompt Workload = "prompt"
	// WorkloadGenerate generates GenTokens tokens greedily, ignoring end of generation, from
	// an empty context (llama-bench's tg128).
	WorkloadGenerate Workload = "generate"
	// WorkloadDepth generates GenTokens tokens after each of Depths tokens already in the KV
	// cache, where they fit in the model's context.
	WorkloadDepth Workload = "depth"
)

// AllWorkloads lists every workload in the order Run measures them.
var AllWorkloads = []Workload{WorkloadPrompt, WorkloadGenerate, WorkloadDepth, WorkloadChat}

// Defaults of a Spec.
const (
	DefaultWarmup        = 1
	DefaultRepetitions   = 5
	DefaultPromptTokens  = 512
	DefaultGenTokens     = 128
	DefaultChatMaxTokens = 256
)

// DefaultDepths are the context depths of WorkloadDepth.
var DefaultDepths = []int{0, 1024, 4096}

// Spec says what to measure on one model. The zero values of its fields mean the defaults.
type Spec struct {
	// Name labels the results; default: the model file's name without .gguf.
	Name string `json:"name"`
	// Model is the path of the GGUF file.
	Model string `json:"model"`

	// CPUOnly keeps every layer on the CPU; otherwise GPULayers go to the GPU (0: all).
	CPUOnly   bool `json:"cpu_only"`
	GPULayers int  `json:"gpu_layers"`
	// ContextSize of the session; default: what the workloads need, at least 4096, capped by
	// the model's training context.
	ContextSize int `json:"context_size"`
	BatchSize   int `json:"batch_size"`
	UBatchSize  int `json:"ubatch_size"`
	// Threads for the CPU; default llama.DefaultThreads().
	Threads int `json:"threads"`
	// FlashAttention is "auto" (default), "on" or "off".
	FlashAttention string `json:"flash_attention"`
	// KVCacheType is "f16" (default), "q8_0" or "q4_0".
	KVCacheType string `json:"kv_cache_type"`
	// ChatTemplate replaces the model file's chat template, or gives one to a file without
	// (llama.WithChatTemplate).
	ChatTemplate string `json:"chat_template,omitempty"`

	// Workloads to run; default AllWorkloads.
	Workloads []Workload `json:"workloads"`
	// Warmup runs of each workload before measuring; default 1, -1 for none.
	Warmup int `json:"warmup"`
	// Repetitions measured of each workload; default 5.
	Repetitions int `json:"repetitions"`
	// PromptTokens of WorkloadPrompt; default 512.
	PromptTokens int `json:"prompt_tokens"`
	// GenTokens of WorkloadGenerate and WorkloadDepth; default 128.
	GenTokens int `json:"gen_tokens"`
	// Depths of WorkloadDepth; default DefaultDepths.
	Depths []int `json:"depths"`
	// ChatMaxTokens caps each reply of WorkloadChat; default 256.
	ChatMaxTokens int `json:"chat_max_tokens"`
	// Prompts of WorkloadChat; default BaselinePrompts(). ChatPrompts > 0 keeps the first ones.
	Prompts     []Prompt `json:"-"`
	ChatPrompts int      `json:"chat_prompts"`
	// SkipHash leaves the model's SHA-256 out of the metadata (hashing reads the whole file).
	SkipHash bool `json:"skip_hash"`
	// Seed of the random token ids of the prompt and depth workloads.
	Seed uint64 `json:"seed"`
}

// withDefaults returns the spec with every default filled in.
func (s Spec) withDefaults() (Spec, error) {
	if s.Model == "" {
		return s, fmt.Errorf("spec: no model path")
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(s.Model), ".gguf")
	}
	if len(s.Workloads) == 0 {
		s.Workloads = AllWorkloads
	}
	for _, w := range s.Workloads {
		switch w {
		case WorkloadChat, WorkloadPrompt, WorkloadGenerate, WorkloadDepth:
		default:
			return s, fmt.Errorf("spec %s: unknown workload %q", s.Name, w)
		}
	}
	switch {
	case s.Warmup == 0:
		s.Warmup = DefaultWarmup
	case s.Warmup < 0:
		s.Warmup = 0
	}
	if s.Repetitions == 0 {
		s.Repetitions = DefaultRepetitions
	}
	if s.Repetitions < 0 {
		return s, fmt.Errorf("spec %s: %d repetitions", s.Name, s.Repetitions)
	}
	if s.PromptTokens == 0 {
		s.PromptTokens = DefaultPromptTokens
	}
	if s.GenTokens == 0 {
		s.GenTokens = DefaultGenTokens
	}
	if s.PromptTokens < 2 || s.GenTokens < 2 {
		return s, fmt.Errorf("spec %s: prompt %d and gen %d tokens must be at least 2", s.Name, s.PromptTokens, s.GenTokens)
	}
	if s.Depths == nil {
		s.Depths = DefaultDepths
	}
	if s.ChatMaxTokens == 0 {
		s.ChatMaxTokens = DefaultChatMaxTokens
	}
	if s.Threads == 0 {
		s.Threads = llama.DefaultThreads()
	}
	if s.FlashAttention == "" {
		s.FlashAttention = "auto"
	}
	if s.KVCacheType == "" {
		s.KVCacheType = string(llama.KVF16)
	}
	if _, err := parseFlash(s.FlashAttention); err != nil {
		return s, fmt.Errorf("spec %s: %w", s.Name, err)
	}
	if s.Prompts == nil {
		p, err := BaselinePrompts()
		if err != nil {
			return s, err
		}
		s.Prompts = p
	}
	if s.ChatPrompts > 0 && s.ChatPrompts < len(s.Prompts) {
		s.Prompts = s.Prompts[:s.ChatPrompts]
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	return s, nil
}

func (s Spec) has(w Workload) bool {
	for _, x := range s.Workloads {
		if x == w {
			return true
		}
	}
	return false
}

func parseFlash(s string) (llama.FlashAttention, error) {
	switch s {
	case "auto":
		return llama.FlashAuto, nil
	case "on":
		return llama.FlashOn, nil
	case "off":
		return llama.FlashOff, nil
	}
	return 0, fmt.Errorf("flash attention %q: want auto, on or off", s)
}

// ModelOptions are the llama options the spec loads its model with.
func (s Spec) ModelOptions() []llama.ModelOption {
	var opts []llama.ModelOption
	switch {
	case s.CPUOnly:
		opts = append(opts, llama.WithGPULayers(0))
	case s.GPULayers > 0:
		opts = append(opts, llama.WithGPULayers(s.GPULayers))
	}
	if s.ChatTemplate != "" {
		opts = append(opts, llama.WithChatTemplate(s.ChatTemplate))
	}
	return opts
}

// sessionOptions turns the spec into llama's session options for a context of nCtx tokens.
func (s Spec) sessionOptions(nCtx int) []llama.SessionOption {
	fa, _ := parseFlash(s.FlashAttention)
	opts := []llama.SessionOption{
		llama.WithContextSize(nCtx),
		llama.WithThreads(s.Threads),
		llama.WithFlashAttention(fa),
		llama.WithKVCacheType(llama.KVCacheType(s.KVCacheType)),
	}
	if s.BatchSize > 0 {
		opts = append(opts, llama.WithBatchSize(s.BatchSize))
	}
	if s.UBatchSize > 0 {
		opts = append(opts, llama.WithUBatchSize(s.UBatchSize))
	}
	return opts
}

// contextFor is the context a session needs for the spec's workloads on a model trained
// with trainCtx tokens.
func (s Spec) contextFor(trainCtx int) int {
	if s.ContextSize > 0 {
		return s.ContextSize
	}
	need := 4096
	if s.has(WorkloadPrompt) {
		need = max(need, s.PromptTokens)
	}
	if s.has(WorkloadDepth) {
		for _, d := range s.Depths {
			need = max(need, d+s.GenTokens+1)
		}
	}
	if trainCtx > 0 {
		need = min(need, trainCtx)
	}
	return need
}
