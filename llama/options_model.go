package llama

// SplitMode says how a model is spread over several GPUs.
type SplitMode int

// Split modes, as llama.cpp's llama_split_mode.
const (
	// SplitNone keeps the whole model on the main GPU.
	SplitNone SplitMode = 0
	// SplitLayer spreads layers and KV cache over the GPUs (llama.cpp's default).
	SplitLayer SplitMode = 1
	// SplitRow splits tensors by rows where the backend supports it.
	SplitRow SplitMode = 2
)

// AllLayers asks for every layer on the GPU.
const AllLayers = -1

type modelConfig struct {
	gpuLayers   int
	mainGPU     int
	splitMode   SplitMode
	tensorSplit []float32
	mmap        bool
	template    string
}

func defaultModelConfig() modelConfig {
	return modelConfig{gpuLayers: AllLayers, splitMode: SplitLayer, mmap: true}
}

// ModelOption configures Load.
type ModelOption func(*modelConfig)

// WithGPULayers sets how many layers go to the GPU: AllLayers (the default) or a count. It has
// no effect when no GPU backend is loaded.
func WithGPULayers(n int) ModelOption { return func(c *modelConfig) { c.gpuLayers = n } }

// WithMainGPU picks the GPU, by index among the GPUs, that holds the model with SplitNone.
func WithMainGPU(i int) ModelOption { return func(c *modelConfig) { c.mainGPU = i } }

// WithSplitMode sets how the model is spread over several GPUs.
func WithSplitMode(m SplitMode) ModelOption { return func(c *modelConfig) { c.splitMode = m } }

// WithTensorSplit sets the share of the model each GPU gets, in device order.
func WithTensorSplit(shares []float32) ModelOption {
	return func(c *modelConfig) { c.tensorSplit = append([]float32(nil), shares...) }
}

// WithMmap says whether the weights are memory-mapped (the default) or read into memory.
func WithMmap(on bool) ModelOption { return func(c *modelConfig) { c.mmap = on } }

// WithChatTemplate gives the chat template ChatPrompt uses: a Jinja template as GGUF files
// carry them, or the name of one of llama.cpp's built-in templates ("chatml", "gemma",
// "phi3", "llama2", ...). It replaces the file's own; it is how a model whose file has no
// template gets one.
func WithChatTemplate(template string) ModelOption {
	return func(c *modelConfig) { c.template = template }
}
