//go:build unix

package models

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockWaitsForHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf.lock")
	unlock, err := lock(context.Background(), path)
	require.NoError(t, err)

	got := make(chan time.Time)
	go func() {
		second, err := lock(context.Background(), path)
		assert.NoError(t, err)
		at := time.Now()
		second() // before the send: the test then looks for the lock file
		got <- at
	}()
	time.Sleep(3 * lockPoll)
	released := time.Now()
	unlock()
	assert.True(t, (<-got).After(released), "the second lock waited for the first")
	assert.NoFileExists(t, path, "unlock removes the lock file")
}

func TestLockErrors(t *testing.T) {
	_, err := lock(context.Background(), filepath.Join(t.TempDir(), "no", "dir", "x.lock"))
	require.Error(t, err)
}

// TestLockAcrossProcesses holds a lock in a child process and checks that this one cannot take it.
func TestLockAcrossProcesses(t *testing.T) {
	if path := os.Getenv("LLMBENCH_TEST_HOLD_LOCK"); path != "" {
		unlock, err := lock(context.Background(), path)
		require.NoError(t, err)
		os.Stdout.WriteString("locked\n")
		buf := make([]byte, 1)
		os.Stdin.Read(buf) // hold until the parent closes stdin
		unlock()
		return
	}
	path := filepath.Join(t.TempDir(), "m.gguf.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
	cmd.Env = append(os.Environ(), "LLMBENCH_TEST_HOLD_LOCK="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, len("locked"))
	_, err = stdout.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "locked", string(buf))

	ctx, cancel := context.WithTimeout(context.Background(), 3*lockPoll)
	defer cancel()
	_, err = lock(ctx, path)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the other process holds the lock")

	stdin.Close()
	require.NoError(t, cmd.Wait())
	unlock, err := lock(context.Background(), path)
	require.NoError(t, err, "free once the other process is done")
	unlock()
}
