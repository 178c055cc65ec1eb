package llama_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/llama"
)

// ggmlDirs returns the include folders of ggml in the pinned module: the public headers and
// the sources, which hold the interface a backend module implements.
func ggmlDirs(t *testing.T) (include, src string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ollama/ollama").Output()
	if err != nil {
		t.Skipf("cannot find the pinned github.com/ollama/ollama module with go list: %v", err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "ml", "backend", "ggml", "ggml")
	return filepath.Join(root, "include"), filepath.Join(root, "src")
}

// buildFakeBackend compiles testdata/fakebackend.c into a backend module.
func buildFakeBackend(t *testing.T) string {
	t.Helper()
	include, src := ggmlDirs(t)
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	out := filepath.Join(t.TempDir(), "libggml-fake.so")
	cmd := exec.Command(cc, "-shared", "-fPIC", "-O1", "-I", include, "-I", src, "-o", out, filepath.Join("testdata", "fakebackend.c"))
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "compile the fake backend: %s", msg)
	return out
}

// Loading a backend module adds to ggml's device registry, a plain vector, while Devices reads
// it: a read never overlaps a registration. The fake module's second registration waits for a
// reader of the registry and its device says whether it was read meanwhile.
//
// It runs in a process of its own: the fake accelerator stays registered, and llama.cpp would
// try to compute on it.
func TestDevicesNeverReadTheRegistryDuringALoad(t *testing.T) {
	if lib := os.Getenv("LLMBENCH_FAKE_BACKEND"); lib != "" {
		readDevicesDuringLoad(t, lib)
		return
	}
	lib := buildFakeBackend(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDevicesNeverReadTheRegistryDuringALoad$", "-test.v")
	cmd.Env = append(os.Environ(), "LLMBENCH_FAKE_BACKEND="+lib, llama.BackendDirEnv+"=")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err)
}

func readDevicesDuringLoad(t *testing.T, lib string) {
	require.NoError(t, llama.LoadBackend(lib))
	// The same module under another name registers a second device, and waits inside.
	again := filepath.Join(t.TempDir(), "libggml-fake-again.so")
	require.NoError(t, os.Symlink(lib, again))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		assert.NoError(t, llama.LoadBackend(again))
	}()
	reads := 0
	for ctx.Err() == nil {
		devs, err := llama.Devices()
		require.NoError(t, err)
		reads++
		for _, d := range devs {
			if d.Name == "FAKE" {
				require.Equal(t, "read while registering: no", d.Description, "read %d", reads)
			}
		}
	}
	wg.Wait()
	devs, err := llama.Devices()
	require.NoError(t, err)
	fakes := 0
	for _, d := range devs {
		if d.Name == "FAKE" {
			fakes++
		}
	}
	assert.Equal(t, 2, fakes, "both registrations are in the registry")
	t.Logf("%d reads of the registry before and during the second load", reads)
}
