// Command synth writes a synthetic twin of a reference model: a GGUF file with the model's
// exact architecture, tensor shapes, vocabulary size, special tokens and chat template, and
// random weights, quantized by llama.cpp's own quantizer. The work per token, and so speed and
// memory, match the real model's; the text it writes is noise.
//
//	go run ./examples/synth -model gemma-2-2b-it -quant Q4_K_M -out gemma-2-2b-it.Q4_K_M.gguf
//	go run ./examples/synth -list
//
// The F16 intermediate (5 to 15 GB for the reference models) is written next to -out and
// deleted once quantized, also when quantizing fails.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models/twin"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("model", "", "spec id (see -list)")
	quant := fs.String("quant", "Q4_K_M", "llama.cpp file type to quantize to, or F16 to keep the F16 file")
	out := fs.String("out", "", "output file (default <model>.<quant>.gguf)")
	seed := fs.Int64("seed", 1, "seed of the random weights")
	list := fs.Bool("list", false, "list the specs and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	specs := append(gguf.ReferenceSpecs(), gguf.TinySpecs()...)
	if *list {
		for _, s := range specs {
			size, _ := gguf.EstimateQuantizedSize(s, "Q4_K_M")
			fmt.Fprintf(stdout, "%-26s %-7s %2d layers  embd %5d  vocab %6d  ctx %5d  Q4_K_M ~%.2f GB\n",
				s.ID, s.Arch, s.Layers, s.Embd, s.Vocab, s.Context, float64(size)/1e9)
		}
		return nil
	}
	spec, ok := find(specs, *id)
	if !ok {
		return fmt.Errorf("unknown -model %q (see -list)", *id)
	}
	ftype := llama.FileTypeF16
	if *quant != "F16" {
		var err error
		if ftype, err = llama.ParseFileType(*quant); err != nil {
			return err
		}
	}
	if *out == "" {
		*out = fmt.Sprintf("%s.%s.gguf", spec.ID, ftype)
	}
	return synth(stdout, spec, ftype, *out, *seed)
}

func find(specs []gguf.Spec, id string) (gguf.Spec, bool) {
	for _, s := range specs {
		if s.ID == id {
			return s, true
		}
	}
	return gguf.Spec{}, false
}

func synth(w io.Writer, spec gguf.Spec, ftype llama.FileType, out string, seed int64) error {
	start := time.Now()
	last := time.Now()
	progress := func(done, total int64) {
		if time.Since(last) > 5*time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(w, "  writing F16: %5.1f%% of %.2f GB\n", 100*float64(done)/float64(total), float64(total)/1e9)
		}
	}
	if err := twin.Write(spec, out, ftype, seed, progress); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %d bytes (%.2f GB) in %s\n", out, st.Size(), float64(st.Size())/1e9, time.Since(start).Round(time.Second))
	return nil
}
