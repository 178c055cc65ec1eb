package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxAttempts bounds the requests for one file: resumes after cut connections and restarts
// after servers that answer a range request with other bytes.
const maxAttempts = 6

// copyBuffer is the read size while downloading.
const copyBuffer = 1 << 20

// statusError is an HTTP answer other than the file. Callers turn it into [ErrAccess] or
// [ErrNotFound] with what they know of the request.
type statusError struct {
	url    string
	code   int
	header http.Header
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.url, e.code, http.StatusText(e.code))
}

// download fetches url into p, resuming from the bytes p holds with a Range request. A token,
// when set, goes as a bearer token to url's host only. A connection cut after some progress is
// resumed at once, up to maxAttempts requests. It reports whether bytes from an earlier attempt
// were kept. Cancellation and errors leave p as it is for a later resume.
func (c *config) download(ctx context.Context, url, token string, p *partial, m *meter) (resumed bool, err error) {
	for attempt := 1; ; attempt++ {
		if attempt > maxAttempts {
			return resumed, fmt.Errorf("GET %s: giving up after %d attempts: %w", url, maxAttempts, err)
		}
		from := p.n
		var resp *http.Response
		if resp, err = c.get(ctx, url, token, from); err != nil {
			return resumed, err
		}
		total := resp.ContentLength
		switch {
		case resp.StatusCode == http.StatusOK:
			if from > 0 {
				c.log.Debug("server ignored the range request; downloading from the start", "url", url)
				if err = p.reset(); err != nil {
					resp.Body.Close()
					return false, err
				}
			}
		case resp.StatusCode == http.StatusPartialContent:
			start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
			if !ok || start != from {
				resp.Body.Close()
				c.log.Debug("server sent another range; downloading from the start", "url", url,
					"asked", from, "content_range", resp.Header.Get("Content-Range"))
				err = fmt.Errorf("asked for bytes from %d, got Content-Range %q", from, resp.Header.Get("Content-Range"))
				if rerr := p.reset(); rerr != nil {
					return false, rerr
				}
				continue
			}
			total = size
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && from > 0:
			resp.Body.Close()
			// The partial file may be whole already: killed between the last byte and the rename.
			if _, size, ok := parseContentRange(resp.Header.Get("Content-Range")); ok && size == from {
				return true, nil
			}
			err = fmt.Errorf("range from %d not satisfiable", from)
			if rerr := p.reset(); rerr != nil {
				return false, rerr
			}
			continue
		default:
			resp.Body.Close()
			return resumed, &statusError{url: url, code: resp.StatusCode, header: resp.Header}
		}
		resumed = p.n > 0
		if m.total == 0 && total > 0 {
			m.total = total
		}
		m.resumed = resumed
		if resumed {
			c.log.Debug("resuming download", "url", url, "from", p.n)
		}
		m.report(p.n, true)
		err = copyBody(p, resp.Body, m)
		resp.Body.Close()
		if err == nil && total >= 0 && p.n != total {
			err = fmt.Errorf("got %d of %d bytes: %w", p.n, total, io.ErrUnexpectedEOF)
		}
		if err == nil {
			m.report(p.n, true)
			return resumed, nil
		}
		if ctx.Err() != nil {
			return resumed, ctx.Err()
		}
		if errors.Is(err, ErrDiskFull) || p.n == from {
			return resumed, err
		}
		c.log.Debug("connection cut; resuming", "url", url, "at", p.n, "err", err)
	}
}

// get sends one GET for url from byte from on.
func (c *config) get(ctx context.Context, url, token string, from int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// Byte offsets must be those of the file, not of a compressed stream.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "llmbench")
	if from > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c.log.Debug("GET", "url", url, "from", from)
	return c.client.Do(req)
}

// copyBody copies body into p, reporting progress.
func copyBody(p *partial, body io.Reader, m *meter) error {
	buf := make([]byte, copyBuffer)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := p.Write(buf[:n]); err != nil {
				return err
			}
			m.report(p.n, false)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// parseContentRange reads "bytes start-end/size" or "bytes */size"; size is -1 for "*".
func parseContentRange(s string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	span, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	size = -1
	if total != "*" {
		var err error
		if size, err = strconv.ParseInt(total, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	if span == "*" {
		return -1, size, true
	}
	first, _, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return start, size, true
}
