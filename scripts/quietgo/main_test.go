package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a cold go build prints: C warnings of two foreign packages around one of this module's.
const coldBuild = `go: downloading github.com/NVIDIA/go-nvml v0.13.4-1
# github.com/NVIDIA/go-nvml/pkg/nvml
cgo-gcc-prolog: In function '_cgo_1c2d_Cfunc_nvmlDeviceGetHandleByIndex':
cgo-gcc-prolog:58:2: warning: 'nvmlDeviceGetHandleByIndex' is deprecated [-Wdeprecated-declarations]
In file included from nvml.go:20:
./nvml.h:1234:24: note: declared here
 1234 | # define nvmlDeviceGetHandleByIndex nvmlDeviceGetHandleByIndex_v2
# github.com/local-llm-bench/llmbench/llama
helpers.c:10:5: warning: unused variable 'x' [-Wunused-variable]
# github.com/ollama/ollama/ml/backend/ggml/ggml/src/ggml-cpu/arch/x86
repack.cpp:42:1: warning: 'void f()' defined but not used [-Wunused-function]
# github.com/local-llm-bench/llmbench/llama [github.com/local-llm-bench/llmbench/llama.test]
session.go:1: note: ours again
`

func TestOwnOutput(t *testing.T) {
	got := string(ownOutput([]byte(coldBuild), "github.com/local-llm-bench/llmbench"))
	assert.Equal(t, `go: downloading github.com/NVIDIA/go-nvml v0.13.4-1
# github.com/local-llm-bench/llmbench/llama
helpers.c:10:5: warning: unused variable 'x' [-Wunused-variable]
# github.com/local-llm-bench/llmbench/llama [github.com/local-llm-bench/llmbench/llama.test]
session.go:1: note: ours again
`, got)
	assert.Empty(t, ownOutput([]byte("# example.com/other\nwarning\n"), "github.com/local-llm-bench/llmbench"))
	assert.Empty(t, ownOutput(nil, "m"))
	// A module whose path is a prefix of another's is not that module.
	assert.Empty(t, ownOutput([]byte("# github.com/local-llm-bench/llmbench-extra\nwarning\n"), "github.com/local-llm-bench/llmbench"))
}

func TestModulePath(t *testing.T) {
	got, err := modulePath("../../go.mod")
	require.NoError(t, err)
	assert.Equal(t, "github.com/local-llm-bench/llmbench", got)
	p := filepath.Join(t.TempDir(), "go.mod")
	require.NoError(t, os.WriteFile(p, []byte("go 1.26\n"), 0o644))
	_, err = modulePath(p)
	require.ErrorContains(t, err, "no module line")
}

// The test binary doubles as the program when QUIETGO_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("QUIETGO_MAIN") != "" {
		os.Args = append([]string{"quietgo"}, os.Args[2:]...) // drop -test.run=^$
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// quietgo runs the program in dir on a shell command that prints out and exits with status.
func quietgo(t *testing.T, dir, out string, status int) (string, int) {
	t.Helper()
	script := "printf '%s' \"$OUT\"; exit " + strconv.Itoa(status)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "QUIETGO_MAIN=1", "OUT="+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &exit)
		return stderr.String(), exit.ExitCode()
	}
	return stderr.String(), 0
}

func TestQuietgo(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/local-llm-bench/llmbench\n"), 0o644))

	out, code := quietgo(t, dir, coldBuild, 0)
	assert.Equal(t, 0, code)
	assert.NotContains(t, out, "deprecated", "a success drops other modules' warnings")
	assert.NotContains(t, out, "repack.cpp")
	assert.Contains(t, out, "helpers.c:10:5: warning: unused variable", "and keeps this module's")

	failed := coldBuild + "# github.com/ollama/ollama/llama/llama.cpp/src\nllama.cpp:1:10: fatal error: llama.h: No such file or directory\n"
	out, code = quietgo(t, dir, failed, 1)
	assert.Equal(t, 1, code, "the command's status")
	assert.Equal(t, failed, out, "a failure shows everything, the error of another module's package included")
}
