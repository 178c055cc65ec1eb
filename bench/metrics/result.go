package metrics

import "time"

// Schema identifies the layout of Result in JSON; it changes when a field changes meaning.
const Schema = "llmbench/result/v1"

// Result is everything Run measured on one model, JSON-serializable.
type Result struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Spec is the spec as run, with its defaults filled in.
	Spec  Spec      `json:"spec"`
	Model ModelInfo `json:"model"`
	Meta  Metadata  `json:"meta"`
	Load  Load      `json:"load"`
	// Measures holds one entry per measured workload and depth, in the order run.
	Measures []Measure `json:"measures"`
	// Chat holds the chat workload per prompt.
	Chat []ChatPrompt `json:"chat,omitempty"`
	// Serving is the model serving several users at once (bench.Serve); nil when not measured.
	Serving *Serving `json:"serving,omitempty"`
	// Skipped says what was not measured and why (a depth that does not fit, a model
	// without a chat template).
	Skipped []string `json:"skipped,omitempty"`
	// PeakRSSBytes is the process's peak resident memory from the first load to the end of
	// the last workload, as the kernel counts it (VmHWM, reset at the start); 0 where it could
	// not be read, and RSSUnavailable says why. On the CPU it is the model's memory: weights,
	// KV cache and compute buffers.
	PeakRSSBytes   uint64 `json:"peak_rss_bytes,omitempty"`
	RSSUnavailable string `json:"rss_unavailable,omitempty"`
	// Fit is the model's fit sweep (bench.RunFit), when one ran.
	Fit *Fit `json:"fit,omitempty"`
	// Complete is false when the run was interrupted or failed part way; Error says why.
	Complete   bool      `json:"complete"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// Measure returns the measure with the given label ("pp512", "tg128", "tg128@d1024",
// "chat"), or nil.
func (r *Result) Measure(label string) *Measure { return findMeasure(r.Measures, label) }

func findMeasure(ms []Measure, label string) *Measure {
	for i := range ms {
		if ms[i].Label == label {
			return &ms[i]
		}
	}
	return nil
}

// ModelInfo describes the model file and how it was loaded.
type ModelInfo struct {
	Path         string `json:"path"`
	FileBytes    int64  `json:"file_bytes"`
	SHA256       string `json:"sha256,omitempty"`
	Architecture string `json:"architecture"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Params       uint64 `json:"params"`
	// WeightsBytes is the size of the tensors, what decoding reads per token.
	WeightsBytes uint64 `json:"weights_bytes"`
	FileType     string `json:"file_type"`
	Layers       int    `json:"layers"`
	LayersOnGPU  int    `json:"layers_on_gpu"`
	LayersTotal  int    `json:"layers_total"`
	TrainContext int    `json:"train_context"`
	ContextSize  int    `json:"context_size"` // of the measuring session
	VocabSize    int    `json:"vocab_size"`
	ChatTemplate bool   `json:"chat_template"`
}

// Load is the model's load time: the first load in the process (cold: weights may still come
// from disk, unless the OS has them cached from an earlier process) and a second one right
// after (warm).
type Load struct {
	ColdMs float64 `json:"cold_ms"`
	WarmMs float64 `json:"warm_ms"`
}

// Measure aggregates the repetitions of one workload.
type Measure struct {
	Workload Workload `json:"workload"`
	// Label is llama-bench style: "pp512", "tg128", "tg128@d4096", or "chat".
	Label string `json:"label"`
	// Depth is the number of tokens in the KV cache before the measured call.
	Depth int `json:"depth"`
	Reps  int `json:"reps"`

	PromptTokens Stat `json:"prompt_tokens"`
	Tokens       Stat `json:"tokens"`
	// TTFTMs is the time from the call to the first token's callback.
	TTFTMs Stat `json:"ttft_ms"`
	// PromptTPS is prompt tokens ÷ the wall time of their decoding, on this side of the binding.
	PromptTPS Stat `json:"prompt_tps"`
	// DecodeTPS is (tokens − 1) ÷ the time from the first token's callback to the last's.
	DecodeTPS Stat `json:"decode_tps"`
	// E2EMs is the time from the call until it returned.
	E2EMs Stat `json:"e2e_ms"`
	// ITLMs pools the intervals between consecutive token callbacks of all repetitions.
	ITLMs Stat `json:"itl_ms"`
	// EnginePromptTPS and EngineEvalTPS are llama.cpp's own rates (llama_perf_context).
	EnginePromptTPS Stat `json:"engine_prompt_tps"`
	EngineEvalTPS   Stat `json:"engine_eval_tps"`
	// HarnessOverhead is 1 − DecodeTPS ÷ EngineEvalTPS (means): the share of generation time
	// spent outside llama.cpp's decode, in sampling, the binding and the callback. Nil when
	// there is nothing to compare.
	HarnessOverhead *float64 `json:"harness_overhead"`
	// PromptOverhead is 1 − PromptTPS ÷ EnginePromptTPS (means); nil likewise.
	PromptOverhead *float64 `json:"prompt_overhead"`
	// GPU holds VRAM and energy when a monitor ran; GPUUnavailable says why not otherwise.
	GPU            *GPUMeasure `json:"gpu"`
	GPUUnavailable string      `json:"gpu_unavailable,omitempty"`

	Calls []Call `json:"calls"`
}

// Call is one measured call: a repetition, or one prompt of one repetition of the chat
// workload.
type Call struct {
	PromptID        string     `json:"prompt_id,omitempty"`
	PromptTokens    int        `json:"prompt_tokens"`
	Tokens          int        `json:"tokens"`
	Stop            string     `json:"stop"`
	TTFTMs          float64    `json:"ttft_ms"`
	PromptTPS       float64    `json:"prompt_tps"`
	DecodeTPS       float64    `json:"decode_tps"`
	E2EMs           float64    `json:"e2e_ms"`
	ITL             Stat       `json:"itl_ms"`
	EnginePromptTPS float64    `json:"engine_prompt_tps"`
	EngineEvalTPS   float64    `json:"engine_eval_tps"`
	EnginePromptMs  float64    `json:"engine_prompt_ms"`
	EngineEvalMs    float64    `json:"engine_eval_ms"`
	GPU             *GPUSample `json:"gpu,omitempty"`
}

// GPUMeasure aggregates the GPU samples of a Measure's calls.
type GPUMeasure struct {
	// PeakProcessMiB is the process's peak VRAM per call (NVML's compute process list). Nil
	// when the process never appeared there (see nvml.Usage.ProcessSeen).
	PeakProcessMiB *Stat `json:"peak_process_mib"`
	// PeakDeviceUsedMiB and BaselineDeviceUsedMiB are device-wide, any process.
	PeakDeviceUsedMiB     Stat   `json:"peak_device_used_mib"`
	BaselineDeviceUsedMiB Stat   `json:"baseline_device_used_mib"`
	EnergyJ               Stat   `json:"energy_j"`
	JPerToken             Stat   `json:"j_per_token"`
	MeanPowerW            Stat   `json:"mean_power_w"`
	PeakPowerW            Stat   `json:"peak_power_w"`
	EnergyMethod          string `json:"energy_method"`
	// RooflinePct is weights bytes × decode tok/s ÷ peak memory bandwidth, in percent: how
	// close decoding comes to reading the weights once per token at full bandwidth. Nil for
	// prompt processing, which is compute-bound, or without a bandwidth figure.
	RooflinePct *Stat `json:"roofline_pct"`
	Samples     Stat  `json:"samples"`
	IntervalMs  Stat  `json:"interval_ms"`
}

// ChatPrompt is the chat workload's result for one prompt over the repetitions.
type ChatPrompt struct {
	ID        string `json:"id"`
	Lang      string `json:"lang"`
	Tokens    Stat   `json:"tokens"`
	E2EMs     Stat   `json:"e2e_ms"`
	TTFTMs    Stat   `json:"ttft_ms"`
	DecodeTPS Stat   `json:"decode_tps"`
	// Stops counts why the replies ended ("eog", "max_tokens").
	Stops map[string]int `json:"stops"`
	// Reply is the first repetition's reply, for a person to read.
	Reply string `json:"reply"`
}
