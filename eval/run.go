package eval

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The roles of a chat message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a chat.
type Message struct {
	Role    string `json:"role"` // RoleSystem, RoleUser or RoleAssistant
	Content string `json:"content"`
}

// Chatter is a model that answers a chat. A llama session behind an adapter is one; a fake in a
// test is another.
type Chatter interface {
	// Chat renders messages with the model's chat template, generates greedily up to maxTokens
	// and returns the reply text and the number of generated tokens. It stops early, with
	// ctx.Err(), when ctx is done.
	Chat(ctx context.Context, messages []Message, maxTokens int) (text string, tokens int, err error)
}

// ChatFunc adapts a function to a [Chatter].
type ChatFunc func(ctx context.Context, messages []Message, maxTokens int) (string, int, error)

// Chat calls f.
func (f ChatFunc) Chat(ctx context.Context, messages []Message, maxTokens int) (string, int, error) {
	return f(ctx, messages, maxTokens)
}

// DefaultInstruction follows each question unless RunOptions.Instruction replaces it. It asks
// for the form that [Extract] reads first after "####".
const DefaultInstruction = `Solve the problem. Keep the working short, and end your reply with "The answer is N." where N is the final number alone, without units.`

// DefaultMaxTokens bounds each reply unless RunOptions.MaxTokens replaces it.
const DefaultMaxTokens = 256

// ErrInvalidOptions reports options that Run cannot use.
var ErrInvalidOptions = errors.New("invalid options")

// Shot is a worked example for k-shot prompting: a question and a model reply to imitate.
type Shot struct {
	Question string `json:"question"`
	Reply    string `json:"reply"`
}

// DefaultShots returns the built-in worked examples, written for this package and unlike any
// question of [QA], [Arithmetic] or [WordProblems]. Each reply ends the way
// [DefaultInstruction] asks.
func DefaultShots() []Shot {
	return []Shot{
		{
			"A baker makes 12 trays of 18 cookies and sells 150 cookies. How many cookies are left?",
			"12 × 18 = 216 cookies. 216 − 150 = 66.\nThe answer is 66.",
		},
		{
			"Adult tickets cost $7.50 and child tickets cost $4.25. How much do 2 adult and 3 child tickets cost, in dollars?",
			"2 × 7.50 = 15.00 and 3 × 4.25 = 12.75. 15.00 + 12.75 = 27.75.\nThe answer is 27.75.",
		},
		{
			"A recipe needs 3/8 of a cup of sugar per batch. How many cups of sugar do 4 batches need?",
			"4 × 3/8 = 12/8 = 1.5 cups.\nThe answer is 1.5.",
		},
		{
			"The price of a book rose from $20 to $23. By what percentage did the price rise?",
			"The rise is 23 − 20 = 3 dollars, and 3 ÷ 20 = 0.15, which is 15%.\nThe answer is 15.",
		},
		{
			"A runner completes 5 laps of a 400-metre track in 8 minutes. What is her average speed in metres per minute?",
			"She runs 5 × 400 = 2000 metres, and 2000 ÷ 8 = 250 metres per minute.\nThe answer is 250.",
		},
		{
			"Leo is 7 years old and his grandmother is 9 times his age. How old will his grandmother be in 5 years?",
			"She is 9 × 7 = 63 now, so in 5 years she will be 63 + 5 = 68.\nThe answer is 68.",
		},
	}
}

// RunOptions configures [Run]. The zero value asks each question zero-shot with
// DefaultInstruction, no system message and DefaultMaxTokens.
type RunOptions struct {
	// Instruction follows each question in its user turn, after a blank line. It goes there,
	// not in a system message, because some chat templates (Gemma's) have no system role.
	Instruction string
	// System, when not empty, opens every chat as a system message.
	System string
	// Shots is k, the number of worked examples given as prior user and assistant turns.
	Shots int
	// Examples are the worked examples the shots are taken from, in order; DefaultShots() when
	// nil.
	Examples []Shot
	// MaxTokens bounds each reply; DefaultMaxTokens when 0.
	MaxTokens int
	// Progress, when set, is called after each question with the count done so far.
	Progress func(done, total int, row Row)

	// now reads the clock that times each reply; time.Now when nil. Tests set it so that the
	// latencies they check do not depend on the machine's speed.
	now func() time.Time
}

// Run asks each item's question through c and grades the replies (see [Grade]), measuring each
// reply's latency on the monotonic clock. Each question is a fresh chat: the system message if
// any, the k-shot turns, then the question followed by the instruction. Generation is greedy
// (the Chatter's contract) so that a run can be repeated.
//
// When ctx is done, between questions or during one, Run returns the report of the questions
// answered so far and ctx.Err(). When c fails, it returns that partial report and the error.
// Run is as safe for concurrent use as c is.
func Run(ctx context.Context, c Chatter, items []Item, opts RunOptions) (Report, error) {
	if c == nil {
		return Report{}, fmt.Errorf("run: no chatter: %w", ErrInvalidOptions)
	}
	prefix, err := opts.prefix()
	if err != nil {
		return Report{}, fmt.Errorf("run: %w", err)
	}
	maxTokens := opts.MaxTokens
	if maxTokens == 0 {
		maxTokens = DefaultMaxTokens
	}
	now := opts.now
	if now == nil {
		now = time.Now
	}
	rows := make([]Row, 0, len(items))
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return Summarize(rows), err
		}
		messages := append(append(make([]Message, 0, len(prefix)+1), prefix...),
			Message{RoleUser, opts.userTurn(it.Question)})
		start := now()
		text, tokens, err := c.Chat(ctx, messages, maxTokens)
		latency := now().Sub(start)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Summarize(rows), ctxErr
		}
		if err != nil {
			return Summarize(rows), fmt.Errorf("ask %s: %w", it.ID, err)
		}
		row := Grade(it, text)
		row.Latency, row.Tokens = latency, tokens
		rows = append(rows, row)
		if opts.Progress != nil {
			opts.Progress(i+1, len(items), row)
		}
	}
	return Summarize(rows), nil
}

// prefix returns the turns that open every chat: the system message and the shots.
func (o RunOptions) prefix() ([]Message, error) {
	examples := o.Examples
	if examples == nil {
		examples = DefaultShots()
	}
	switch {
	case o.MaxTokens < 0:
		return nil, fmt.Errorf("%d max tokens: %w", o.MaxTokens, ErrInvalidOptions)
	case o.Shots < 0 || o.Shots > len(examples):
		return nil, fmt.Errorf("%d shots from %d examples: %w", o.Shots, len(examples), ErrInvalidOptions)
	}
	var msgs []Message
	if o.System != "" {
		msgs = append(msgs, Message{RoleSystem, o.System})
	}
	for _, s := range examples[:o.Shots] {
		msgs = append(msgs, Message{RoleUser, o.userTurn(s.Question)}, Message{RoleAssistant, s.Reply})
	}
	return msgs, nil
}

// userTurn is the user message that asks question.
func (o RunOptions) userTurn(question string) string {
	instruction := o.Instruction
	if instruction == "" {
		instruction = DefaultInstruction
	}
	return question + "\n\n" + instruction
}
