package llama

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// kvCacheBytes estimates the KV cache of a context: keys and values for every layer and
// position. Sliding-window layers keep a full-size cache by default (llama.cpp's swa_full),
// so the estimate holds for them too.
func kvCacheBytes(info Info, headDim, nCtx int, t KVCacheType) uint64 {
	perElem := map[KVCacheType]float64{KVF16: 2, KVQ8_0: 34.0 / 32, KVQ4_0: 18.0 / 32}[t]
	perLayer := float64(2*info.KVHeads*headDim) * float64(nCtx) * perElem
	return uint64(perLayer * float64(info.Layers))
}

// computeBytes estimates, from above, llama.cpp's compute buffer for a context: the graph of
// one full ubatch, whose largest tensors are the logits of every token (f32), the widest
// activations of a layer (the feed-forward's gate and up, the residual stream and the
// attention's projections, f32), the attention mask (a row per token of the ubatch and a
// column per position, f32 and its f16 copy; two masks where some layers use a sliding
// window) and, with flash attention off, the attention scores of every head (f32). Auto
// counts as on: llama.cpp turns it off only where the GPU lacks a kernel for the model's
// attention, and then the estimate is low. On an H200, for a Mistral-7B of 4096 and 16384
// positions, llama.cpp reported 112 and 140 MiB where this gives 163 and 199 MiB.
func computeBytes(info Info, ff, nCtx, nUBatch int, flash FlashAttention) uint64 {
	u, ctx := float64(nUBatch), float64(nCtx)
	b := u * 4 * float64(info.VocabSize+2*ff+4*info.EmbeddingSize)
	masks := 1.0
	if info.SlidingWindow > 0 {
		masks = 2
	}
	b += masks * u * ctx * (4 + 2)
	if flash == FlashOff {
		b += u * ctx * 4 * float64(info.Heads)
	}
	return uint64(b)
}

// gpuReserve is what CUDA takes for a new context besides llama.cpp's buffers: a cuBLAS handle
// and its workspace, streams, and the scratch pool that grows during the first decodes.
// Where it cannot have them, ggml ends the process (the creation of the cuBLAS handle did,
// on a full H200, inside llama_init_from_model), so a session must leave room for them.
const gpuReserve = 256 << 20

// sessionFit is what a new context would take, against what is available.
type sessionFit struct {
	nCtx             int
	kv, compute, cud uint64 // cud: gpuReserve on a GPU, else 0
	where            string
	avail            uint64
	known            bool // avail could be read
}

func (f sessionFit) need() uint64 { return f.kv + f.compute + f.cud }

func (f sessionFit) check() error {
	if !f.known || f.need() <= f.avail {
		return nil
	}
	extra := ""
	if f.cud > 0 {
		extra = ", CUDA's own " + formatBytes(f.cud)
	}
	return fmt.Errorf("%w: a context of %d tokens needs about %s (KV cache %s, compute %s%s), %s available is %s",
		ErrOutOfMemory, f.nCtx, formatBytes(f.need()), formatBytes(f.kv), formatBytes(f.compute), extra, f.where, formatBytes(f.avail))
}

// fitSession measures a context against the memory it would live in. On the CPU this matters
// most for the KV cache: Linux may promise the memory and kill the process once the cache is
// cleared page by page. On a GPU, CUDA's allocations outside llama.cpp's buffers abort the
// process when they fail, so the context must leave room for them.
func fitSession(info Info, headDim, ff, nCtx, nUBatch int, flash FlashAttention, t KVCacheType) sessionFit {
	f := sessionFit{
		nCtx:    nCtx,
		kv:      kvCacheBytes(info, headDim, nCtx, t),
		compute: computeBytes(info, ff, nCtx, nUBatch, flash),
	}
	if info.GPU {
		f.where, f.cud = "GPU memory", gpuReserve
		f.avail, f.known = gpuFreeBytes()
	} else {
		f.where = "host memory"
		f.avail, f.known = hostAvailableBytes()
	}
	return f
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

// gpuFreeBytes sums the free memory of the GPUs; ok is false when there are none.
func gpuFreeBytes() (uint64, bool) {
	devs, err := Devices()
	if err != nil {
		return 0, false
	}
	var free uint64
	found := false
	for _, d := range devs {
		if d.Type == DeviceGPU || d.Type == DeviceIGPU {
			free += d.FreeBytes
			found = true
		}
	}
	return free, found
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
