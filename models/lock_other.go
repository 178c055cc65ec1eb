//go:build !unix

package models

import (
	"context"
	"errors"
	"io/fs"
	"os"
)

// lock creates path exclusively, waiting while it exists, until ctx ends. Without flock(2) a
// crashed pull leaves the file behind: delete <file>.lock by hand if no pull is running.
// unlock removes it.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if err := sleep(ctx, lockPoll); err != nil {
			return nil, err
		}
	}
}
