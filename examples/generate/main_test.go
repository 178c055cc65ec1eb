package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
)

// The test binary doubles as the program: with GENERATE_MAIN set it runs main with the
// arguments after "--", so the tests see real exit statuses.
func TestMain(m *testing.M) {
	if os.Getenv("GENERATE_MAIN") != "" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"generate"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "GENERATE_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errb.String(), code
}

// errorLines picks the program's own messages ("generate: ...") out of stderr, where
// llama.cpp may log too at debug level.
func errorLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "generate: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestEveryMalformedModelExitsWithStatus1(t *testing.T) {
	for _, c := range ggufttest.Malformed(t, t.TempDir()) {
		t.Run(c.Name, func(t *testing.T) {
			stdout, stderr, code := runMain(t, "-model", c.Path, "-n", "2")
			assert.Equal(t, 1, code, "stderr: %s", stderr)
			lines := errorLines(stderr)
			require.Len(t, lines, 1, "one line of error: %q", stderr)
			assert.Contains(t, lines[0], c.Reason)
			assert.Empty(t, stdout)
			assert.NotContains(t, stderr, "SIGSEGV")
			assert.NotContains(t, stderr, "goroutine ")
		})
	}
}

func TestGeneratesOnATinyModel(t *testing.T) {
	path := ggufttest.Tiny(t, t.TempDir(), "tiny-phi3")
	stdout, stderr, code := runMain(t, "-model", path, "-n", "8", "-ignore-eog", "-prompt", "hi")
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{"generated tokens", "│ 8 ", "tokens/s (llama.cpp eval)", "tiny-phi3 (phi3, F16)", "max_tokens"} {
		assert.Contains(t, stdout, want)
	}
}

// -raw recognizes the control tokens written in the prompt; without it the prompt is content
// of a chat turn, where they are plain text.
func TestRawPromptRecognizesControlTokens(t *testing.T) {
	path := ggufttest.Tiny(t, t.TempDir(), "tiny-phi3")
	m, err := llama.Load(path)
	require.NoError(t, err)
	defer m.Close()
	const prompt = "<|user|>\nhi<|end|>\n<|assistant|>\n"
	raw, err := m.TokenizePrompt(llama.RawPrompt(prompt), true)
	require.NoError(t, err)
	chat, err := m.ChatPrompt([]llama.Message{{Role: "user", Content: prompt}})
	require.NoError(t, err)
	templated, err := m.TokenizePrompt(chat, true)
	require.NoError(t, err)
	require.NotEqual(t, len(raw), len(templated))
	for args, want := range map[string]int{"-raw": len(raw), "-raw=false": len(templated)} {
		t.Run(args, func(t *testing.T) {
			stdout, stderr, code := runMain(t, "-model", path, "-n", "1", "-ignore-eog", "-prompt", prompt, args)
			require.Equal(t, 0, code, stderr)
			assert.Regexp(t, fmt.Sprintf(`prompt tokens\s*│\s*%d\s`, want), stdout)
		})
	}
}

func TestBadFlagsExitWithStatus1(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":   {"-nope"},
		"zero tokens":    {"-n", "0"},
		"extra argument": {"stray"},
		"missing model":  {"-model", filepath.Join(t.TempDir(), "none.gguf")},
		"bad backend":    {"-backend", filepath.Join(t.TempDir(), "none")},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runMain(t, args...)
			assert.Equal(t, 1, code, stderr)
			assert.Len(t, errorLines(stderr), 1, stderr)
		})
	}
}
