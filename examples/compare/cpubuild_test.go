package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
)

// TestCPUBuildIsWarnedAndMarked runs compare, built as this test binary is, in a fresh process
// on a tiny model, and checks that what llama.CheckCPUBuild finds of the build is what the
// program says: one warning on stderr when llama.cpp's CPU kernels leave the CPU's vector
// units unused and none otherwise, and the same in the result's metadata and on the report.
// LLMBENCH_EXPECT_SLOW_BUILD says what the build must be: 1 for the build without CGO_CFLAGS
// and CGO_CXXFLAGS that `make slow-build` makes, 0 for one with them.
func TestCPUBuildIsWarnedAndMarked(t *testing.T) {
	build := llama.CheckCPUBuild()
	switch os.Getenv("LLMBENCH_EXPECT_SLOW_BUILD") {
	case "1":
		require.True(t, build.Slow, "built without the ISA flags, yet the kernels have %v and leave %v unused", build.Compiled, build.Unused)
	case "0":
		require.False(t, build.Slow, build.Warning())
	}
	if len(build.Compiled)+len(build.Unused) == 0 {
		t.Skipf("no comparison of the kernels with a %s CPU (llama.cpp's system information: %q)", runtime.GOARCH, llama.SystemInfo())
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "-models", ggufttest.Tiny(t, dir, "tiny-llama"), "-quick", "-quality=false", "-out", out)
	cmd.Env = append(os.Environ(), "COMPARE_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())

	marked := func(s, mark string) bool { return strings.Contains(s, mark) }
	if build.Slow {
		assert.Equal(t, 1, strings.Count(stderr.String(), "WARN llama: "+build.Warning()), "one warning, with the fix: %s", stderr.String())
	} else {
		assert.NotContains(t, stderr.String(), "SLOW CPU BUILD")
	}
	assert.Equal(t, build.Slow, marked(stdout.String(), "*** SLOW CPU BUILD: "), "the terminal report")

	data, err := os.ReadFile(filepath.Join(out, "tiny-llama.json"))
	require.NoError(t, err)
	var m report.Model
	require.NoError(t, json.Unmarshal(data, &m))
	got := m.Result.Meta.CPUBuild
	require.NotNil(t, got, "the result's metadata holds the comparison")
	assert.Equal(t, build.Slow, got.Slow)
	assert.Equal(t, build.Compiled, got.Compiled)
	assert.Equal(t, build.Unused, got.Unused)
	assert.Equal(t, build.Warning(), got.Warning)

	md, err := os.ReadFile(filepath.Join(out, report.MarkdownFile))
	require.NoError(t, err)
	assert.Equal(t, build.Slow, marked(string(md), "> **SLOW CPU BUILD**: "), "report.md")
	html, err := os.ReadFile(filepath.Join(out, report.HTMLFile))
	require.NoError(t, err)
	assert.Equal(t, build.Slow, marked(string(html), `id="slow-build"`), "report.html")
}
