package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/local-llm-bench/llmbench/nvml"
)

// fakeGPUs returns snaps, and cancels after the nth call.
type fakeGPUs struct {
	n      int
	calls  int
	cancel context.CancelFunc
	err    error
}

func (f *fakeGPUs) Snapshot() ([]nvml.Snapshot, error) {
	f.calls++
	if f.calls == f.n {
		f.cancel()
	}
	return snaps, f.err
}

func TestMonitor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &fakeGPUs{n: 3, cancel: cancel}
	var b strings.Builder
	assert.NoError(t, monitor(ctx, src, &b, 0, time.Millisecond), "a cancelled monitor ends cleanly")
	assert.Equal(t, 3, src.calls)
	assert.Equal(t, 3, strings.Count(b.String(), "┌"), "one table per interval")
}

func TestMonitorFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lost := errors.New("gpu 0: get memory info: GPU is lost")
	src := &fakeGPUs{n: 5, cancel: cancel, err: lost}
	var b strings.Builder
	assert.ErrorIs(t, monitor(ctx, src, &b, 0, time.Millisecond), lost)
	assert.Empty(t, b.String())
}

func TestRunArguments(t *testing.T) {
	for _, args := range [][]string{{"-interval", "0"}, {"-interval", "soon"}, {"-nope"}} {
		var stdout, stderr strings.Builder
		assert.Equal(t, 2, run(args, &stdout, &stderr), "%q", args)
		assert.Empty(t, stdout.String())
		assert.NotEmpty(t, stderr.String())
	}
}

func TestRunWithoutNVML(t *testing.T) {
	if c, err := nvml.New(); err == nil {
		assert.NoError(t, c.Close())
		t.Skip("NVML is available here; this test is for machines without a driver")
	}
	var stdout, stderr strings.Builder
	assert.Equal(t, 1, run(nil, &stdout, &stderr))
	assert.Empty(t, stdout.String())
	assert.Regexp(t, `^vram: NVML unavailable: .+\n$`, stderr.String())
}
