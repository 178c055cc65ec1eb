package bench

import (
	"context"

	"github.com/local-llm-bench/llmbench/llama"
)

// Loader loads a model; LoadLlama, over package llama, is the default.
type Loader func(path string, opts ...llama.ModelOption) (Model, error)

// Model is what Run needs of a loaded model; *llama.Model provides it through LoadLlama.
type Model interface {
	Info() llama.Info
	NewSession(opts ...llama.SessionOption) (Session, error)
	ChatPrompt(messages []llama.Message) (llama.Prompt, error)
	Close() error
}

// Session is what Run needs of a session; *llama.Session provides it.
type Session interface {
	Generate(ctx context.Context, prompt llama.Prompt, opts llama.GenerateOptions, fn func(llama.Token) bool) (llama.Result, error)
	GenerateTokens(ctx context.Context, tokens []int32, opts llama.GenerateOptions, fn func(llama.Token) bool) (llama.Result, error)
	Prefill(ctx context.Context, tokens []int32) (llama.Result, error)
	Reset() error
	ContextSize() int
	Close() error
}

// LoadLlama loads a model through package llama.
func LoadLlama(path string, opts ...llama.ModelOption) (Model, error) {
	m, err := llama.Load(path, opts...)
	if err != nil {
		return nil, err
	}
	return llamaModel{m}, nil
}

type llamaModel struct{ *llama.Model }

func (m llamaModel) NewSession(opts ...llama.SessionOption) (Session, error) {
	s, err := m.Model.NewSession(opts...)
	if err != nil {
		return nil, err
	}
	return s, nil
}
