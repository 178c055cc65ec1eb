package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
)

// RunAll runs each spec in turn and, when dir is not empty, writes each result to
// dir/<name>.json as soon as that model is done, atomically, so that an interrupted run keeps
// every model it finished. A model that fails is recorded (incomplete, with its error) and the
// next one runs; a cancelled ctx or a closed Options.Stop ends the loop. The error says what
// went wrong.
func RunAll(ctx context.Context, specs []Spec, dir string, opts Options) ([]Result, error) {
	var results []Result
	var failed []string
	for _, spec := range specs {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("%w: %w", errIncomplete, err)
		}
		res, err := Run(ctx, spec, opts)
		results = append(results, res)
		if dir != "" && res.Name != "" {
			if serr := SaveJSON(filepath.Join(dir, FileName(res.Name)+".json"), res); serr != nil {
				return results, serr
			}
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrStopped) {
				return results, fmt.Errorf("%w: %s: %w", errIncomplete, res.Name, err)
			}
			failed = append(failed, fmt.Sprintf("%s: %v", res.Name, err))
		}
	}
	if len(failed) > 0 {
		return results, fmt.Errorf("%w: %d of %d models failed: %v", errIncomplete, len(failed), len(specs), failed)
	}
	return results, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName turns a result's name into a safe file name stem.
func FileName(name string) string {
	s := unsafeName.ReplaceAllString(name, "_")
	if s == "" || s == "." || s == ".." {
		s = "model"
	}
	return s
}
