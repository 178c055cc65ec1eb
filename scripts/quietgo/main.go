// Command quietgo runs a go command (go build, go vet) and keeps the C compilers' warnings
// about other modules' code out of a build that succeeds. When the command fails it prints
// everything the command wrote, so the error is there whatever package it comes from. When it
// succeeds it drops the blocks of output that the go command heads with a package of another
// module ("# github.com/NVIDIA/go-nvml/pkg/nvml": deprecated declarations; ggml's repack
// code), which this project can neither fix nor silence, and keeps the rest, among it the
// warnings of this module's own C code.
//
//	go run ./scripts/quietgo go build ./...
//
// This module is the one whose go.mod is in the working directory. quietgo exits with the
// command's status.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: quietgo command [arguments]")
		os.Exit(2)
	}
	module, err := modulePath("go.mod")
	if err != nil {
		fmt.Fprintln(os.Stderr, "quietgo:", err)
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin = os.Stdin
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Stderr.Write(out)
		os.Exit(exit.ExitCode())
	case err != nil:
		os.Stderr.Write(out)
		fmt.Fprintln(os.Stderr, "quietgo:", err)
		os.Exit(1)
	}
	os.Stderr.Write(ownOutput(out, module))
}

// ownOutput keeps what a successful go command wrote outside the blocks headed by another
// module's package. A block runs from its "# import/path" line to the next such line; the
// lines before the first block (such as "go: downloading ...") are kept.
func ownOutput(out []byte, module string) []byte {
	var b bytes.Buffer
	keep := true
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		if head, ok := bytes.CutPrefix(line, []byte("# ")); ok {
			if f := strings.Fields(string(head)); len(f) > 0 {
				keep = f[0] == module || strings.HasPrefix(f[0], module+"/")
			}
		}
		if keep {
			b.Write(line)
		}
	}
	return b.Bytes()
}

// modulePath reads the module path out of a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}
