package report

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTerminal writes the report's tables to w for a terminal: the INCOMPLETE banner when
// the run stopped early, the SLOW CPU BUILD one when llama.cpp's CPU kernels left the CPU's
// vector extensions unused, the PLANNER BREACH one when a fit sweep's plan broke its budget,
// then the summary, speed and memory, quality, serving (when measured), fits-on (with fit
// sweeps), models and run tables, each followed by its notes, and the verdict.
func WriteTerminal(w io.Writer, run Run) error {
	rows := Summarize(run)
	for _, b := range []string{banner(run), slowBuild(run), fitAlarm(FitRows(run))} {
		if b == "" {
			continue
		}
		if _, err := fmt.Fprintf(w, "*** %s ***\n\n", b); err != nil {
			return err
		}
	}
	for _, t := range tables(run, rows) {
		if err := writeTerminalTable(w, t); err != nil {
			return err
		}
	}
	return writeTerminalVerdict(w, verdict(rows))
}

// terminalColumnMax wraps long cells (the llama.cpp system line) to keep tables on a screen.
const terminalColumnMax = 60

func writeTerminalTable(w io.Writer, t table) error {
	if _, err := fmt.Fprintln(w, t.Title); err != nil {
		return err
	}
	align := make(tw.Alignment, len(t.Header))
	for i := range align {
		align[i] = tw.AlignLeft
		if t.Numeric && i > 0 {
			align[i] = tw.AlignRight
		}
	}
	tt := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithAlignment(align),
		tablewriter.WithRowMaxWidth(terminalColumnMax),
	)
	if t.headed() {
		tt.Header(t.Header)
	}
	if err := tt.Bulk(t.Rows); err != nil {
		return err
	}
	if err := tt.Render(); err != nil {
		return err
	}
	for _, n := range t.Notes {
		if _, err := fmt.Fprintf(w, "  %s\n", n); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}
