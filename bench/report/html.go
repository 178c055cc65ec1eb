package report

import (
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"headed": table.headed,
	"cellClass": func(t table, col int, text string) string {
		var cls []string
		if t.Numeric && col > 0 {
			cls = append(cls, "num")
		}
		switch text {
		case naText, notApplicable, notMeasured, "-", "does not fit":
			cls = append(cls, "na")
		}
		return strings.Join(cls, " ")
	},
}).Parse(htmlSource))

// htmlChart is a chart as the page embeds it.
type htmlChart struct {
	Name, Title   string
	Src           template.URL
	Width, Height int
}

type htmlData struct {
	Models    int
	Generated string
	Banner    bool
	Missing   []string
	SlowBuild string
	Breach    string
	Summary   table
	Charts    []htmlChart
	Tables    []table
	Verdict   Verdict
}

// WriteHTML writes the report as one self-contained HTML page: the INCOMPLETE banner when the
// run stopped early, the SLOW CPU BUILD one when llama.cpp's CPU kernels left the CPU's vector
// extensions unused, the summary, the charts as PNG data: URIs, the other tables and the
// verdict, with inline CSS and no script, font or anything else to fetch.
func WriteHTML(w io.Writer, run Run) error {
	rows := Summarize(run)
	pngs, err := renderCharts(run, rows)
	if err != nil {
		return err
	}
	return writeHTML(w, run, rows, pngs)
}

// renderCharts draws every chart of the report, in the order of reportCharts.
func renderCharts(run Run, rows []Row) ([][]byte, error) {
	cs := reportCharts(run, rows)
	out := make([][]byte, len(cs))
	for i, c := range cs {
		b, err := renderChart(c, run, rows)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func writeHTML(w io.Writer, run Run, rows []Row, pngs [][]byte) error {
	run.Generated = run.generated() // the same time in the heading and the Run table
	ts := tables(run, rows)
	d := htmlData{
		Models:    len(run.Models),
		Generated: run.Generated.UTC().Format(timeLayout),
		Banner:    !run.complete(),
		Missing:   run.Unfinished(),
		SlowBuild: strings.TrimPrefix(slowBuild(run), slowBuildText+": "),
		Breach:    strings.TrimPrefix(fitAlarm(FitRows(run)), planFailureText+": "),
		Summary:   ts[0],
		Tables:    ts[1:],
		Verdict:   verdict(rows),
	}
	for i, c := range reportCharts(run, rows) {
		d.Charts = append(d.Charts, htmlChart{
			Name: c.name, Title: c.title,
			// The page shows charts at half their pixel size at most: sharp on dense screens.
			Width: ChartWidth / 2, Height: ChartHeight / 2,
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(pngs[i])),
		})
	}
	return htmlTemplate.Execute(w, d)
}
