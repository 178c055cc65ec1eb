package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ggmlcuda "github.com/local-llm-bench/llmbench/third_party/ggml-cuda"
)

// dryRun runs cudabuild -dry-run and returns its commands, split into words (the test's
// paths need no quoting), and the comment lines.
func dryRun(t *testing.T, args ...string) (commands [][]string, comments []string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(append(args, "-dry-run"), &stdout, &stderr), stderr.String())
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if strings.HasPrefix(l, "#") {
			comments = append(comments, l)
		} else {
			commands = append(commands, strings.Fields(l))
		}
	}
	return commands, comments
}

func TestDryRunPrintsTheCMakeCommandsAndWritesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cuda")
	commands, comments := dryRun(t, "-out", out, "-arch", "89", "-jobs", "3")
	require.Len(t, commands, 2)
	work := filepath.Join(out, ".build")

	modDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", llamaModule).Output()
	require.NoError(t, err)
	configure := commands[0]
	assert.Equal(t, []string{"cmake", "-S", filepath.Join(work, "project"), "-B", filepath.Join(work, "cmake")}, configure[:5])
	assert.Contains(t, configure, "-DLLAMA_SRC="+strings.TrimSpace(string(modDir)))
	assert.Contains(t, configure, "-DCUDA_ARCH=89")
	assert.Contains(t, configure, "-DOUT_DIR="+out)
	if _, err := exec.LookPath("ninja"); err == nil {
		assert.Equal(t, []string{"-G", "Ninja"}, configure[5:7])
	} else {
		assert.NotContains(t, configure, "-G")
	}
	assert.Equal(t, []string{"cmake", "--build", filepath.Join(work, "cmake"), "--target", "ggml-cuda", "-j", "3"}, commands[1])
	assert.Equal(t, []string{"# writes " + filepath.Join(work, "project", "CMakeLists.txt") + " from third_party/ggml-cuda"}, comments)

	// The sources it names are the module's ggml, and a dry run leaves no trace.
	_, err = os.Stat(filepath.Join(strings.TrimSpace(string(modDir)), filepath.FromSlash(ggmlProject)))
	require.NoError(t, err)
	_, err = os.Stat(out)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestCMakeVariablesAreTheProjectsOwn keeps the -D settings and the cache variables that
// third_party/ggml-cuda/CMakeLists.txt declares in step.
func TestCMakeVariablesAreTheProjectsOwn(t *testing.T) {
	commands, _ := dryRun(t, "-out", t.TempDir())
	var passed []string
	for _, a := range commands[0] {
		if name, _, ok := strings.Cut(strings.TrimPrefix(a, "-D"), "="); ok && strings.HasPrefix(a, "-D") {
			passed = append(passed, name)
		}
	}
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^set\((\w+) .*\bCACHE\b`).FindAllSubmatch(ggmlcuda.CMakeLists, -1) {
		declared = append(declared, string(m[1]))
	}
	slices.Sort(passed)
	slices.Sort(declared)
	assert.Equal(t, []string{"CUDA_ARCH", "LLAMA_SRC", "OUT_DIR"}, declared)
	assert.Equal(t, declared, passed)
}

func TestArgumentErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no -out", []string{"-dry-run"}, "usage: cudabuild -out DIR"},
		{"stray argument", []string{"-out", t.TempDir(), "extra"}, "usage: cudabuild -out DIR"},
		{"unknown flag", []string{"-out", t.TempDir(), "-no-such-flag"}, "flag provided but not defined"},
		{"no ggml sources", []string{"-out", t.TempDir(), "-llama-src", t.TempDir(), "-dry-run"}, "holds no ggml sources"},
		{"llama-src absent", []string{"-out", t.TempDir(), "-llama-src", filepath.Join(t.TempDir(), "none"), "-dry-run"}, "holds no ggml sources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tc.args, &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, stdout.String(), "nothing to run")
		})
	}
}

// TestConfigureRunsUpToTheCUDAToolkit runs the configure command for real: CMake reads the
// embedded project and the module's ggml sources, and without nvcc it stops where it looks
// for the CUDA toolkit, after everything cudabuild passes it has been accepted.
func TestConfigureRunsUpToTheCUDAToolkit(t *testing.T) {
	if _, err := exec.LookPath("cmake"); err != nil {
		t.Skip("cmake is not installed: the configure step cannot be tried")
	}
	out := t.TempDir()
	commands, _ := dryRun(t, "-out", out)
	require.NoError(t, writeProject(filepath.Join(out, ".build", "project")))
	var log bytes.Buffer
	err := execute(commands[0], &log, &log)
	if err == nil {
		t.Logf("configured with a CUDA toolkit:\n%s", log.String())
		return
	}
	// CMake names the line of the project where it stopped: the CUDA toolkit's.
	lines := strings.Split(string(ggmlcuda.CMakeLists), "\n")
	at := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "find_package(CUDAToolkit") })
	require.GreaterOrEqual(t, at, 0, "the project does not look for the CUDA toolkit")
	assert.Contains(t, log.String(), fmt.Sprintf("CMakeLists.txt:%d (find_package)", at+1), "configure stopped elsewhere:\n%s", log.String())
}
