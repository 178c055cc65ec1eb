package eval

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeChatter answers from a table keyed by the question that opens the last user turn, and
// records every chat it is given. With a clock, each reply takes the time that took gives its
// question on that clock.
type fakeChatter struct {
	mu        sync.Mutex
	replies   map[string]string
	clock     *fakeClock
	took      map[string]time.Duration
	chats     [][]Message
	maxTokens []int
}

func (f *fakeChatter) Chat(ctx context.Context, messages []Message, maxTokens int) (string, int, error) {
	f.mu.Lock()
	f.chats = append(f.chats, messages)
	f.maxTokens = append(f.maxTokens, maxTokens)
	f.mu.Unlock()
	q, _, _ := strings.Cut(messages[len(messages)-1].Content, "\n\n")
	if f.clock != nil {
		f.clock.advance(f.took[q])
	}
	reply := f.replies[q]
	return reply, len(strings.Fields(reply)), nil
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func runItems() ([]Item, map[string]string) {
	items := []Item{
		{ID: "a", Question: "What is 6 × 7?", Answer: 42},
		{ID: "b", Question: "What is 10% of 50?", Answer: 5},
		{ID: "c", Question: "How many hours is 135 minutes?", Answer: 2.25},
	}
	return items, map[string]string{
		items[0].Question: "6 × 7 = 42.\nThe answer is 42.",
		items[1].Question: "10% of 50 is 6.\nThe answer is 6.",
		items[2].Question: "135 ÷ 60 = 2.25\nThe answer is 2.25.",
	}
}

func TestRunZeroShot(t *testing.T) {
	items, replies := runItems()
	clock := newFakeClock()
	took := []time.Duration{1200 * time.Millisecond, 300 * time.Millisecond, 4500 * time.Millisecond}
	f := &fakeChatter{replies: replies, clock: clock, took: map[string]time.Duration{}}
	for i, it := range items {
		f.took[it.Question] = took[i]
	}
	var progress []int
	r, err := Run(t.Context(), f, items, RunOptions{
		Progress: func(done, total int, row Row) {
			assert.Equal(t, len(items), total)
			assert.Equal(t, items[done-1].ID, row.ID)
			progress = append(progress, done)
			clock.advance(time.Minute) // time between questions is no reply's latency
		},
		now: clock.now,
	})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3}, progress)
	assert.Equal(t, 3, r.Total)
	assert.Equal(t, 2, r.Correct)
	require.Len(t, r.Rows, 3)
	for i, row := range r.Rows {
		assert.Equal(t, items[i].ID, row.ID)
		assert.Equal(t, replies[items[i].Question], row.Response)
		assert.Equal(t, took[i], row.Latency, "the latency is the time the reply took")
		assert.Equal(t, len(strings.Fields(row.Response)), row.Tokens, "tokens come from the Chatter")
		assert.Equal(t, MethodAnswerIs, row.Method)
	}
	assert.Equal(t, 2*time.Second, r.MeanLatency, "(1.2 s + 0.3 s + 4.5 s) / 3")

	require.Len(t, f.chats, 3)
	assert.Equal(t, []Message{{RoleUser, items[0].Question + "\n\n" + DefaultInstruction}}, f.chats[0])
	assert.Equal(t, []int{DefaultMaxTokens, DefaultMaxTokens, DefaultMaxTokens}, f.maxTokens)
}

func TestRunKShot(t *testing.T) {
	items, replies := runItems()
	f := &fakeChatter{replies: replies}
	_, err := Run(t.Context(), f, items[:2], RunOptions{Shots: 2, System: "You are careful.", MaxTokens: 64})
	require.NoError(t, err)
	shots := DefaultShots()
	want := []Message{
		{RoleSystem, "You are careful."},
		{RoleUser, shots[0].Question + "\n\n" + DefaultInstruction},
		{RoleAssistant, shots[0].Reply},
		{RoleUser, shots[1].Question + "\n\n" + DefaultInstruction},
		{RoleAssistant, shots[1].Reply},
		{RoleUser, items[1].Question + "\n\n" + DefaultInstruction},
	}
	require.Len(t, f.chats, 2)
	assert.Equal(t, want, f.chats[1])
	assert.Equal(t, want[:5], f.chats[0][:5], "every question gets the same shots")
	assert.Equal(t, []int{64, 64}, f.maxTokens)
}

func TestRunCustomExamplesAndInstruction(t *testing.T) {
	items, replies := runItems()
	f := &fakeChatter{replies: replies}
	opts := RunOptions{
		Shots:       1,
		Examples:    []Shot{{Question: "What is 1 + 1?", Reply: "#### 2"}},
		Instruction: "Reply with #### and the number.",
	}
	_, err := Run(t.Context(), f, items[:1], opts)
	require.NoError(t, err)
	assert.Equal(t, []Message{
		{RoleUser, "What is 1 + 1?\n\nReply with #### and the number."},
		{RoleAssistant, "#### 2"},
		{RoleUser, items[0].Question + "\n\nReply with #### and the number."},
	}, f.chats[0])
}

func TestRunInvalidOptions(t *testing.T) {
	items, replies := runItems()
	f := &fakeChatter{replies: replies}
	tests := []struct {
		name string
		c    Chatter
		opts RunOptions
	}{
		{"no chatter", nil, RunOptions{}},
		{"too many shots", f, RunOptions{Shots: len(DefaultShots()) + 1}},
		{"negative shots", f, RunOptions{Shots: -1}},
		{"shots without examples", f, RunOptions{Shots: 1, Examples: []Shot{}}},
		{"negative max tokens", f, RunOptions{MaxTokens: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(t.Context(), tc.c, items, tc.opts)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	assert.Empty(t, f.chats, "nothing was asked")
}

func TestRunCancelledBetweenQuestions(t *testing.T) {
	items, replies := runItems()
	f := &fakeChatter{replies: replies}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := Run(ctx, f, items, RunOptions{Progress: func(done, _ int, _ Row) {
		if done == 2 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, r.Total, "the partial report keeps the answered questions")
	assert.Len(t, r.Rows, 2)
	assert.Len(t, f.chats, 2, "no question is asked after cancellation")
}

func TestRunCancelledDuringQuestion(t *testing.T) {
	items, _ := runItems()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	// The second question is cancelled while it is asked; its reply, right though it is, must
	// not count.
	c := ChatFunc(func(context.Context, []Message, int) (string, int, error) {
		calls++
		if calls == 2 {
			cancel()
			return "The answer is 5.", 4, nil
		}
		return "The answer is 42.", 4, nil
	})
	r, err := Run(ctx, c, items, RunOptions{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, calls, "no question is asked after the cancellation")
	assert.Equal(t, 1, r.Total, "the question under way when cancelled is dropped")
	require.Len(t, r.Rows, 1)
	assert.Equal(t, "a", r.Rows[0].ID)
	assert.Equal(t, 1, r.Correct)
}

func TestRunCancelledBeforeStart(t *testing.T) {
	items, replies := runItems()
	f := &fakeChatter{replies: replies}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r, err := Run(ctx, f, items, RunOptions{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, r.Total)
	assert.Empty(t, f.chats)
}

func TestRunChatError(t *testing.T) {
	items, _ := runItems()
	errFull := errors.New("context full")
	calls := 0
	c := ChatFunc(func(context.Context, []Message, int) (string, int, error) {
		calls++
		if calls == 2 {
			return "", 0, errFull
		}
		return "The answer is 42.", 5, nil
	})
	r, err := Run(t.Context(), c, items, RunOptions{})
	require.ErrorIs(t, err, errFull)
	assert.Contains(t, err.Error(), "ask b")
	assert.Equal(t, 1, r.Total)
	assert.Equal(t, 1, r.Correct)
}

func TestRunNoItems(t *testing.T) {
	r, err := Run(t.Context(), &fakeChatter{}, nil, RunOptions{})
	require.NoError(t, err)
	assert.Zero(t, r.Total)
}
