// Command cudabuild builds ggml's CUDA backend, libggml-cuda.so with the libggml-base.so it
// links against, for a program that uses llmbench: from the ggml sources of the
// github.com/ollama/ollama module that the program's go.mod selects, so that the backend
// matches the ggml compiled into the program. Run it in the program's module:
//
//	go run github.com/local-llm-bench/llmbench/third_party/cudabuild -out DIR
//
// It needs CMake and the CUDA toolkit (nvcc), and uses Ninja when it is there. The program
// then loads the backend with llama.LoadBackend(DIR) or LLMBENCH_BACKEND_DIR=DIR. CMake's
// build folder is kept in DIR/.build, so a second run only rebuilds what changed. -dry-run
// prints the commands instead of running them.
//
// On a machine without Go, a cudabuild binary built elsewhere runs with -llama-src naming a
// copy of the module's CMakeLists.txt, ml/backend/ggml/ggml and llama/llama.cpp/include.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	ggmlcuda "github.com/local-llm-bench/llmbench/third_party/ggml-cuda"
)

const llamaModule = "github.com/ollama/ollama"

// ggmlProject is the CMake project of ggml's sources inside the module.
const ggmlProject = "ml/backend/ggml/ggml/src/CMakeLists.txt"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cudabuild:", err)
		}
		os.Exit(1)
	}
}

// config is what the commands are made from; every path is absolute.
type config struct {
	out       string // where the libraries go
	work      string // the project (work/project) and CMake's build folder (work/cmake)
	llamaSrc  string // the module's root folder
	arch      string // CMAKE_CUDA_ARCHITECTURES
	generator string // "" for CMake's default
	jobs      int
}

func (c config) projectDir() string { return filepath.Join(c.work, "project") }
func (c config) buildDir() string   { return filepath.Join(c.work, "cmake") }

// commands are the configure and build steps.
func (c config) commands() [][]string {
	configure := []string{"cmake", "-S", c.projectDir(), "-B", c.buildDir()}
	if c.generator != "" {
		configure = append(configure, "-G", c.generator)
	}
	configure = append(configure, "-DLLAMA_SRC="+c.llamaSrc, "-DCUDA_ARCH="+c.arch, "-DOUT_DIR="+c.out)
	build := []string{"cmake", "--build", c.buildDir(), "--target", "ggml-cuda", "-j", fmt.Sprint(c.jobs)}
	return [][]string{configure, build}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cudabuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "folder for libggml-cuda.so and libggml-base.so (required)")
	llamaSrc := fs.String("llama-src", "", "root of the github.com/ollama/ollama module (default: the one go.mod selects, from the go command)")
	arch := fs.String("arch", "", "CUDA architectures, e.g. 90 (H100/H200), 89 (RTX 4090), \"86;89;90\" (default: this machine's GPU, else 90)")
	jobs := fs.Int("jobs", runtime.NumCPU(), "parallel compile jobs")
	dryRun := fs.Bool("dry-run", false, "print the commands instead of running them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("usage: cudabuild -out DIR [-llama-src DIR] [-arch 90] [-dry-run]")
	}
	cfg := config{arch: *arch, jobs: max(*jobs, 1)}
	var err error
	if cfg.out, err = filepath.Abs(*out); err != nil {
		return err
	}
	cfg.work = filepath.Join(cfg.out, ".build")
	if *llamaSrc == "" {
		*llamaSrc, err = moduleDir(llamaModule)
		if err != nil {
			return err
		}
	}
	if cfg.llamaSrc, err = filepath.Abs(*llamaSrc); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cfg.llamaSrc, filepath.FromSlash(ggmlProject))); err != nil {
		return fmt.Errorf("%s holds no ggml sources (%s): %w", cfg.llamaSrc, ggmlProject, err)
	}
	if cfg.arch == "" {
		cfg.arch = gpuArch()
	}
	if _, err := exec.LookPath("ninja"); err == nil {
		cfg.generator = "Ninja"
	}

	if *dryRun {
		fmt.Fprintf(stdout, "# writes %s from third_party/ggml-cuda\n", filepath.Join(cfg.projectDir(), "CMakeLists.txt"))
		for _, c := range cfg.commands() {
			fmt.Fprintln(stdout, shellJoin(c))
		}
		return nil
	}
	if _, err := exec.LookPath("cmake"); err != nil {
		return fmt.Errorf("cmake is needed to build the CUDA backend: %w", err)
	}
	if err := writeProject(cfg.projectDir()); err != nil {
		return err
	}
	for _, c := range cfg.commands() {
		if err := execute(c, stdout, stderr); err != nil {
			return err
		}
	}
	lib := filepath.Join(cfg.out, "libggml-cuda.so")
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("the build finished without %s: %w", lib, err)
	}
	fmt.Fprintf(stdout, "built %s\nload it with llama.LoadBackend(%q) or LLMBENCH_BACKEND_DIR=%s\n", lib, cfg.out, shellJoin([]string{cfg.out}))
	return nil
}

// moduleDir asks the go command for the folder of a module of the current module's build
// list, downloading it first: on a fresh machine it may not be in the module cache yet.
func moduleDir(module string) (string, error) {
	if out, err := exec.Command("go", "mod", "download", module).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go mod download %s: %w: %s", module, err, bytes.TrimSpace(out))
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w (run cudabuild inside a module that requires llmbench, or pass -llama-src)", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: no folder in the module cache", module)
	}
	return dir, nil
}

// gpuArch is the compute capability of the first GPU nvidia-smi reports, such as "90", else
// "90" (H100/H200).
func gpuArch() string {
	out, err := exec.Command("nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader").Output()
	if err == nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if cc := strings.ReplaceAll(strings.TrimSpace(first), ".", ""); regexp.MustCompile(`^\d+$`).MatchString(cc) {
			return cc
		}
	}
	return "90"
}

// writeProject writes the embedded CMake project into dir, leaving an identical file alone so
// that CMake does not configure again.
func writeProject(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "CMakeLists.txt")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, ggmlcuda.CMakeLists) {
		return nil
	}
	return os.WriteFile(path, ggmlcuda.CMakeLists, 0o644)
}

func execute(args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "+", shellJoin(args))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", shellJoin(args), err)
	}
	return nil
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellJoin writes a command as a POSIX shell would read it.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			quoted[i] = a
		} else {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}
