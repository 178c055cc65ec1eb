// Command vram is a live monitor of GPU memory and power: one table per interval with each
// GPU's used and total memory, the compute processes on it and their memory, and its power.
//
//	go run ./examples/vram -pid 12345 -interval 1s
//
// It stops on Ctrl-C or SIGTERM and exits 0. Without NVML (no NVIDIA driver) it prints
// "vram: NVML unavailable: ..." and exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/local-llm-bench/llmbench/nvml"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the program with its arguments, outputs and exit code, so that deferred calls run
// before it exits.
func run(args []string, stdout, stderr io.Writer) (code int) {
	flags := flag.NewFlagSet("vram", flag.ContinueOnError)
	flags.SetOutput(stderr)
	pid := flags.Int("pid", 0, "show only this process's GPU memory (0: every compute process)")
	interval := flags.Duration("interval", time.Second, "time between tables")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *interval <= 0 {
		fmt.Fprintln(stderr, "vram: -interval must be positive")
		return 2
	}

	c, err := nvml.New()
	if err != nil {
		fmt.Fprintf(stderr, "vram: %v\n", err)
		return 1
	}
	defer func() {
		if err := c.Close(); err != nil {
			fmt.Fprintf(stderr, "vram: %v\n", err)
			code = 1
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := monitor(ctx, c, stdout, *pid, *interval); err != nil {
		fmt.Fprintf(stderr, "vram: %v\n", err)
		return 1
	}
	return 0
}

// snapshotter is what the monitor needs of an *nvml.Client.
type snapshotter interface {
	Snapshot() ([]nvml.Snapshot, error)
}

// monitor writes a timestamped table of src's GPUs to w at once and then every interval, until
// ctx is done.
func monitor(ctx context.Context, src snapshotter, w io.Writer, pid int, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		// Checked here too: select picks at random when a tick is ready as ctx ends.
		if ctx.Err() != nil {
			return nil
		}
		snaps, err := src.Snapshot()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w, time.Now().Format(time.TimeOnly)); err != nil {
			return err
		}
		if err := render(w, snaps, pid); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
