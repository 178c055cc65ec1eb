// Command generate streams a model's reply to one prompt and then prints what it measured.
//
//	go run ./examples/generate -model PATH -prompt TEXT -n 128
//
// Without -model it uses the default small model (make models fetches it). The prompt goes
// through the model's chat template when the model has one, as plain text otherwise; -raw
// sends it as it is, with control tokens such as <|im_start|> written in it recognized.
// Any error ends the program with a one-line message on stderr and exit status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/olekukonko/tablewriter"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

type config struct {
	model     string
	prompt    string
	n         int
	raw       bool
	ctxSize   int
	gpuLayers int
	threads   int
	backend   string
	ignoreEOG bool
	temp      float64
	seed      uint
	template  string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.model, "model", models.DefaultModelPath(), "GGUF model file, or a catalog id whose file is in the model folder")
	fs.StringVar(&c.prompt, "prompt", "Explain in two sentences why running a language model locally keeps user data private.", "the prompt")
	fs.IntVar(&c.n, "n", 128, "most tokens to generate")
	fs.BoolVar(&c.raw, "raw", false, "send the prompt as it is, without the chat template, recognizing control tokens written in it")
	fs.IntVar(&c.ctxSize, "ctx", 0, "context size in tokens (0: 4096 capped by the model's)")
	fs.IntVar(&c.gpuLayers, "ngl", llama.AllLayers, "layers on the GPU (-1: all)")
	fs.IntVar(&c.threads, "threads", llama.DefaultThreads(), "CPU threads")
	fs.StringVar(&c.backend, "backend", "", "folder or file of a GPU backend module (default: $"+llama.BackendDirEnv+", then build/cuda)")
	fs.BoolVar(&c.ignoreEOG, "ignore-eog", false, "generate all -n tokens even past end of generation")
	fs.Float64Var(&c.temp, "temp", 0, "sampling temperature (0: greedy)")
	fs.UintVar(&c.seed, "seed", 0, "sampling seed")
	fs.StringVar(&c.template, "template", "", "chat template (a llama.cpp built-in name such as chatml or gemma, or Jinja) instead of the model's")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.n <= 0 {
		return c, fmt.Errorf("-n must be positive, got %d", c.n)
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	path, _, err := models.Resolve(c.model)
	if err != nil {
		return err
	}
	if c.backend != "" {
		if err := llama.LoadBackend(c.backend); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	opts := []llama.ModelOption{llama.WithGPULayers(c.gpuLayers)}
	if c.template != "" {
		opts = append(opts, llama.WithChatTemplate(c.template))
	}
	model, err := llama.Load(path, opts...)
	if err != nil {
		return err
	}
	defer model.Close()
	sess, err := model.NewSession(llama.WithContextSize(c.ctxSize), llama.WithThreads(c.threads))
	if err != nil {
		return err
	}
	defer sess.Close()

	prompt := llama.Text(c.prompt)
	if c.raw {
		prompt = llama.RawPrompt(c.prompt)
	}
	templated := !c.raw && model.Info().ChatTemplate != ""
	if templated {
		if prompt, err = model.ChatPrompt([]llama.Message{{Role: "user", Content: c.prompt}}); err != nil {
			return err
		}
	}
	genOpts := llama.GenerateOptions{MaxTokens: c.n, IgnoreEOG: c.ignoreEOG, Temperature: float32(c.temp), Seed: uint32(c.seed)}

	timer := metrics.NewTokenTimer(c.n)
	timer.Start()
	res, err := sess.Generate(ctx, prompt, genOpts, func(t llama.Token) bool {
		timer.Token()
		fmt.Fprint(stdout, t.Text)
		return true
	})
	timer.Stop()
	fmt.Fprintln(stdout)
	if err != nil {
		return err
	}
	return summary(stdout, model.Info(), templated, res, timer)
}

func summary(w io.Writer, info llama.Info, templated bool, res llama.Result, timer *metrics.TokenTimer) error {
	ttft := "-"
	tps := "-"
	if d, ok := timer.TTFT(); ok {
		ttft = fmt.Sprintf("%.1f ms", metrics.Millis(d))
	}
	if r, ok := timer.DecodeTPS(); ok {
		tps = fmt.Sprintf("%.1f", r)
	}
	engine := "-"
	if r := res.Perf.EvalTokensPerSecond(); r > 0 {
		engine = fmt.Sprintf("%.1f", r)
	}
	promptRate := "-"
	if r := res.Perf.PromptTokensPerSecond(); r > 0 {
		promptRate = fmt.Sprintf("%.1f", r)
	}
	where := "CPU"
	if info.GPU {
		where = fmt.Sprintf("GPU (%d/%d layers)", info.LayersOnGPU, info.LayersTotal)
	}
	t := tablewriter.NewWriter(w)
	t.Header("measure", "value")
	rows := [][]string{
		{"model", fmt.Sprintf("%s (%s, %s)", info.Name, info.Architecture, info.FileType)},
		{"ran on", where},
		{"chat template", fmt.Sprint(templated)},
		{"prompt tokens", fmt.Sprint(res.PromptTokens)},
		{"generated tokens", fmt.Sprint(res.Tokens)},
		{"stop", string(res.Stop)},
		{"time to first token", ttft},
		{"tokens/s (callback)", tps},
		{"tokens/s (llama.cpp eval)", engine},
		{"prompt tokens/s (llama.cpp)", promptRate},
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}
