// Command consumer is a module of its own that requires llmbench, as a program using the
// library would. CI builds, tests and runs it with plain go build, go test and go run and no
// CGO_* variables, which shows that importing llmbench needs no setup. It loads a model
// (the default small one unless -model names another), generates a few tokens from a chat
// prompt and prints them with llama.cpp's speed and the CPU features it was built with.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("consumer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", models.DefaultModelPath(), "GGUF model file")
	prompt := fs.String("prompt", "Name three colours.", "what the user asks")
	n := fs.Int("n", 8, "tokens to generate")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	res, err := generate(context.Background(), *model, *prompt, *n, func(text string) { fmt.Fprint(stdout, text) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d tokens, %.1f tok/s by llama.cpp's count\nllama.cpp: %s\n", res.Tokens, res.Perf.EvalTokensPerSecond(), llama.SystemInfo())
	return nil
}

// generate loads the model at path, asks it prompt through its chat template and generates
// exactly n tokens greedily, handing the text of each to onText.
func generate(ctx context.Context, path, prompt string, n int, onText func(string)) (llama.Result, error) {
	m, err := llama.Load(path)
	if err != nil {
		return llama.Result{}, err
	}
	defer m.Close()
	s, err := m.NewSession(llama.WithContextSize(512))
	if err != nil {
		return llama.Result{}, err
	}
	defer s.Close()
	p, err := m.ChatPrompt([]llama.Message{{Role: "user", Content: prompt}})
	if err != nil {
		return llama.Result{}, err
	}
	return s.Generate(ctx, p, llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}, func(t llama.Token) bool {
		onText(t.Text)
		return true
	})
}
