package metrics

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

// AllWorkloads lists every workload in the order they are measured.
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

// Spec says what to measure on one model. The zero values of its fields mean the defaults,
// which bench.Run fills in; a Result holds the spec as run.
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

// Has reports whether the spec runs workload w.
func (s Spec) Has(w Workload) bool {
	for _, x := range s.Workloads {
		if x == w {
			return true
		}
	}
	return false
}
