// Command cgoflags prints the compiler flags that let cgo find llama.cpp's and ggml's headers
// in the github.com/ollama/ollama module that go.mod pins. Run it inside the module that
// builds against llmbench (this one, or a module that requires it):
//
//	export CGO_CPPFLAGS="$(go run github.com/local-llm-bench/llmbench/third_party/cgoflags)"
//
// With -export it prints shell export lines for CGO_CPPFLAGS, CGO_CFLAGS and CGO_CXXFLAGS,
// the last two with the optimization flags the project builds with:
//
//	eval "$(go run github.com/local-llm-bench/llmbench/third_party/cgoflags -export)"
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const llamaModule = "github.com/ollama/ollama"

// includeDirs are the header folders inside the module, relative to its root.
var includeDirs = []string{"llama/llama.cpp/include", "ml/backend/ggml/ggml/include"}

func main() {
	export := flag.Bool("export", false, "print shell export lines for CGO_CPPFLAGS, CGO_CFLAGS and CGO_CXXFLAGS")
	march := flag.String("march", defaultMarch(), "the -march for the C and C++ flags with -export (empty: none)")
	flag.Parse()
	cpp, err := cppFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cgoflags:", err)
		os.Exit(1)
	}
	if !*export {
		fmt.Println(cpp)
		return
	}
	opt := "-O3"
	if *march != "" {
		opt += " -march=" + *march
	}
	fmt.Printf("export CGO_CPPFLAGS=%q\nexport CGO_CFLAGS=%q\nexport CGO_CXXFLAGS=%q\n", cpp, opt, opt)
}

// defaultMarch is x86-64-v3 (AVX2 and FMA, any x86 CPU since about 2015) on amd64: ggml's CPU
// kernels run about ten times faster with it than with the compiler's baseline, and the
// binaries still run on other x86 machines, unlike -march=native.
func defaultMarch() string {
	if runtime.GOARCH == "amd64" {
		return "x86-64-v3"
	}
	return ""
}

func cppFlags() (string, error) {
	// The module may not be in the cache yet on a fresh machine.
	if out, err := exec.Command("go", "mod", "download", llamaModule).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go mod download %s: %v: %s", llamaModule, err, bytes.TrimSpace(out))
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", llamaModule).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %v (does go.mod require it?)", llamaModule, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: no folder in the module cache", llamaModule)
	}
	var flags []string
	for _, rel := range includeDirs {
		inc := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(inc); err != nil {
			return "", fmt.Errorf("%s: %w", inc, err)
		}
		if strings.ContainsAny(inc, " \t") {
			return "", fmt.Errorf("%s: a path with spaces cannot go into CGO_CPPFLAGS", inc)
		}
		flags = append(flags, "-I"+inc)
	}
	return strings.Join(flags, " "), nil
}
