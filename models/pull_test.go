package models

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// resolvePath is the path the fake Hugging Face server sees for the test model.
const resolvePath = "/" + testRepo + "/resolve/main/" + testFile

func TestPullFullDownload(t *testing.T) {
	quiet(t)
	content := randomBytes(3<<20 + 17)
	addHFModel(t, content, true)
	srv, rec := serve(t, serveContent(content))
	dir := t.TempDir()
	var progress progressLog

	got, err := Pull(context.Background(), testID, dir, progress.add, WithEndpoint(srv.URL+"/"))
	require.NoError(t, err)

	assert.Equal(t, filepath.Join(dir, testFile), got.Path)
	assert.Equal(t, int64(len(content)), got.Size)
	assert.Equal(t, sum(content), got.SHA256)
	assert.True(t, got.Verified)
	assert.False(t, got.Resumed)
	assert.Positive(t, got.Duration)
	onDisk, err := os.ReadFile(got.Path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, onDisk))
	assert.Equal(t, []request{{Path: resolvePath}}, rec.all())
	assertOnly(t, dir, testFile)
	progress.check(t, int64(len(content)))
	assert.False(t, progress.all[0].Resumed)
}

func TestPullExistingFile(t *testing.T) {
	quiet(t)
	content := randomBytes(1000)
	addHFModel(t, content, true)
	srv, rec := serve(t, serveContent(content))
	dir := t.TempDir()
	final := filepath.Join(dir, testFile)

	t.Run("right file is kept", func(t *testing.T) {
		require.NoError(t, os.WriteFile(final, content, 0o644))
		var progress progressLog
		got, err := Pull(context.Background(), testID, dir, progress.add, WithEndpoint(srv.URL))
		require.NoError(t, err)
		assert.True(t, got.Verified)
		assert.Equal(t, sum(content), got.SHA256)
		assert.Empty(t, rec.all(), "no request for a file already there")
		progress.check(t, int64(len(content)))
	})
	t.Run("wrong file is replaced", func(t *testing.T) {
		for _, bad := range [][]byte{randomBytes(999), {}, bytes.Repeat([]byte{1}, 1000)} {
			require.NoError(t, os.WriteFile(final, bad, 0o644))
			got, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
			require.NoError(t, err)
			assert.Equal(t, sum(content), got.SHA256)
		}
		assert.Len(t, rec.all(), 3)
	})
}

func TestPullUnknownDigest(t *testing.T) {
	quiet(t)
	content := randomBytes(5000)
	addHFModel(t, content, false)
	srv, rec := serve(t, serveContent(content))
	dir := t.TempDir()

	got, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
	require.NoError(t, err)
	assert.False(t, got.Verified, "nothing to verify against")
	assert.Equal(t, sum(content), got.SHA256, "digest recorded anyway")

	// Present with an unknown digest: any size will do, and its digest is recorded.
	again, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
	require.NoError(t, err)
	assert.Equal(t, got.SHA256, again.SHA256)
	assert.Len(t, rec.all(), 1)
}

func TestPullResumesCutConnection(t *testing.T) {
	quiet(t)
	content := randomBytes(2<<20 + 5)
	half := len(content) / 2
	addHFModel(t, content, true)
	var calls atomic.Int32
	srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			serveCut(content, half)(w, r)
			return
		}
		serveContent(content)(w, r)
	})
	var progress progressLog

	got, err := Pull(context.Background(), testID, t.TempDir(), progress.add, WithEndpoint(srv.URL))
	require.NoError(t, err)

	assert.True(t, got.Resumed)
	assert.True(t, got.Verified)
	assert.Equal(t, sum(content), got.SHA256)
	reqs := rec.all()
	require.Len(t, reqs, 2)
	assert.Empty(t, reqs[0].Range)
	assert.Equal(t, fmt.Sprintf("bytes=%d-", half), reqs[1].Range)
	progress.check(t, int64(len(content)))
	assert.True(t, progress.all[len(progress.all)-1].Resumed)
}

func TestPullCancelKeepsPartialForResume(t *testing.T) {
	quiet(t)
	content := randomBytes(1 << 20)
	half := len(content) / 2
	addHFModel(t, content, true)
	dir := t.TempDir()
	partialPath := filepath.Join(dir, testFile+partialSuffix)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 1 {
			serveContent(content)(w, r)
			return
		}
		// Send half, wait until it is on disk, then cancel the client.
		w.Header().Set("Content-Length", fmt.Sprint(len(content)))
		w.Write(content[:half])
		w.(http.Flusher).Flush()
		assert.Eventually(t, func() bool {
			st, err := os.Stat(partialPath)
			return err == nil && st.Size() == int64(half)
		}, 5*time.Second, time.Millisecond)
		cancel()
		<-r.Context().Done()
	})

	_, err := Pull(ctx, testID, dir, nil, WithEndpoint(srv.URL))
	require.ErrorIs(t, err, context.Canceled)
	st, err := os.Stat(partialPath)
	require.NoError(t, err, "partial file kept")
	assert.Equal(t, int64(half), st.Size())
	assert.NoFileExists(t, filepath.Join(dir, testFile))

	got, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
	require.NoError(t, err)
	assert.True(t, got.Resumed)
	assert.True(t, got.Verified, "the digest covers the bytes of both calls")
	assert.Equal(t, fmt.Sprintf("bytes=%d-", half), rec.all()[1].Range)
	assertOnly(t, dir, testFile)
}

func TestPullRangeIgnored(t *testing.T) {
	quiet(t)
	content := randomBytes(100_000)
	addHFModel(t, content, true)
	srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(content) // 200 and the whole file, whatever the Range header says
	})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, testFile+partialSuffix), []byte("stale bytes of another try"), 0o644))

	got, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
	require.NoError(t, err)
	assert.False(t, got.Resumed, "the server sent everything again")
	assert.True(t, got.Verified)
	assert.Equal(t, "bytes=26-", rec.all()[0].Range)
	assertOnly(t, dir, testFile)
}

func TestPullRangeAnswers(t *testing.T) {
	quiet(t)
	content := randomBytes(10_000)
	const have = 4000
	tests := []struct {
		name     string
		partial  []byte
		first    http.HandlerFunc // the answer to the first request; serveContent after
		requests int
		resumed  bool
	}{
		{
			name:    "other range restarts from zero",
			partial: content[:have],
			first: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes 10-%d/%d", len(content)-1, len(content)))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(content[10:])
			},
			requests: 2,
		},
		{
			name:    "unsatisfiable range with a complete partial file",
			partial: content,
			first: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(content)))
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			},
			requests: 1,
			resumed:  true,
		},
		{
			name:     "unsatisfiable range with a longer partial file restarts",
			partial:  append(append([]byte(nil), content...), "extra"...),
			first:    serveContent(content),
			requests: 2,
		},
		{
			name:    "unknown total with a resumed range",
			partial: content[:have],
			first: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/*", have, len(content)-1))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(content[have:])
			},
			requests: 1,
			resumed:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addHFModel(t, content, true)
			var calls atomic.Int32
			srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					tt.first(w, r)
					return
				}
				serveContent(content)(w, r)
			})
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, testFile+partialSuffix), tt.partial, 0o644))

			got, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
			require.NoError(t, err)
			assert.True(t, got.Verified)
			assert.Equal(t, tt.resumed, got.Resumed)
			reqs := rec.all()
			assert.Len(t, reqs, tt.requests)
			assert.NotEmpty(t, reqs[0].Range)
			if tt.requests > 1 {
				assert.Empty(t, reqs[1].Range, "restarted from zero")
			}
			assertOnly(t, dir, testFile)
		})
	}
}

func TestPullGivesUp(t *testing.T) {
	quiet(t)
	content := randomBytes(10_000)
	addHFModel(t, content, true)
	dir := t.TempDir()

	t.Run("after maxAttempts cut connections", func(t *testing.T) {
		srv, rec := serve(t, serveCut(content, 100))
		_, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "giving up after 6 attempts")
		assert.Len(t, rec.all(), maxAttempts)
		st, err := os.Stat(filepath.Join(dir, testFile+partialSuffix))
		require.NoError(t, err)
		assert.Equal(t, int64(maxAttempts*100), st.Size(), "partial file kept")
	})
	t.Run("after a cut with no progress", func(t *testing.T) {
		srv, rec := serve(t, serveCut(content, 0))
		_, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Len(t, rec.all(), 1)
	})
	t.Run("server unreachable", func(t *testing.T) {
		srv, _ := serve(t, serveContent(content))
		srv.Close()
		_, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "pull "+testID)
	})
}

func TestPullChecksumMismatch(t *testing.T) {
	quiet(t)
	content := randomBytes(50_000)
	addHFModel(t, content, true)
	corrupted := bytes.Clone(content)
	corrupted[len(corrupted)/2] ^= 0xff
	srv, _ := serve(t, serveContent(corrupted))
	dir := t.TempDir()

	_, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
	require.ErrorIs(t, err, ErrChecksum)
	assert.Contains(t, err.Error(), sum(content))
	assert.Contains(t, err.Error(), sum(corrupted))
	assertOnly(t, dir)
}

func TestPullAccessErrors(t *testing.T) {
	quiet(t)
	content := randomBytes(100)
	m := addHFModel(t, content, true)
	tests := []struct {
		name   string
		token  string
		status int
		code   string
		want   []string
	}{
		{"401 without a token", "", http.StatusUnauthorized, "", []string{"HTTP 401", "no token was sent: HF_TOKEN is not set"}},
		{"403 gated with a token", "hf_sekrit", http.StatusForbidden, "GatedRepo", []string{"HTTP 403", "token was sent but does not grant access", "GatedRepo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HF_TOKEN", tt.token)
			srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.code != "" {
					w.Header().Set("X-Error-Code", tt.code)
					w.Header().Set("X-Error-Message", "Access to this model is restricted.")
				}
				w.WriteHeader(tt.status)
			})
			_, err := Pull(context.Background(), testID, t.TempDir(), nil, WithEndpoint(srv.URL))
			require.ErrorIs(t, err, ErrAccess)
			msg := err.Error()
			for _, w := range append(tt.want,
				"https://huggingface.co/"+m.Repo, "accept the licence", "https://huggingface.co/settings/tokens",
				"export HF_TOKEN=", "is gated under the Test Licence") {
				assert.Contains(t, msg, w)
			}
			if tt.token != "" {
				assert.NotContains(t, msg, tt.token)
				assert.Equal(t, "Bearer "+tt.token, rec.all()[0].Auth, "HF_TOKEN is used")
			}
		})
	}
}

func TestPullNotFound(t *testing.T) {
	quiet(t)
	addHFModel(t, randomBytes(100), true)
	srv, rec := serve(t, http.NotFound)

	_, err := Pull(context.Background(), testID, t.TempDir(), nil, WithEndpoint(srv.URL), WithRevision("v1.0"))
	require.ErrorIs(t, err, ErrNotFound)
	for _, w := range []string{testRepo, testFile, "revision v1.0"} {
		assert.Contains(t, err.Error(), w)
	}
	assert.Equal(t, "/"+testRepo+"/resolve/v1.0/"+testFile, rec.all()[0].Path)
}

func TestPullOtherStatus(t *testing.T) {
	quiet(t)
	addHFModel(t, randomBytes(100), true)
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Error-Code", "Overloaded")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, err := Pull(context.Background(), testID, t.TempDir(), nil, WithEndpoint(srv.URL))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503 Service Unavailable")
	assert.Contains(t, err.Error(), "Overloaded")
}

func TestPullUnknownModel(t *testing.T) {
	_, err := Pull(context.Background(), "no-such-model", t.TempDir(), nil)
	require.ErrorIs(t, err, ErrUnknownModel)
}

func TestPullBadDir(t *testing.T) {
	quiet(t)
	addHFModel(t, randomBytes(100), true)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := Pull(context.Background(), testID, filepath.Join(file, "sub"), nil)
	require.Error(t, err)
}

func TestPullDefaultDir(t *testing.T) {
	quiet(t)
	content := randomBytes(100)
	addHFModel(t, content, true)
	dir := t.TempDir()
	t.Setenv("LLMBENCH_MODELS", dir)
	srv, _ := serve(t, serveContent(content))
	t.Setenv("HF_ENDPOINT", srv.URL)

	got, err := Pull(context.Background(), testID, "", nil, WithHTTPClient(nil))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, testFile), got.Path)
}

func TestPullDiskFull(t *testing.T) {
	quiet(t)
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full to simulate a full disk:", err)
	}
	content := randomBytes(100_000)
	addHFModel(t, content, true)
	srv, _ := serve(t, serveContent(content))
	dir := t.TempDir()
	// Writes to /dev/full fail with ENOSPC, as on a full disk.
	partialPath := filepath.Join(dir, testFile+partialSuffix)
	require.NoError(t, os.Symlink("/dev/full", partialPath))

	_, err := Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
	require.ErrorIs(t, err, ErrDiskFull)
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Contains(t, err.Error(), "kept for resume")
	_, err = os.Lstat(partialPath)
	assert.NoError(t, err, "partial file kept")
	assert.NoFileExists(t, filepath.Join(dir, testFile))
}

func TestPullConcurrent(t *testing.T) {
	quiet(t)
	content := randomBytes(1 << 20)
	addHFModel(t, content, true)
	srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // keep the first pull busy while the others start
		serveContent(content)(w, r)
	})
	dir := t.TempDir()

	const n = 8
	var wg sync.WaitGroup
	results := make([]Pulled, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = Pull(context.Background(), testID, dir, nil, WithEndpoint(srv.URL))
		})
	}
	wg.Wait()

	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, sum(content), results[i].SHA256)
		assert.True(t, results[i].Verified)
	}
	assert.Len(t, rec.all(), 1, "one download; the others waited for it")
	onDisk, err := os.ReadFile(filepath.Join(dir, testFile))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, onDisk))
	assertOnly(t, dir, testFile)
}

func TestPullWaitCanceled(t *testing.T) {
	quiet(t)
	addHFModel(t, randomBytes(100), true)
	dir := t.TempDir()
	unlock, err := lock(context.Background(), filepath.Join(dir, testFile+lockSuffix))
	require.NoError(t, err)
	defer unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 3*lockPoll)
	defer cancel()
	_, err = Pull(ctx, testID, dir, nil, WithEndpoint("http://127.0.0.1:1"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestPullTokenNeverShown runs a download through a redirect to a CDN and a refused one with a
// token, and looks for the token in everything the package produced.
func TestPullTokenNeverShown(t *testing.T) {
	quiet(t)
	const token = "hf_TOPSECRETtokenValue123"
	content := randomBytes(300_000)
	addHFModel(t, content, true)

	cdn, cdnRec := serve(t, serveContent(content))
	var calls atomic.Int32
	hf, hfRec := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1: // a same-host redirect first, as Hugging Face does for renamed repositories
			http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusTemporaryRedirect)
		case 2:
			http.Redirect(w, r, cdn.URL+"/signed/blob?X-Amz-Signature=abc", http.StatusFound)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	})

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)
	t.Setenv("HF_TOKEN", token)
	var progress progressLog
	var output []string

	got, err := Pull(context.Background(), testID, t.TempDir(), progress.add, WithEndpoint(hf.URL))
	require.NoError(t, err)
	output = append(output, fmt.Sprintf("%+v", got))
	t.Setenv("HF_TOKEN", "")
	_, err = Pull(context.Background(), testID, t.TempDir(), progress.add, WithEndpoint(hf.URL), WithLogger(logger), WithToken(token))
	require.ErrorIs(t, err, ErrAccess)
	output = append(output, err.Error(), fmt.Sprintf("%+v %#v", err, err), fmt.Sprintf("%+v", progress.all), logs.String())

	assert.Contains(t, logs.String(), "model ready", "the logs were captured")
	for _, o := range output {
		assert.NotContains(t, o, token)
		assert.NotContains(t, o, "TOPSECRET")
	}
	hfReqs := hfRec.all()
	require.Len(t, hfReqs, 3)
	for _, r := range hfReqs {
		assert.Equal(t, "Bearer "+token, r.Auth, "the token goes to the Hugging Face host, %s", r.Path)
	}
	require.Len(t, cdnRec.all(), 1)
	assert.Empty(t, cdnRec.all()[0].Auth, "no token after a redirect to another host")
}

func TestPullRedirectLimit(t *testing.T) {
	quiet(t)
	addHFModel(t, randomBytes(100), true)
	srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
	_, err := Pull(context.Background(), testID, t.TempDir(), nil, WithEndpoint(srv.URL))
	require.ErrorContains(t, err, "stopped after 10 redirects")
	assert.Len(t, rec.all(), maxRedirects)

	var seen atomic.Int32
	own := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		seen.Add(1)
		return errors.New("no redirects here")
	}}
	_, err = Pull(context.Background(), testID, t.TempDir(), nil, WithEndpoint(srv.URL), WithHTTPClient(own))
	require.ErrorContains(t, err, "no redirects here")
	assert.Equal(t, int32(1), seen.Load(), "the caller's redirect policy is kept")
}

func TestResolveURL(t *testing.T) {
	c := newConfig([]Option{WithEndpoint("https://mirror.example/hf/"), WithRevision("refs/pr/1")})
	assert.Equal(t, "https://mirror.example/hf/org/repo/resolve/refs%2Fpr%2F1/sub/a%20b.gguf",
		c.resolveURL("org/repo", "sub/a b.gguf"))
	t.Setenv("HF_ENDPOINT", "https://hf-mirror.example")
	assert.Equal(t, "https://hf-mirror.example/o/r/resolve/main/f.gguf", newConfig(nil).resolveURL("o/r", "f.gguf"))
}

// assertOnly asserts dir holds exactly the named files: no partial or lock file left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got, "files in %s: %s", dir, strings.Join(got, ", "))
}
