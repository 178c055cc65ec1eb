package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName turns a result's name into a safe file name stem.
func FileName(name string) string {
	s := unsafeName.ReplaceAllString(name, "_")
	if s == "" || s == "." || s == ".." {
		s = "model"
	}
	return s
}

// WriteFileAtomic writes data to path through a temporary file in the same folder, synced and
// renamed into place, so that path holds either its old content or the whole new one, never a
// part, even if the process dies.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// SaveJSON writes v as indented JSON to path atomically (see WriteFileAtomic).
func SaveJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}
