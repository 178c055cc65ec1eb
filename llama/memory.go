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

// checkKVFits refuses a context whose KV cache alone exceeds the memory it would live in. On
// the CPU this matters most: Linux may promise the memory and kill the process once the cache
// is cleared page by page.
func checkKVFits(info Info, headDim, nCtx int, t KVCacheType) error {
	need := kvCacheBytes(info, headDim, nCtx, t)
	where := "host memory"
	avail, ok := hostAvailableBytes()
	if info.GPU {
		where = "GPU memory"
		avail, ok = gpuFreeBytes()
	}
	if ok && need > avail {
		return fmt.Errorf("%w: a KV cache of %d tokens needs %s, %s available is %s", ErrOutOfMemory, nCtx, formatBytes(need), where, formatBytes(avail))
	}
	return nil
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
