package models

import (
	"context"
	"time"
)

// lockSuffix names the lock file that lets one pull of a file run at a time.
const lockSuffix = ".lock"

// lockPoll is how often a pull waiting for another one of the same file checks again.
const lockPoll = 100 * time.Millisecond

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
