package bench

import (
	"context"
	"strings"

	"github.com/local-llm-bench/llmbench/eval"
	"github.com/local-llm-bench/llmbench/llama"
)

// Chatter adapts a model and one of its sessions to eval.Chatter, so that eval.Run can ask it
// questions: each chat is a new conversation (the session is reset), rendered with the model's
// chat template and answered greedily, stopping at end of generation. A model without a
// template (a base model) gets the messages as "Question: ...\nAnswer: ..." text, the way
// evaluation harnesses prompt base models, and stops before it writes the next "Question:".
func Chatter(m Model, s Session) eval.Chatter {
	return eval.ChatFunc(func(ctx context.Context, messages []eval.Message, maxTokens int) (string, int, error) {
		if err := s.Reset(); err != nil {
			return "", 0, err
		}
		opts := llama.GenerateOptions{MaxTokens: maxTokens}
		var prompt llama.Prompt
		if m.Info().ChatTemplate == "" {
			prompt = llama.Text(plainChat(messages))
			opts.Stop = []string{"Question:"}
		} else {
			msgs := make([]llama.Message, len(messages))
			for i, msg := range messages {
				msgs[i] = llama.Message{Role: msg.Role, Content: msg.Content}
			}
			var err error
			if prompt, err = m.ChatPrompt(msgs); err != nil {
				return "", 0, err
			}
		}
		res, err := s.Generate(ctx, prompt, opts, nil)
		return strings.TrimSpace(res.Text), res.Tokens, err
	})
}

// plainChat writes a chat as question-and-answer text for a model without chat turns.
func plainChat(messages []eval.Message) string {
	var b strings.Builder
	for _, msg := range messages {
		switch msg.Role {
		case eval.RoleUser:
			b.WriteString("Question: " + msg.Content + "\nAnswer:")
		case eval.RoleAssistant:
			b.WriteString(" " + msg.Content + "\n\n")
		default:
			b.WriteString(msg.Content + "\n\n")
		}
	}
	return b.String()
}
