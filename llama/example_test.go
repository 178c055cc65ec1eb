package llama_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
)

// Plan a model for a GPU of 8 GiB with an 8k context, load it with exactly that placement, and
// generate. Without a GPU the same code runs on the CPU.
func ExamplePlanPlacement() {
	dir, err := os.MkdirTemp("", "plan-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	spec, _ := gguf.TinySpec("tiny-llama")
	path := filepath.Join(dir, "tiny-llama.gguf")
	if err := gguf.Write(path, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}); err != nil {
		log.Fatal(err)
	}

	plan, err := llama.PlanPlacement(path, llama.PlanRequest{
		Budget:  8 << 30,
		Session: []llama.SessionOption{llama.WithContextSize(8192)},
	})
	if err != nil {
		log.Fatal(err) // ErrOutOfMemory says what does not fit where, with the sizes
	}
	fmt.Printf("%d of %d layers on the GPU, predicted %.2f GiB of GPU memory at most\n",
		plan.GPULayers, plan.Layers+1, float64(plan.GPU.Total())/(1<<30))

	m, err := llama.Load(path, plan.ModelOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(plan.SessionOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	res, err := s.Generate(context.Background(), llama.Text("Hello"), llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("context", s.ContextSize(), "tokens:", res.Tokens)
	// Output:
	// 3 of 3 layers on the GPU, predicted 0.87 GiB of GPU memory at most
	// context 8192 tokens: 4
}

// Will Mistral-7B (Q4_K_M) run on a 4 GiB GPU with an 8k context and a q8_0 KV cache? Plan its
// synthetic twin, from a header computed without writing the 4.4 GB file.
func ExamplePlanHeader() {
	spec, _ := gguf.ReferenceSpec("mistral-7b-instruct-v0.2")
	header, err := gguf.QuantizedHeader(spec, "Q4_K_M")
	if err != nil {
		log.Fatal(err)
	}
	plan, err := llama.PlanHeader(header, llama.PlanRequest{
		Budget:     4 << 30,
		HostMemory: 16 << 30,
		Session: []llama.SessionOption{
			llama.WithContextSize(8192),
			llama.WithKVCacheType(llama.KVQ8_0),
			llama.WithFlashAttention(llama.FlashOn),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	gib := func(b uint64) float64 { return float64(b) / (1 << 30) }
	fmt.Printf("%d of %d layers on the GPU, KV cache there: %t\n", plan.GPULayers, plan.Layers+1, plan.KVOnGPU)
	fmt.Printf("GPU %.2f GiB: weights %.2f, KV cache %.2f, compute %.2f, CUDA %.2f\n",
		gib(plan.GPU.Total()), gib(plan.GPU.Weights), gib(plan.GPU.KVCache), gib(plan.GPU.Compute), gib(plan.GPU.Reserve))
	fmt.Printf("host %.2f GiB: weights %.2f, KV cache %.2f\n", gib(plan.Host.Total()), gib(plan.Host.Weights), gib(plan.Host.KVCache))
	// Output:
	// 20 of 33 layers on the GPU, KV cache there: true
	// GPU 3.88 GiB: weights 2.44, KV cache 0.33, compute 0.27, CUDA 0.84
	// host 2.00 GiB: weights 1.63, KV cache 0.20
}
