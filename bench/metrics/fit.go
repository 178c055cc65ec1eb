package metrics

// GiB is the unit of VRAM budgets, 2³⁰ bytes: a card sold as "8 GB" has 8 GiB of memory, so a
// budget of 8 stands for it. Every figure of a fit is in bytes, and every output of one says
// GiB.
const GiB = 1 << 30

// FitSpec says what a fit sweep plans and measures for one model: a placement for each VRAM
// budget and KV cache type, the largest context each placement holds, and, where a GPU is
// there, a load of each with its speed and peak memory.
type FitSpec struct {
	// Budgets are the GPU memory budgets in bytes, as NVML counts a process's memory (CUDA's
	// own share included).
	Budgets []uint64 `json:"budgets_bytes"`
	// KVTypes are the KV cache types to plan and measure each budget with ("f16", "q8_0",
	// "q4_0"); default f16 alone.
	KVTypes []string `json:"kv_types"`
	// ContextSize is the context each placement is planned and measured at; 0 means 4096
	// capped by the model's training context.
	ContextSize int `json:"context_size"`
	// HostMemory is the host memory a placement may use; 0 means what is available.
	HostMemory uint64 `json:"host_memory_bytes,omitempty"`
}

// Fit is what a fit sweep found for one model: a step per budget and KV cache type, in the
// order of the spec's budgets, then of its KV types.
type Fit struct {
	Spec FitSpec `json:"spec"`
	// Measured says whether the placements were loaded and measured; NotMeasured says why not
	// ("no GPU": then the steps hold the plans alone).
	Measured    bool   `json:"measured"`
	NotMeasured string `json:"not_measured,omitempty"`
	// GPU names the GPU that stood in for cards of each budget (see FitLoad.BallastBytes).
	GPU string `json:"gpu,omitempty"`
	// Context is the context each placement was planned and measured at, resolved.
	Context int `json:"context"`
	// Layers is the model's layer count as a placement counts it: the repeating layers and
	// the output layer.
	Layers int `json:"layers"`
	// TrainContext caps the context sweep.
	TrainContext int       `json:"train_context"`
	Steps        []FitStep `json:"steps"`
	// Error says why the sweep stopped before its last step, when it did.
	Error string `json:"error,omitempty"`
}

// FitStep is one budget and KV cache type: the plan, the largest context it holds, and what a
// load of it measured.
type FitStep struct {
	BudgetBytes uint64 `json:"budget_bytes"`
	KVType      string `json:"kv_type"`
	// Plan is the planner's placement at the spec's context; nil when the planner refused,
	// and PlanError says why (a budget that cannot hold even the compute buffers, a host too
	// small for what stays off the GPU). A refusal is an answer, not a failure.
	Plan      *FitPlan `json:"plan,omitempty"`
	PlanError string   `json:"plan_error,omitempty"`
	// MaxContext is the largest context of the sweep (doubling from the spec's context, up to
	// the training context) at which the planner keeps this placement: as many layers on the
	// GPU, and the KV cache where it was. MaxContextCapped says the training context stopped
	// the sweep rather than the budget.
	MaxContext       int  `json:"max_context"`
	MaxContextCapped bool `json:"max_context_capped"`
	// Beyond is the next context of the sweep, which the placement does not hold; nil when the
	// training context capped the sweep.
	Beyond *FitBeyond `json:"beyond,omitempty"`
	// BeyondHeld are the loads of the placement past MaxContext that a card of the budget held
	// all the same, the planner erring high: each doubling is loaded until one is refused
	// (Beyond) or the training context is reached. Empty where the first step beyond was
	// refused, or nothing was measured.
	BeyondHeld []*FitLoad `json:"beyond_held,omitempty"`
	// Load is the measured load of the plan at the spec's context, with its speed; nil when
	// nothing was measured.
	Load *FitLoad `json:"load,omitempty"`
	// MaxContextLoad is a load of the placement at MaxContext, confirming that it fits; nil
	// when nothing was measured or MaxContext is the spec's context (Load confirms it).
	MaxContextLoad *FitLoad `json:"max_context_load,omitempty"`
}

// LargestContext is the largest context the placement holds, and whether the training context
// capped it: the last of BeyondHeld where a card held contexts past the planner's, else
// MaxContext.
func (s FitStep) LargestContext() (int, bool) {
	if n := len(s.BeyondHeld); n > 0 {
		return s.BeyondHeld[n-1].Context, s.Beyond == nil
	}
	return s.MaxContext, s.MaxContextCapped
}

// FitPlan is a plan of llama.PlanPlacement, as values.
type FitPlan struct {
	// GPULayers of Layers are on the GPU (the output layer counts as one).
	GPULayers int  `json:"gpu_layers"`
	Layers    int  `json:"layers"`
	KVOnGPU   bool `json:"kv_on_gpu"`
	// ContextSize is n_ctx as llama.cpp will set it.
	ContextSize int       `json:"context_size"`
	GPU         FitMemory `json:"gpu"`
	Host        FitMemory `json:"host"`
	// DecidedBy says what chose GPULayers: "estimate" or "llama_params_fit".
	DecidedBy string   `json:"decided_by"`
	Notes     []string `json:"notes,omitempty"`
}

// FitMemory is the predicted memory of a placement in one place, by what uses it, in bytes.
type FitMemory struct {
	Weights uint64 `json:"weights"`
	KVCache uint64 `json:"kv_cache"`
	Compute uint64 `json:"compute"`
	Output  uint64 `json:"output"`
	Reserve uint64 `json:"reserve"`
	Total   uint64 `json:"total"`
}

// FitBeyond is the context one step beyond a placement's largest.
type FitBeyond struct {
	Context int `json:"context"`
	// PlannedLayers is what the planner keeps on the GPU at Context (fewer than the
	// placement's), or PlanError why it refused.
	PlannedLayers int    `json:"planned_layers"`
	PlanError     string `json:"plan_error,omitempty"`
	// Load is a load of the placement held at Context, on a GPU standing in for a card of the
	// budget: it must be refused with ErrOutOfMemory (Refused), never abort. Nil when nothing
	// was measured.
	Load *FitLoad `json:"load,omitempty"`
}

// FitLoad is one real load of a placement: the model with its plan's options and a session,
// measured from before the load to the end of its last call.
type FitLoad struct {
	Context int `json:"context"`
	// Error says why the load, the session or a call failed; OutOfMemory says it was
	// ErrOutOfMemory, a clean refusal.
	Error       string `json:"error,omitempty"`
	OutOfMemory bool   `json:"out_of_memory,omitempty"`
	// LayersOnGPU is what llama.cpp placed.
	LayersOnGPU int `json:"layers_on_gpu"`
	// PlannedGPUBytes is the GPU memory the plan predicted for this load; 0 for a placement
	// the planner did not make (one step beyond).
	PlannedGPUBytes uint64 `json:"planned_gpu_bytes,omitempty"`
	// PeakVRAMBytes is the process's peak GPU memory (NVML), less the ballast; VRAMUnavailable
	// says why there is none.
	PeakVRAMBytes   uint64 `json:"peak_vram_bytes,omitempty"`
	VRAMUnavailable string `json:"vram_unavailable,omitempty"`
	// BallastBytes is the GPU memory held unused during the load, so that only the budget was
	// free; NoBallast says why none was held.
	BallastBytes uint64 `json:"ballast_bytes,omitempty"`
	NoBallast    string `json:"no_ballast,omitempty"`
	// PeakRSSBytes is the process's peak resident memory over the load (VmHWM).
	PeakRSSBytes   uint64 `json:"peak_rss_bytes,omitempty"`
	RSSUnavailable string `json:"rss_unavailable,omitempty"`
	// Measures are the prompt and generation workloads, at the load of the spec's context.
	Measures []Measure `json:"measures,omitempty"`
}

// VRAMSeen reports whether the load has a peak VRAM figure.
func (l *FitLoad) VRAMSeen() bool { return l != nil && l.VRAMUnavailable == "" && l.PeakVRAMBytes > 0 }

// Breach reports whether the load's measured peak VRAM exceeded budget: a failure of the
// planner.
func (l *FitLoad) Breach(budget uint64) bool { return l.VRAMSeen() && l.PeakVRAMBytes > budget }

// Breaches lists the loads of the step's plan whose measured peak exceeded the budget. The load
// one step beyond is not among them: the planner did not place it.
func (s FitStep) Breaches() []*FitLoad {
	var out []*FitLoad
	for _, l := range []*FitLoad{s.Load, s.MaxContextLoad} {
		if l.Breach(s.BudgetBytes) {
			out = append(out, l)
		}
	}
	return out
}

// Measure returns the load's measure with the given label, or nil.
func (l *FitLoad) Measure(label string) *Measure {
	if l == nil {
		return nil
	}
	return findMeasure(l.Measures, label)
}

// PlanErrorPct is how far the plan's predicted GPU memory is from the measured peak, in percent
// of the peak: positive where the plan predicted more. False without both figures.
func (l *FitLoad) PlanErrorPct() (float64, bool) {
	if !l.VRAMSeen() || l.PlannedGPUBytes == 0 {
		return 0, false
	}
	return 100 * (float64(l.PlannedGPUBytes) - float64(l.PeakVRAMBytes)) / float64(l.PeakVRAMBytes), true
}

// PeakVRAMBytes is the highest measured peak of the loads of the step's placement (at its
// context, at the largest, and past it where held); false when none was measured.
func (s FitStep) PeakVRAMBytes() (uint64, bool) {
	var peak uint64
	seen := false
	for _, l := range append([]*FitLoad{s.Load, s.MaxContextLoad}, s.BeyondHeld...) {
		if l.VRAMSeen() {
			peak, seen = max(peak, l.PeakVRAMBytes), true
		}
	}
	return peak, seen
}

// MarginBytes is the budget less PeakVRAMBytes: negative for a breach.
func (s FitStep) MarginBytes() (int64, bool) {
	peak, ok := s.PeakVRAMBytes()
	return int64(s.BudgetBytes) - int64(peak), ok
}
