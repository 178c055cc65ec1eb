package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test models live in the package catalog only for the duration of a test.
const (
	testID   = "test-model"
	testRepo = "test-org/test-model-GGUF"
	testFile = "test-model-Q4_K_M.gguf"
)

// addModel puts m in the catalog until the test ends. Tests that call it do not run in parallel.
func addModel(t *testing.T, m Model) *Model {
	t.Helper()
	saved := catalog
	catalog = append(append([]Model(nil), catalog...), m)
	t.Cleanup(func() { catalog = saved })
	return &m
}

// addHFModel adds a Hugging Face test model; its digest is in the catalog when known is true.
func addHFModel(t *testing.T, content []byte, known bool) *Model {
	m := Model{ID: testID, Name: "Test", Source: SourceHuggingFace, Repo: testRepo, File: testFile,
		Size: int64(len(content)), License: "Test Licence", Gated: true}
	if known {
		m.SHA256 = sum(content)
	}
	return addModel(t, m)
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// request is what a test server saw of one request.
type request struct {
	Path, Range, Auth string
}

// recorder records the requests a handler receives.
type recorder struct {
	mu   sync.Mutex
	reqs []request
}

func (rec *recorder) all() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.reqs...)
}

// serve starts a test server running h and recording its requests.
func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, request{Path: r.URL.Path, Range: r.Header.Get("Range"), Auth: r.Header.Get("Authorization")})
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

// serveContent answers with content, honouring Range requests.
func serveContent(content []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "model.gguf", time.Time{}, bytes.NewReader(content))
	}
}

// serveCut answers like serveContent but sends only n bytes of the body, then drops the
// connection.
func serveCut(content []byte, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		from := 0
		if rg, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
			from, _ = strconv.Atoi(strings.TrimSuffix(rg, "-"))
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)-from))
		if from > 0 {
			w.Header().Set("Content-Range", "bytes "+strconv.Itoa(from)+"-"+strconv.Itoa(len(content)-1)+"/"+strconv.Itoa(len(content)))
			w.WriteHeader(http.StatusPartialContent)
		}
		w.Write(content[from:min(from+n, len(content))])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
}

// progressLog collects progress reports.
type progressLog struct {
	mu  sync.Mutex
	all []Progress
}

func (l *progressLog) add(p Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, p)
}

// check asserts the reports never go back and end at total.
func (l *progressLog) check(t *testing.T, total int64) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	require.NotEmpty(t, l.all)
	for i := 1; i < len(l.all); i++ {
		require.GreaterOrEqual(t, l.all[i].Downloaded, l.all[i-1].Downloaded, "progress went back: %v", l.all)
	}
	last := l.all[len(l.all)-1]
	require.Equal(t, total, last.Downloaded)
	require.Equal(t, total, last.Total)
}

// quiet keeps the environment from reaching the code under test.
func quiet(t *testing.T) {
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_ENDPOINT", "")
	t.Setenv("LLMBENCH_PYPI_URL", "")
}
