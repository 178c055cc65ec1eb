package llama

import (
	"errors"
	"fmt"

	"github.com/local-llm-bench/llmbench/gguf"
)

// PlanRequest is what a placement is planned for: a GPU memory budget and a context.
type PlanRequest struct {
	// Budget is the GPU memory the process may use, in bytes, as NVML counts a process's
	// memory: CUDA's own share included. 0 plans for the CPU alone.
	Budget uint64
	// HostMemory is the host memory what stays off the GPU may use; 0 means the memory
	// available on this machine now (MemAvailable, where it can be read).
	HostMemory uint64
	// Session lists the options of the session to plan for, as NewSession takes them: the
	// context size, sequences (WithSequences, WithKVUnified), KV cache type and placement
	// (WithKVOffload), flash attention, batch and ubatch sizes, op offload.
	Session []SessionOption
}

// PlanSource says what chose a plan's layer count.
type PlanSource string

const (
	// PlanEstimated means the estimate over the model's header chose: there was no GPU to
	// measure on, or no file (PlanHeader), or the estimate allowed fewer layers than
	// llama_params_fit.
	PlanEstimated PlanSource = "estimate"
	// PlanMeasured means llama.cpp's llama_params_fit chose, from the sizes of llama.cpp's
	// buffers measured on the GPU by a load that allocates nothing.
	PlanMeasured PlanSource = "llama_params_fit"
)

// Memory is the memory a model and its context take in one place, by what uses it.
type Memory struct {
	// Weights are the model's tensors. In host memory they are the page cache of the
	// memory-mapped file (by default), or memory of the process (with WithMmap(false), or
	// where llama.cpp repacks them for the CPU); either way they must stay resident.
	Weights uint64
	// KVCache is the KV cache of the layers placed here.
	KVCache uint64
	// Compute are llama.cpp's compute buffers: the graph of the largest batch.
	Compute uint64
	// Output is, in host memory, the buffer the logits are copied into.
	Output uint64
	// Reserve is, on the GPU, CUDA's own memory: its context, cuBLAS's workspace and the
	// memory pool that grows during the first decodes.
	Reserve uint64
}

// Total is the sum of the parts.
func (m Memory) Total() uint64 { return m.Weights + m.KVCache + m.Compute + m.Output + m.Reserve }

// Plan is a placement of a model and its context between a GPU and the host, with the memory
// each is predicted to take. Load the model with ModelOptions and make its session with
// SessionOptions to get exactly this placement.
type Plan struct {
	// Model names what was planned: the file's path, or general.name for a header.
	Model string
	// Budget is the GPU memory the plan was made for (PlanRequest.Budget).
	Budget uint64
	// Layers is the number of the model's repeating layers.
	Layers int
	// GPULayers is llama.cpp's n_gpu_layers for the placement: the last GPULayers repeating
	// layers go to the GPU, and the output layer too when GPULayers is Layers+1. The token
	// embedding stays on the CPU whatever the placement, as llama.cpp keeps it.
	GPULayers int
	// KVOnGPU says whether the KV cache of the layers on the GPU lives there; that of the
	// layers on the CPU is always in host memory.
	KVOnGPU bool
	// ContextSize is the context of all sequences as llama.cpp will set it (n_ctx), and
	// SequenceContext the positions one sequence can hold (n_ctx_seq).
	ContextSize, SequenceContext int
	// TrainContext is the context the model was trained for (n_ctx_train).
	TrainContext int
	// Sequences is the number of parallel sequences (n_seq_max), KVUnified whether they share
	// one KV buffer.
	Sequences int
	KVUnified bool
	// KVType is the element type of the KV cache.
	KVType KVCacheType
	// GPU is the GPU memory the placement is predicted to take; its Total never exceeds
	// Budget. Host is what stays in host memory.
	GPU, Host Memory
	// HostAvailable is the host memory Host was checked against; 0 where none was known and
	// nothing was checked.
	HostAvailable uint64
	// DecidedBy says what chose GPULayers, and EstimatedGPULayers is what the estimate alone
	// allowed.
	DecidedBy          PlanSource
	EstimatedGPULayers int
	// Notes say what the plan could not take into account, in words.
	Notes []string

	session []SessionOption
}

// OutputOnGPU reports whether the output layer is on the GPU.
func (p Plan) OutputOnGPU() bool { return p.GPULayers > p.Layers }

// ModelOptions are the options that load the model with the plan's placement: its layers on
// the first GPU alone, as planned. With no GPU backend loaded they change nothing.
func (p Plan) ModelOptions() []ModelOption {
	opts := []ModelOption{WithGPULayers(p.GPULayers)}
	if HasGPU() {
		// llama.cpp refuses SplitNone where there is no GPU for main_gpu to name.
		opts = append(opts, WithSplitMode(SplitNone), WithMainGPU(0))
	}
	return opts
}

// SessionOptions are the options of the request's session, with the context size resolved as
// planned and, for a plan without a GPU (a budget of 0), nothing offloaded to one.
func (p Plan) SessionOptions() []SessionOption {
	opts := append(append([]SessionOption(nil), p.session...), WithContextSize(p.ContextSize))
	if p.Budget == 0 {
		opts = append(opts, WithKVOffload(false), WithOpOffload(false))
	}
	return opts
}

// String summarizes the plan in one line.
func (p Plan) String() string {
	kv := "host"
	if p.KVOnGPU {
		kv = "GPU"
	}
	return fmt.Sprintf("%s: %d/%d layers on the GPU, KV cache on the %s; GPU %s of %s (weights %s, KV cache %s, compute %s, CUDA %s); host %s (weights %s, KV cache %s, compute %s, output %s); decided by %s",
		p.Model, p.GPULayers, p.Layers+1, kv, formatBytes(p.GPU.Total()), formatBytes(p.Budget),
		formatBytes(p.GPU.Weights), formatBytes(p.GPU.KVCache), formatBytes(p.GPU.Compute), formatBytes(p.GPU.Reserve),
		formatBytes(p.Host.Total()), formatBytes(p.Host.Weights), formatBytes(p.Host.KVCache), formatBytes(p.Host.Compute), formatBytes(p.Host.Output),
		p.DecidedBy)
}

// cudaContextBytes is what a CUDA context takes of a process's GPU memory as NVML counts it,
// before llama.cpp allocates anything: 588 to 592 MiB on an H200 (driver 580, CUDA 13) after
// every model was closed. Other GPUs and drivers take less or more.
const cudaContextBytes = 600 << 20

// PlanPlacement plans how the model at path is placed between a GPU of req.Budget bytes and
// the host, for the context of req.Session, before anything is allocated.
//
// The weights come from the file's header: the token embedding stays on the CPU, the last
// repeating layers go to the GPU first, and the output layer only once all of them are
// there. The KV cache follows its layer (unless WithKVOffload(false) keeps it on the host) and
// is sized as llama.cpp sizes it for n_ctx, n_seq_max and kv_unified. The compute buffers are
// estimated from above; with layers left on the CPU and op offload on, the GPU's compute
// buffer also holds a copy of the largest weight matrix left on the CPU, which llama.cpp
// copies over to compute a prompt there. CUDA's own reserve is its context (as measured on an
// H200) and room for cuBLAS and its pool.
//
// Which one decides: without a GPU the estimate places the layers, for a GPU of the budget
// (on this machine n_gpu_layers then has no effect). With a GPU backend loaded, llama.cpp's
// llama_params_fit also measures its buffers on the first GPU by a load that allocates
// nothing, and the plan takes the fewer layers of the two, so that neither llama.cpp's
// measurement nor the estimate's upper bounds exceed the budget; DecidedBy says which. The
// predicted breakdown is always the estimate's.
//
// A budget that cannot hold even the compute buffers and CUDA's reserve with no layer on the
// GPU gives ErrOutOfMemory with the sizes; so does a placement whose host part does not fit in
// req.HostMemory (by default the memory available now: MemAvailable, which counts the page
// cache the mapped weights would live in as available). A file that is not a valid model
// gives ErrInvalidModel.
func PlanPlacement(path string, req PlanRequest) (Plan, error) {
	f, err := validateModel(path)
	if err != nil {
		return Plan{}, fmt.Errorf("plan %s: %w", path, err)
	}
	ms, cfg, err := planInputs(f, req)
	if err != nil {
		return Plan{}, fmt.Errorf("plan %s: %w", path, err)
	}
	if err := ensureBackend(); err != nil {
		return Plan{}, fmt.Errorf("plan %s: %w", path, err)
	}
	if req.Budget == 0 || !HasGPU() {
		p, err := plan(ms, cfg, req, path)
		if err == nil && req.Budget > 0 {
			p.Notes = append(p.Notes, "no GPU backend loaded: the estimate placed the layers, and n_gpu_layers has no effect on this machine")
		}
		return p, err
	}
	return planMeasured(path, ms, cfg, req)
}

// PlanHeader plans as PlanPlacement does, from a model's header alone: one that gguf.Validate
// read, or a synthetic twin's from gguf.QuantizedHeader. The estimate decides; nothing is
// loaded.
func PlanHeader(f *gguf.File, req PlanRequest) (Plan, error) {
	if f == nil {
		return Plan{}, fmt.Errorf("plan: %w: no header", ErrInvalidModel)
	}
	ms, cfg, err := planInputs(f, req)
	if err != nil {
		return Plan{}, fmt.Errorf("plan: %w", err)
	}
	return plan(ms, cfg, req, ms.info.Name)
}

func planInputs(f *gguf.File, req PlanRequest) (modelShape, sessionConfig, error) {
	ms, err := shapeOf(f)
	if err != nil {
		return modelShape{}, sessionConfig{}, err
	}
	cfg := defaultSessionConfig()
	for _, o := range req.Session {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return modelShape{}, sessionConfig{}, err
	}
	return ms, cfg, nil
}

// planMeasured plans with llama_params_fit on the first GPU, within the estimate's plan.
func planMeasured(path string, ms modelShape, cfg sessionConfig, req PlanRequest) (Plan, error) {
	p, err := plan(ms, cfg, req, path)
	if err != nil {
		return p, err
	}
	sh := newContextShape(cfg, ms.info.TrainContext)
	dev, _ := ms.placementMemory(0, true, cfg, sh)
	target := req.Budget - dev.Reserve // llama.cpp's buffers; the estimate checked Budget > Reserve
	n, device, note, err := fitLayers(path, cfg, sh, target)
	if note != "" {
		p.Notes = append(p.Notes, note)
	}
	if err != nil {
		p.Notes = append(p.Notes, err.Error()+"; the estimate placed the layers")
		return p, nil
	}
	n = min(n, ms.info.Layers+1)
	if n >= p.GPULayers {
		p.Notes = append(p.Notes, fmt.Sprintf("llama_params_fit on %s allowed %d layers, the estimate %d", device.Name, n, p.GPULayers))
		return p, nil
	}
	p.GPULayers, p.DecidedBy = n, PlanMeasured
	p.GPU, p.Host = ms.placementMemory(n, true, cfg, sh)
	if err := p.checkHost(); err != nil {
		return Plan{}, fmt.Errorf("plan %s: %w", path, err)
	}
	return p, nil
}

// plan places the model by the estimate: the most layers whose GPU memory fits the budget.
func plan(ms modelShape, cfg sessionConfig, req PlanRequest, name string) (Plan, error) {
	sh := newContextShape(cfg, ms.info.TrainContext)
	gpu := req.Budget > 0
	p := Plan{
		Model:           name,
		Budget:          req.Budget,
		Layers:          ms.info.Layers,
		ContextSize:     sh.nCtx,
		SequenceContext: sh.nCtxSeq,
		TrainContext:    ms.info.TrainContext,
		Sequences:       sh.nSeq,
		KVUnified:       sh.unified,
		KVType:          sh.kvType,
		DecidedBy:       PlanEstimated,
		HostAvailable:   req.HostMemory,
		session:         req.Session,
	}
	if p.HostAvailable == 0 {
		p.HostAvailable, _ = hostAvailableBytes()
	}
	p.GPULayers = -1
	for g := ms.info.Layers + 1; g >= 0 && gpu; g-- {
		dev, host := ms.placementMemory(g, gpu, cfg, sh)
		if dev.Total() <= req.Budget {
			p.GPULayers, p.GPU, p.Host = g, dev, host
			break
		}
	}
	if p.GPULayers < 0 {
		if gpu {
			dev, _ := ms.placementMemory(0, gpu, cfg, sh)
			return Plan{}, fmt.Errorf("plan %s: %w: a budget of %s cannot hold even the compute buffers with no layer on the GPU: compute %s and CUDA's own %s, %s in all",
				name, ErrOutOfMemory, formatBytes(req.Budget), formatBytes(dev.Compute), formatBytes(dev.Reserve), formatBytes(dev.Total()))
		}
		p.GPULayers = 0
		p.GPU, p.Host = ms.placementMemory(0, false, cfg, sh)
	}
	p.EstimatedGPULayers = p.GPULayers
	p.KVOnGPU = gpu && !cfg.kvOnHost && p.GPULayers > 0
	if err := p.checkHost(); err != nil {
		return Plan{}, fmt.Errorf("plan %s: %w", name, err)
	}
	return p, nil
}

// checkHost refuses a plan whose host part does not fit in the host memory known.
func (p Plan) checkHost() error {
	if p.HostAvailable == 0 || p.Host.Total() <= p.HostAvailable {
		return nil
	}
	return fmt.Errorf("%w: with %d of %d layers on the GPU, host memory needs %s (weights %s, KV cache %s, compute %s, output %s), %s available",
		ErrOutOfMemory, p.GPULayers, p.Layers+1, formatBytes(p.Host.Total()), formatBytes(p.Host.Weights),
		formatBytes(p.Host.KVCache), formatBytes(p.Host.Compute), formatBytes(p.Host.Output), formatBytes(p.HostAvailable))
}

// placementMemory predicts the memory of the model with g layers on a GPU (none when gpu is
// false) and a context of shape sh, on the GPU and on the host.
func (ms modelShape) placementMemory(g int, gpu bool, cfg sessionConfig, sh contextShape) (dev, host Memory) {
	nl := len(ms.layers)
	if !gpu {
		g = 0
	}
	onGPU := min(g, nl)    // repeating layers on the GPU: the last ones
	outGPU := g > nl       // the output layer too
	var hostLargest uint64 // the largest matrix left on the host
	for i, l := range ms.layers {
		if i >= nl-onGPU {
			dev.Weights += l.bytes
			continue
		}
		host.Weights += l.bytes
		hostLargest = max(hostLargest, l.largest)
	}
	host.Weights += ms.input
	if outGPU {
		dev.Weights += ms.output.bytes
	} else {
		host.Weights += ms.output.bytes - ms.tied
		hostLargest = max(hostLargest, ms.output.largest)
	}

	kvLayer := kvLayerBytes(ms.info, ms.headDim, sh)
	if gpu && !cfg.kvOnHost {
		dev.KVCache = kvLayer * uint64(onGPU)
	}
	host.KVCache = kvLayer*uint64(nl) - dev.KVCache

	compute := computeBytes(ms.info, ms.ff, sh)
	host.Output = uint64(ms.info.VocabSize) * uint64(sh.nSeq) * 4
	if !gpu {
		host.Compute = compute
		return dev, host
	}
	dev.Reserve = cudaContextBytes + gpuReserve
	opOffload := !cfg.noOffload && hostLargest > 0
	if onGPU > 0 || outGPU || opOffload {
		dev.Compute = compute
		if opOffload {
			dev.Compute += hostLargest
		}
	}
	host.Compute = compute
	if outGPU && !cfg.kvOnHost {
		host.Compute = hostInputBytes(ms.info, sh)
	}
	return dev, host
}

// hostInputBytes estimates the host compute buffer of a model wholly on the GPU: the graph's
// inputs as the CPU prepares them, the embeddings of a ubatch (f32, looked up in the token
// embedding on the CPU) and the attention masks (f32), before they are copied to the GPU.
func hostInputBytes(info Info, sh contextShape) uint64 {
	u := uint64(sh.graphTokens())
	masks := uint64(1)
	if info.SlidingWindow > 0 {
		masks = 2
	}
	return u*4*uint64(info.EmbeddingSize) + masks*u*uint64(sh.nCtxSeq)*4 + u*4*4
}

// validateModel validates the file at path with package gguf before llama.cpp sees it: a
// malformed file is ErrInvalidModel, one that cannot be read gives the os error.
func validateModel(path string) (*gguf.File, error) {
	f, err := gguf.Validate(path)
	if errors.Is(err, gguf.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	return f, err
}
