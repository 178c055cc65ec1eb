package bench

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// withDefaults returns the spec with every default filled in.
func withDefaults(s metrics.Spec) (metrics.Spec, error) {
	if s.Model == "" {
		return s, fmt.Errorf("spec: no model path")
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(s.Model), ".gguf")
	}
	if len(s.Workloads) == 0 {
		s.Workloads = metrics.AllWorkloads
	}
	for _, w := range s.Workloads {
		switch w {
		case metrics.WorkloadChat, metrics.WorkloadPrompt, metrics.WorkloadGenerate, metrics.WorkloadDepth:
		default:
			return s, fmt.Errorf("spec %s: unknown workload %q", s.Name, w)
		}
	}
	switch {
	case s.Warmup == 0:
		s.Warmup = metrics.DefaultWarmup
	case s.Warmup < 0:
		s.Warmup = 0
	}
	if s.Repetitions == 0 {
		s.Repetitions = metrics.DefaultRepetitions
	}
	if s.Repetitions < 0 {
		return s, fmt.Errorf("spec %s: %d repetitions", s.Name, s.Repetitions)
	}
	if s.PromptTokens == 0 {
		s.PromptTokens = metrics.DefaultPromptTokens
	}
	if s.GenTokens == 0 {
		s.GenTokens = metrics.DefaultGenTokens
	}
	if s.PromptTokens < 2 || s.GenTokens < 2 {
		return s, fmt.Errorf("spec %s: prompt %d and gen %d tokens must be at least 2", s.Name, s.PromptTokens, s.GenTokens)
	}
	if s.Depths == nil {
		s.Depths = metrics.DefaultDepths
	}
	if s.ChatMaxTokens == 0 {
		s.ChatMaxTokens = metrics.DefaultChatMaxTokens
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
		p, err := metrics.BaselinePrompts()
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

// ModelOptions are the llama options that spec loads its model with.
func ModelOptions(s metrics.Spec) []llama.ModelOption {
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
func sessionOptions(s metrics.Spec, nCtx int) []llama.SessionOption {
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
func contextFor(s metrics.Spec, trainCtx int) int {
	if s.ContextSize > 0 {
		return s.ContextSize
	}
	need := 4096
	if s.Has(metrics.WorkloadPrompt) {
		need = max(need, s.PromptTokens)
	}
	if s.Has(metrics.WorkloadDepth) {
		for _, d := range s.Depths {
			need = max(need, d+s.GenTokens+1)
		}
	}
	if trainCtx > 0 {
		need = min(need, trainCtx)
	}
	return need
}
