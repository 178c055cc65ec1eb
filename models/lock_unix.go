//go:build unix

package models

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// lock takes an exclusive flock(2) on path, creating it, and waits while another goroutine or
// process holds it, until ctx ends. The kernel releases the lock of a process that dies, so no
// stale lock outlives a crash. unlock removes the file, then releases the lock.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			// The previous holder removes the path before releasing: a lock won on a file no
			// longer at path excludes nobody, so take it again on the current one.
			if sameFile(f, path) {
				return func() {
					os.Remove(path)
					f.Close()
				}, nil
			}
			f.Close()
			continue
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, err
		}
		if err := sleep(ctx, lockPoll); err != nil {
			return nil, err
		}
	}
}

// sameFile reports whether path still names the open file f.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
