package llama

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
)

// buildFakeBackend compiles testdata/fakebackend.c into a backend module against the pinned
// module's headers.
func buildFakeBackend(t *testing.T) string {
	t.Helper()
	h := findPinnedHeaders(t)
	out, err := exec.Command("go", "env", "CC").Output()
	require.NoError(t, err, "go env CC")
	cc := strings.Fields(string(out))
	require.NotEmpty(t, cc, "go env CC is empty")
	src, err := os.ReadFile(filepath.Join("testdata", "fakebackend.c"))
	require.NoError(t, err)
	dir := t.TempDir()
	compileC(t, cc, dir, "fakebackend.c", string(src), append(h.flags(), "-shared", "-fPIC", "-O1", "-o", "libggml-fake.so")...)
	return filepath.Join(dir, "libggml-fake.so")
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
	cmd.Env = append(os.Environ(), "LLMBENCH_FAKE_BACKEND="+lib, BackendDirEnv+"=")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err)
}

func readDevicesDuringLoad(t *testing.T, lib string) {
	require.NoError(t, LoadBackend(lib))
	// The same module under another name registers a second device, and waits inside.
	again := filepath.Join(t.TempDir(), "libggml-fake-again.so")
	require.NoError(t, os.Symlink(lib, again))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		assert.NoError(t, LoadBackend(again))
	}()
	reads := 0
	for ctx.Err() == nil {
		devs, err := Devices()
		require.NoError(t, err)
		reads++
		for _, d := range devs {
			if d.Name == "FAKE" {
				require.Equal(t, "read while registering: no", d.Description, "read %d", reads)
			}
		}
	}
	wg.Wait()
	devs, err := Devices()
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
