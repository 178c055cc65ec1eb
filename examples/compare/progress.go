package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/local-llm-bench/llmbench/bench"
	"github.com/local-llm-bench/llmbench/models"
)

// progress tells what compare is doing on stderr: one line redrawn in place on a terminal,
// plain lines (at most one a second for byte counts) otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// line shows s; a plain-text stream gets it only when force is set or a second has passed.
func (p *progress) line(s string, force bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", s)
		p.drawn = true
		return
	}
	if force || time.Since(p.last) >= time.Second {
		fmt.Fprintln(p.w, s)
		p.last = time.Now()
	}
}

// endLine ends a line drawn in place, so that the next message starts on its own line.
func (p *progress) endLine() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progress) event(e bench.Event) {
	switch {
	case e.Label == "load":
		p.line(fmt.Sprintf("%s: loading", e.Name), true)
	case e.Rep == 0:
		p.line(fmt.Sprintf("%s: %s warmup %s", e.Name, e.Label, e.Prompt), true)
	default:
		p.line(fmt.Sprintf("%s: %s %s %s", e.Name, e.Label, bar(e.Rep, e.Reps), e.Prompt), true)
	}
}

func (p *progress) quality(name string, done, total int) {
	p.line(fmt.Sprintf("%s: math questions %s", name, bar(done, total)), true)
}

func (p *progress) download(id string) func(models.Progress) {
	return func(pr models.Progress) {
		if pr.Total > 0 {
			p.line(fmt.Sprintf("%s: %s %.0f/%.0f MB", id, bar(int(pr.Downloaded>>20), int(pr.Total>>20)), float64(pr.Downloaded)/1e6, float64(pr.Total)/1e6), pr.Downloaded == pr.Total)
			return
		}
		p.line(fmt.Sprintf("%s: %.0f MB", id, float64(pr.Downloaded)/1e6), false)
	}
}

func (p *progress) writing(id string) func(done, total int64) {
	return func(done, total int64) {
		p.line(fmt.Sprintf("%s: F16 %s %.1f/%.1f GB", id, bar(int(done>>20), int(total>>20)), float64(done)/1e9, float64(total)/1e9), done == total)
	}
}

// bar draws [#####.....] 3/5.
func bar(done, total int) string {
	const width = 20
	if total <= 0 {
		return fmt.Sprintf("%d", done)
	}
	n := min(width, max(0, done*width/total))
	return fmt.Sprintf("[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
}
