package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ChartWidth and ChartHeight are the size in pixels of every chart's PNG.
const (
	ChartWidth  = 1200
	ChartHeight = 750
)

// chartDPI draws at twice the 96 dpi of a screen, so that charts stay sharp on dense screens
// and when zoomed, and their text stays legible in the HTML page, which shows them at about
// half their pixel size.
const chartDPI = 192

// chart is one of a report's charts: its file name stem, its title, and how to draw it from
// the summary rows.
type chart struct {
	name  string
	title string
	draw  func(p *plot.Plot, rows []Row) error
}

var (
	chartTokens     = chart{"tokens_per_second", "Decode tokens/s (mean ± sd)", drawTokensPerSecond}
	chartVRAM       = chart{"vram", "Peak VRAM (MiB, per process)", drawVRAM}
	chartLatency    = chart{"latency", "Latency: time to first token and inter-token p99 (ms)", drawLatency}
	chartQuality    = chart{"quality", "Math accuracy (95% Wilson interval)", drawQuality}
	chartRadar      = chart{"radar", "Trade-offs (1 = best of these models)", drawRadar}
	chartEfficiency = chart{"efficiency", "Efficiency = quality × tok/s ÷ GB (VRAM; RSS on the CPU)", drawEfficiency}
)

// charts are the report's charts in the order shown.
var charts = []chart{chartTokens, chartVRAM, chartLatency, chartQuality, chartRadar, chartEfficiency}

// reportCharts are the charts of run's report: charts, then the two of serving when any
// model's serving was measured, then that of the fit sweeps where the run has some.
func reportCharts(run Run, rows []Row) []chart {
	cs := slices.Clip(charts)
	if hasServing(rows) {
		cs = append(cs, chartServingTokens, chartServingTTFT)
	}
	if c, ok := fitChart(run); ok {
		cs = append(cs, c)
	}
	return cs
}

// ChartTokensPerSecond draws the decode tokens/s of each model, with ± one standard
// deviation, as a PNG of ChartWidth × ChartHeight pixels.
func ChartTokensPerSecond(run Run) ([]byte, error) {
	return renderChart(chartTokens, run, Summarize(run))
}

// ChartVRAM draws the peak VRAM of each model's process, as a PNG.
func ChartVRAM(run Run) ([]byte, error) { return renderChart(chartVRAM, run, Summarize(run)) }

// ChartLatency draws each model's time to first token beside its inter-token latency p99, as
// a PNG.
func ChartLatency(run Run) ([]byte, error) { return renderChart(chartLatency, run, Summarize(run)) }

// ChartQuality draws each model's math accuracy with its 95% interval, as a PNG.
func ChartQuality(run Run) ([]byte, error) { return renderChart(chartQuality, run, Summarize(run)) }

// ChartRadar draws each model as a polygon over normalized axes where outward is better:
// tokens/s, 1/VRAM, quality, 1/TTFT and 1/(J/token), each relative to the best model's, as a
// PNG. An axis no model has a figure for is left out; a model's missing figure sits at the
// centre, and the chart says so.
func ChartRadar(run Run) ([]byte, error) { return renderChart(chartRadar, run, Summarize(run)) }

// ChartEfficiency draws each model's efficiency (quality × tok/s ÷ VRAM GB), as a PNG.
func ChartEfficiency(run Run) ([]byte, error) {
	return renderChart(chartEfficiency, run, Summarize(run))
}

// renderChart draws c as a PNG; a report of an incomplete run says so in the title.
func renderChart(c chart, run Run, rows []Row) ([]byte, error) {
	p := plot.New()
	p.Title.Text = c.title
	if !run.complete() {
		p.Title.Text += " — " + incompleteText
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Padding = vg.Points(3)
	if len(rows) == 0 {
		p.HideAxes()
		p.Add(caption{text: "no models", middle: true})
	} else if err := c.draw(p, rows); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.name, err)
	}
	canvas := vgimg.NewWith(
		vgimg.UseWH(ChartWidth*vg.Inch/chartDPI, ChartHeight*vg.Inch/chartDPI),
		vgimg.UseDPI(chartDPI),
		vgimg.UseBackgroundColor(color.White),
	)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.name, err)
	}
	return buf.Bytes(), nil
}

// palette gives each model the same colour in every chart (Tableau 10).
var palette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff},
	{0x76, 0xb7, 0xb2, 0xff}, {0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff},
	{0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff}, {0x9c, 0x75, 0x5f, 0xff},
	{0xba, 0xb0, 0xac, 0xff},
}

func modelColor(i int) color.RGBA { return palette[i%len(palette)] }

// bars is one bar per model: values, optional error whiskers below and above each value, the
// text of each label, and the bar's offset within a group of bars of the same model.
type bars struct {
	values []Num
	errLow []float64 // nil: no whiskers
	errHi  []float64
	labels []string
	color  func(i int) color.Color
	offset vg.Length
	width  vg.Length
	legend string // "": no legend entry
}

// dataWidth is about the width of a bar chart's data area.
const dataWidth vg.Length = 390 // points

// barWidth fits n groups of k bars in the plot's width.
func barWidth(n, k int) vg.Length {
	return min(vg.Points(50), dataWidth*0.75/vg.Length(n))/vg.Length(k) - vg.Points(1)
}

// addBars adds b to p: a bar per model with a value, its whiskers, and its label above it; a
// model without a value gets its label ("n/a") on the baseline instead of a bar. It returns
// the top of the highest bar or whisker.
func addBars(p *plot.Plot, b bars) (top float64, err error) {
	var labels plotter.XYLabels
	var legendBar *plotter.BarChart
	// With many models, labels wider than their room would run into each other: values go,
	// and n/a keeps its word but not its reason.
	sty := labelStyle(p)
	fits := func(s string) bool { return sty.Width(s) <= b.width*1.6 }
	slot := dataWidth / vg.Length(len(b.values))
	for i, v := range b.values {
		if !v.OK() {
			label := b.labels[i]
			if sty.Width(label) > slot*0.95 {
				label = naText
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: 0})
			labels.Labels = append(labels.Labels, label)
			continue
		}
		bc, err := plotter.NewBarChart(plotter.Values{v.Value}, b.width)
		if err != nil {
			return 0, err
		}
		bc.XMin, bc.Offset, bc.Color = float64(i), b.offset, b.color(i)
		bc.LineStyle.Width = 0
		p.Add(bc)
		legendBar = bc
		hi := v.Value
		if b.errLow != nil {
			eb, err := plotter.NewYErrorBars(errorBar{x: float64(i), y: v.Value, low: b.errLow[i], high: b.errHi[i]})
			if err != nil {
				return 0, err
			}
			eb.LineStyle.Width = vg.Points(1.2)
			p.Add(eb)
			hi += b.errHi[i]
		}
		top = max(top, hi)
		if fits(b.labels[i]) {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: hi})
			labels.Labels = append(labels.Labels, b.labels[i])
		}
	}
	if len(labels.Labels) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return 0, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i] = sty
		}
		l.Offset = vg.Point{X: b.offset, Y: vg.Points(3)}
		p.Add(l)
	}
	if legendBar == nil && len(b.values) > 0 {
		p.Add(caption{text: noneMeasured(b.values), middle: true})
	}
	if b.legend != "" && legendBar != nil {
		p.Legend.Add(b.legend, legendBar)
	}
	return top, nil
}

// labelStyle is the style of the values above the bars.
func labelStyle(p *plot.Plot) draw.TextStyle {
	return draw.TextStyle{
		Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(9)),
		XAlign: draw.XCenter, YAlign: draw.YBottom, Handler: p.TextHandler,
	}
}

// errorBar is one whisker for plotter.NewYErrorBars.
type errorBar struct{ x, y, low, high float64 }

func (e errorBar) Len() int                      { return 1 }
func (e errorBar) XY(int) (float64, float64)     { return e.x, e.y }
func (e errorBar) YError(int) (float64, float64) { return e.low, e.high }

// modelAxis sets p's X axis to the models' names, slanted when they would not fit side by
// side, and its Y axis from 0 to a little above top, leaving room for the labels.
func modelAxis(p *plot.Plot, rows []Row, ylabel string, top float64) {
	yAxis := vg.Points(20)         // about the width of the Y axis's ticks and label
	p.Y.Min, p.Y.Max = 0, top*1.25 // room for the labels and the legend
	p.Y.Label.Text = ylabel
	if top <= 0 { // nothing measured: the n/a labels say why
		p.Y.Max = 1
		p.HideY()
		p.Y.Label.Text = ""
		yAxis = 0
	}

	names := make([]string, len(rows))
	width := vg.Length(0)
	for i, r := range rows {
		names[i] = chartName(r.Name)
		width += p.X.Tick.Label.Width(names[i]) + vg.Points(8)
	}
	p.NominalX(names...)
	p.Y.Padding = 0
	if width > vg.Points(360) {
		const slant = math.Pi / 6
		p.X.Tick.Label.Rotation = slant
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
		// gonum/plot leaves slanted labels out of its layout: move the data right so that
		// the first name, which reaches left of its bar, stays on the canvas.
		slot := dataWidth / vg.Length(float64(len(rows))+0.2)
		l := p.X.Tick.Label
		reach := l.Width(names[0])*vg.Length(math.Cos(slant)) + l.Height(names[0])*vg.Length(math.Sin(slant))
		p.Y.Padding = max(0, reach-yAxis-slot*0.6)
	}
	p.X.Min, p.X.Max = -0.6, float64(len(rows))-0.4

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	p.Legend.Top = true
}

func solid(i int) color.Color { return modelColor(i) }

// chartNameMax is the longest model name a chart shows whole; longer ones lose their middle,
// keeping the start and the end (the size and quantization), which tell models apart.
const chartNameMax = 36

func chartName(name string) string {
	r := []rune(name)
	if len(r) <= chartNameMax {
		return name
	}
	head := (chartNameMax - 1) / 2
	tail := chartNameMax - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// barChart draws one bar per model of the figure get gives, labelled by label, with ± one
// standard deviation whiskers when sd is set.
func barChart(ylabel string, get func(Row) Num, label func(Num) string, sd bool) func(*plot.Plot, []Row) error {
	return func(p *plot.Plot, rows []Row) error {
		b := bars{color: solid, width: barWidth(len(rows), 1)}
		for _, r := range rows {
			n := get(r)
			b.values = append(b.values, n)
			if sd {
				b.errLow = append(b.errLow, n.SD)
				b.errHi = append(b.errHi, n.SD)
			}
			b.labels = append(b.labels, label(n))
		}
		top, err := addBars(p, b)
		modelAxis(p, rows, ylabel, top)
		return err
	}
}

var (
	drawTokensPerSecond = barChart("tokens/s", func(r Row) Num { return r.DecodeTPS },
		func(n Num) string { return cell(n, "%.1f") }, true)
	drawVRAM = barChart("MiB", func(r Row) Num { return r.PeakVRAMMiB },
		func(n Num) string { return naLabel(n, "%.0f MiB") }, false)
	drawEfficiency = barChart("accuracy × tok/s ÷ GB", func(r Row) Num { return r.Efficiency },
		func(n Num) string { return naLabel(n, "%.1f") }, false)
)

// naLabel is the value, or "n/a: why" for a bar that is missing.
func naLabel(n Num, format string) string {
	if !n.OK() {
		return naText + ": " + n.NA
	}
	return fmt.Sprintf(format, n.Value)
}

// latencyColors tell TTFT from ITL p99, the same for every model.
var latencyColors = [2]color.Color{color.RGBA{0x4e, 0x79, 0xa7, 0xff}, color.RGBA{0xf2, 0x8e, 0x2b, 0xff}}

func drawLatency(p *plot.Plot, rows []Row) error {
	w := barWidth(len(rows), 2)
	ttft := bars{color: func(int) color.Color { return latencyColors[0] }, width: w, offset: -w / 2, legend: "TTFT"}
	itl := bars{color: func(int) color.Color { return latencyColors[1] }, width: w, offset: w / 2, legend: "ITL p99"}
	for _, r := range rows {
		ttft.values = append(ttft.values, r.TTFTMs)
		ttft.labels = append(ttft.labels, cell(r.TTFTMs, "%.2f"))
		itl.values = append(itl.values, r.ITLP99Ms)
		itl.labels = append(itl.labels, cell(r.ITLP99Ms, "%.2f"))
	}
	top1, err := addBars(p, ttft)
	if err != nil {
		return err
	}
	top2, err := addBars(p, itl)
	modelAxis(p, rows, "ms", max(top1, top2))
	return err
}

func drawQuality(p *plot.Plot, rows []Row) error {
	b := bars{color: solid, width: barWidth(len(rows), 1)}
	for _, r := range rows {
		b.values = append(b.values, r.Accuracy)
		b.errLow = append(b.errLow, r.Accuracy.Value-r.CI95Low)
		b.errHi = append(b.errHi, r.CI95High-r.Accuracy.Value)
		b.labels = append(b.labels, qualityCell(r))
	}
	_, err := addBars(p, b)
	modelAxis(p, rows, "accuracy", 1)
	p.Y.Max = 1.1
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 0.2}, {Value: 0.4, Label: "0.4"},
		{Value: 0.6}, {Value: 0.8, Label: "0.8"}, {Value: 1, Label: "1"}})
	return err
}

// noneMeasured says why a chart has no bars: the reason, when every model gives the same.
func noneMeasured(values []Num) string {
	why := values[0].NA
	for _, v := range values {
		if v.NA != why {
			return "not measured for any model"
		}
	}
	return "not measured for any model: " + why
}

// caption writes a line of text at the bottom of the data area, or in its middle.
type caption struct {
	text   string
	middle bool
}

func (c caption) Plot(dc draw.Canvas, p *plot.Plot) {
	sty := draw.TextStyle{
		Color: color.Gray{Y: 0x50}, Font: font.From(plot.DefaultFont, vg.Points(9)),
		XAlign: draw.XCenter, YAlign: draw.YBottom, Handler: p.TextHandler,
	}
	at := vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Min.Y}
	if c.middle {
		sty.Font.Size = vg.Points(12)
		sty.YAlign = draw.YCenter
		at.Y = (dc.Min.Y + dc.Max.Y) / 2
	}
	dc.FillText(sty, at, c.text)
}
