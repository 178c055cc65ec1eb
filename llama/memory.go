package llama

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// contextShape is what sizes a context's KV cache and compute graph, as llama_context sets it
// up in this version of llama.cpp.
type contextShape struct {
	nCtx    int // n_ctx: rounded up to 256, then to whole streams of nCtxSeq
	nCtxSeq int // n_ctx_seq: the positions one sequence can hold, the cells of one KV stream
	nSeq    int // n_seq_max
	unified bool
	nBatch  int // n_batch: the largest batch, at most the context asked for
	nUBatch int // n_ubatch: the physical batch
	flash   FlashAttention
	kvType  KVCacheType
}

// newContextShape follows llama_context's constructor: n_batch and n_ubatch are capped by the
// context asked for, n_ctx is padded to 256, and unless the cache is unified each sequence gets
// a stream of n_ctx / n_seq_max cells padded to 256, which sets n_ctx again.
func newContextShape(cfg sessionConfig, trainContext int) contextShape {
	nCtx := cfg.contextTokens(trainContext)
	sh := contextShape{nSeq: cfg.sequences, unified: cfg.kvUnified, flash: cfg.flash, kvType: cfg.kvType}
	sh.nBatch = min(cfg.batchSize, nCtx)
	sh.nUBatch = min(cfg.ubatchSize, sh.nBatch)
	sh.nCtx = padTo(nCtx, 256)
	sh.nCtxSeq = sh.nCtx
	if !sh.unified {
		sh.nCtxSeq = padTo(sh.nCtx/sh.nSeq, 256)
		sh.nCtx = sh.nCtxSeq * sh.nSeq
	}
	return sh
}

func padTo(n, m int) int { return (n + m - 1) / m * m }

// graphTokens is the size of the worst-case batch llama.cpp reserves its compute buffers for:
// a full ubatch (at most the context), rounded up to a multiple of the sequences.
func (sh contextShape) graphTokens() int {
	return padTo(min(sh.nCtx, sh.nUBatch), sh.nSeq)
}

// kvCacheBytes estimates the KV cache of a context: keys and values for every layer and cell.
// Each of the n_seq_max streams has n_ctx_seq cells (one stream of n_ctx when unified), n_ctx
// in all either way. Sliding-window layers keep a full-size cache by default (llama.cpp's
// swa_full), so the estimate holds for them too.
func kvCacheBytes(info Info, headDim int, sh contextShape) uint64 {
	return uint64(info.Layers) * kvLayerBytes(info, headDim, sh)
}

// kvLayerBytes is the KV cache of one layer, which llama.cpp keeps on the layer's device.
func kvLayerBytes(info Info, headDim int, sh contextShape) uint64 {
	perElem := map[KVCacheType]float64{KVF16: 2, KVQ8_0: 34.0 / 32, KVQ4_0: 18.0 / 32}[sh.kvType]
	return uint64(float64(2*info.KVHeads*headDim) * float64(sh.nCtx) * perElem)
}

// computeBytes estimates, from above, llama.cpp's compute buffer for a context: the graph of
// one full ubatch (graphTokens), whose largest tensors are the logits of every token (f32), the
// widest activations of a layer (the feed-forward's gate and up, the residual stream and the
// attention's projections, f32), the attention mask (a row per token of the ubatch and a
// column per cell of a stream, f32 and its f16 copy; two masks where some layers use a sliding
// window) and, with flash attention off, the attention scores of every head (f32). A stream is
// n_ctx_seq cells, so separate streams shrink the mask and scores n_seq_max times over a
// unified cache. Auto counts as on: llama.cpp turns it off only where the GPU lacks a kernel
// for the model's attention, and then the estimate is low. On an H200, for a Mistral-7B of
// 4096 and 16384 positions, llama.cpp reported 112 and 140 MiB where this gives 163 and 199 MiB.
func computeBytes(info Info, ff int, sh contextShape) uint64 {
	u, cells := float64(sh.graphTokens()), float64(sh.nCtxSeq)
	b := u * 4 * float64(info.VocabSize+2*ff+4*info.EmbeddingSize)
	masks := 1.0
	if info.SlidingWindow > 0 {
		masks = 2
	}
	b += masks * u * cells * (4 + 2)
	if sh.flash == FlashOff {
		b += u * cells * 4 * float64(info.Heads)
	}
	return uint64(b)
}

// gpuReserve is what CUDA takes for a new context besides llama.cpp's buffers: a cuBLAS handle
// and its workspace, streams, and the scratch pool that grows during the first decodes.
// Where it cannot have them, ggml ends the process (the creation of the cuBLAS handle did,
// on a full H200, inside llama_init_from_model), so a session must leave room for them.
const gpuReserve = 256 << 20

// sessionFit is what a new context would take on one device, against what is available there.
type sessionFit struct {
	nCtx             int
	kv, compute, cud uint64  // cud: gpuReserve on a GPU, else 0
	share            float64 // of the KV cache that lives here: the device's share of the layers
	where            string
	avail            uint64
	known            bool // avail could be read
}

func (f sessionFit) need() uint64 { return uint64(float64(f.kv)*f.share) + f.compute + f.cud }

func (f sessionFit) check() error {
	if !f.known || f.need() <= f.avail {
		return nil
	}
	extra := ""
	if f.cud > 0 {
		extra = ", CUDA's own " + formatBytes(f.cud)
	}
	kv := "KV cache " + formatBytes(f.kv)
	if f.share < 1 {
		kv = fmt.Sprintf("%.0f%% of the KV cache of %s", 100*f.share, formatBytes(f.kv))
	}
	return fmt.Errorf("%w: a context of %d tokens needs about %s (%s, compute %s%s), %s available is %s",
		ErrOutOfMemory, f.nCtx, formatBytes(f.need()), kv, formatBytes(f.compute), extra, f.where, formatBytes(f.avail))
}

// fitSession measures a context against the memory it would live in: host memory for a model
// on the CPU, else each GPU the model is placed on, with its share of the KV cache of the
// layers on the GPUs (none with kvOnHost), a compute buffer and CUDA's reserve. On the CPU
// this matters most for the KV cache: Linux may promise the memory and kill the process once
// the cache is cleared page by page. On a GPU, CUDA's allocations outside llama.cpp's buffers
// abort the process when they fail, so the context must leave room for them.
func fitSession(info Info, gpus []gpuShare, headDim, ff int, sh contextShape, kvOnHost bool) []sessionFit {
	base := sessionFit{
		nCtx:    sh.nCtx,
		kv:      kvCacheBytes(info, headDim, sh),
		compute: computeBytes(info, ff, sh),
		share:   1,
	}
	if !info.GPU || len(gpus) == 0 {
		base.where = "host memory"
		base.avail, base.known = hostAvailableBytes()
		return []sessionFit{base}
	}
	// Only the layers on the GPUs keep their KV cache there, and none with kvOnHost.
	base.kv = kvLayerBytes(info, headDim, sh) * uint64(min(info.LayersOnGPU, info.Layers))
	if kvOnHost {
		base.kv = 0
	}
	fits := make([]sessionFit, 0, len(gpus))
	for _, g := range gpus {
		f := base
		f.share, f.cud = g.share, gpuReserve
		f.where = "GPU memory"
		if len(gpus) > 1 {
			f.where = fmt.Sprintf("GPU memory of %s", g.dev.Name)
		}
		f.avail, f.known = g.dev.FreeBytes, true
		fits = append(fits, f)
	}
	return fits
}

// gpuShare is a GPU a model is placed on and its share of the model's layers.
type gpuShare struct {
	dev   Device
	share float64
}

// placedGPUs says which GPUs llama.cpp puts a model on, as llama_model_load_from_file does: the
// GPUs (integrated ones only where there is no other), only the main one with SplitNone, and
// layers split in proportion to the tensor split given, else to each GPU's free memory.
func placedGPUs(devs []Device, cfg modelConfig) []gpuShare {
	var gpus, igpus []Device
	for _, d := range devs {
		switch d.Type {
		case DeviceGPU:
			gpus = append(gpus, d)
		case DeviceIGPU:
			igpus = append(igpus, d)
		}
	}
	if len(gpus) == 0 {
		gpus = igpus
	}
	if cfg.splitMode == SplitNone {
		if cfg.mainGPU < 0 || cfg.mainGPU >= len(gpus) {
			return nil
		}
		return []gpuShare{{dev: gpus[cfg.mainGPU], share: 1}}
	}
	given := slices.ContainsFunc(cfg.tensorSplit, func(v float32) bool { return v != 0 })
	weights := make([]float64, len(gpus))
	total := 0.0
	for i, d := range gpus {
		switch {
		case !given:
			weights[i] = float64(d.FreeBytes)
		case i < len(cfg.tensorSplit):
			weights[i] = float64(cfg.tensorSplit[i])
		}
		total += weights[i]
	}
	var out []gpuShare
	for i, d := range gpus {
		if weights[i] > 0 && total > 0 {
			out = append(out, gpuShare{dev: d, share: weights[i] / total})
		}
	}
	return out
}

// hostAvailableBytes reads MemAvailable from /proc/meminfo; ok is false where it cannot.
func hostAvailableBytes() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0, false
			}
			return kb * 1024, true
		}
	}
	return 0, false
}

func formatBytes(b uint64) string {
	const gib, mib = 1 << 30, 1 << 20
	switch {
	case b >= gib:
		return fmt.Sprintf("%.2f GiB", float64(b)/gib)
	default:
		return fmt.Sprintf("%.1f MiB", float64(b)/mib)
	}
}
