package llama_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/llama"
)

// LLMBENCH_THREADS sets the default number of threads where it holds a positive number; any
// other value leaves the cores this process may use.
func TestDefaultThreadsFollowsTheEnvironment(t *testing.T) {
	cores := max(1, min(runtime.NumCPU(), runtime.GOMAXPROCS(0)))
	for value, want := range map[string]int{"3": 3, " 1 ": 1, "40": 40, "0": cores, "-2": cores, "two": cores, "": cores} {
		t.Setenv(llama.ThreadsEnv, value)
		assert.Equal(t, want, llama.DefaultThreads(), "%s=%q", llama.ThreadsEnv, value)
	}
}

// Several ggml threads split each operation's rows among them, so a greedy reply is the same
// token for token on one thread and on two. The other tests run on one thread under make test
// (LLMBENCH_THREADS=1); this one keeps the threaded path under the race detector and ASan.
func TestTwoThreadsGiveWhatOneGives(t *testing.T) {
	for _, id := range tinyIDs {
		t.Run(id, func(t *testing.T) {
			var replies [2][]int32
			for i, threads := range []int{1, 2} {
				_, s := openTiny(t, id, llama.WithThreads(threads))
				require.Equal(t, threads, s.Threads())
				_, err := s.Generate(context.Background(), llama.Text("The quick brown fox"), llama.GenerateOptions{MaxTokens: 12, IgnoreEOG: true},
					func(tok llama.Token) bool {
						replies[i] = append(replies[i], tok.ID)
						return true
					})
				require.NoError(t, err)
			}
			assert.Len(t, replies[0], 12)
			assert.Equal(t, replies[0], replies[1])
		})
	}
}
