package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown (GitHub's tables): the INCOMPLETE banner when
// the run stopped early, the SLOW CPU BUILD one when llama.cpp's CPU kernels left the CPU's
// vector extensions unused, the tables with their notes, the charts as images that link to
// the PNG files WriteFiles writes beside report.md, and the verdict.
func WriteMarkdown(w io.Writer, run Run) error {
	return writeMarkdown(w, run, Summarize(run))
}

func writeMarkdown(w io.Writer, run Run, rows []Row) error {
	run.Generated = run.generated() // the same time in the text and the Run table
	var b strings.Builder
	b.WriteString("# llmbench report\n\n")
	if s := banner(run); s != "" {
		fmt.Fprintf(&b, "> **%s**%s\n\n", incompleteText, mdEscape(strings.TrimPrefix(s, incompleteText)))
	}
	if s := slowBuild(run); s != "" {
		fmt.Fprintf(&b, "> **%s**%s\n\n", slowBuildText, mdEscape(strings.TrimPrefix(s, slowBuildText)))
	}
	if s := fitAlarm(FitRows(run)); s != "" {
		fmt.Fprintf(&b, "> **%s**%s\n\n", planFailureText, mdEscape(strings.TrimPrefix(s, planFailureText)))
	}
	fmt.Fprintf(&b, "%d models, generated %s.\n\n", len(run.Models), run.Generated.UTC().Format(timeLayout))
	ts := tables(run, rows)
	mdTable(&b, ts[0])
	b.WriteString("## Charts\n\n")
	for _, c := range reportCharts(run, rows) {
		fmt.Fprintf(&b, "![%s](%s)\n\n", mdEscape(c.title), c.name+".png")
	}
	for _, t := range ts[1:] {
		mdTable(&b, t)
	}
	mdVerdict(&b, verdict(rows))
	_, err := io.WriteString(w, b.String())
	return err
}

func mdTable(b *strings.Builder, t table) {
	fmt.Fprintf(b, "## %s\n\n", t.Title)
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + mdEscape(c) + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|")
	for i := range t.Header {
		if t.Numeric && i > 0 {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
	b.WriteString("\n")
	for _, n := range t.Notes {
		b.WriteString("- " + mdEscape(n) + "\n")
	}
	if len(t.Notes) > 0 {
		b.WriteString("\n")
	}
}

// mdEscape keeps text from breaking a table or turning into markup.
var mdEscape = strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;").Replace
