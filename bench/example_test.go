package bench_test

import (
	"context"
	"fmt"
	"log"

	"github.com/local-llm-bench/llmbench/bench"
	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
)

// Will Mistral-7B (Q4_K_M) fit on a card of 4, 8 or 12 GiB, with an f16 or a q8_0 KV cache, on a
// notebook with 16 GiB of RAM? Without a GPU, RunFit plans each budget and measures nothing;
// here it plans the synthetic twin from its header, computed without writing the 4.4 GB file
// (with a file, the default planner, llama.PlanPlacement, reads it).
func ExampleRunFit() {
	spec, _ := gguf.ReferenceSpec("mistral-7b-instruct-v0.2")
	header, err := gguf.QuantizedHeader(spec, "Q4_K_M")
	if err != nil {
		log.Fatal(err)
	}
	fit, err := bench.RunFit(context.Background(),
		metrics.Spec{Name: "mistral-7b", Model: "mistral-7b-instruct-v0.2.Q4_K_M.gguf"},
		metrics.FitSpec{Budgets: []uint64{4 << 30, 8 << 30, 12 << 30}, KVTypes: []string{"f16", "q8_0"}, HostMemory: 16 << 30},
		bench.FitOptions{
			Planner: func(_ string, req llama.PlanRequest) (llama.Plan, error) { return llama.PlanHeader(header, req) },
			GPU:     func() bool { return false },
		})
	if err != nil {
		log.Fatal(err)
	}
	model := report.Model{Result: metrics.Result{Name: "mistral-7b", Fit: &fit}}
	for _, r := range report.FitRows(report.Run{Models: []report.Model{model}}) {
		next := " (the training context)"
		if r.BeyondContext > 0 {
			next = fmt.Sprintf("; at %d: %s", r.BeyondContext, r.Beyond)
		}
		fmt.Printf("%2g GiB %-4s  %d/%d layers, %.2f GiB planned; up to %d tokens%s\n",
			r.BudgetGiB, r.KVType, r.GPULayers, r.Layers, r.PlannedGiB.Value, r.MaxContext, next)
	}
	pick, _ := report.BestFit(model, 8<<30)
	fmt.Println(pick)
	// Output:
	//  4 GiB f16   21/33 layers, 3.97 GiB planned; up to 4096 tokens; at 8192: planned 18/33
	//  4 GiB q8_0  22/33 layers, 3.94 GiB planned; up to 4096 tokens; at 8192: planned 20/33
	//  8 GiB f16   33/33 layers, 5.49 GiB planned; up to 16384 tokens; at 32768: planned 27/33
	//  8 GiB q8_0  33/33 layers, 5.26 GiB planned; up to 32768 tokens (the training context)
	// 12 GiB f16   33/33 layers, 5.49 GiB planned; up to 32768 tokens (the training context)
	// 12 GiB q8_0  33/33 layers, 5.26 GiB planned; up to 32768 tokens (the training context)
	// on an 8 GiB card: mistral-7b, 33/33 layers, 32k context, q8_0 KV cache, no GPU: planned, not measured
}
