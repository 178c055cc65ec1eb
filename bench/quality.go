package bench

import (
	"context"

	"github.com/local-llm-bench/llmbench/eval"
	"github.com/local-llm-bench/llmbench/llama"
)

// Chatter adapts a model and one of its sessions to eval.Chatter, so that eval.Run can ask it
// questions: each chat is a new conversation (the session is reset), rendered with the model's
// chat template (the messages joined raw when the model has none) and answered greedily,
// stopping at end of generation.
func Chatter(m Model, s Session) eval.Chatter {
	return eval.ChatFunc(func(ctx context.Context, messages []eval.Message, maxTokens int) (string, int, error) {
		if err := s.Reset(); err != nil {
			return "", 0, err
		}
		prompt, err := chatText(m, messages)
		if err != nil {
			return "", 0, err
		}
		res, err := s.Generate(ctx, prompt, llama.GenerateOptions{MaxTokens: maxTokens}, nil)
		return res.Text, res.Tokens, err
	})
}

func chatText(m Model, messages []eval.Message) (string, error) {
	msgs := make([]llama.Message, len(messages))
	for i, msg := range messages {
		msgs[i] = llama.Message{Role: msg.Role, Content: msg.Content}
	}
	if m.Info().ChatTemplate == "" {
		text := ""
		for _, msg := range msgs {
			text += msg.Content + "\n"
		}
		return text, nil
	}
	return m.ChatPrompt(msgs)
}
