package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var (
	chartServingTokens = chart{"serving_tokens_per_second", "Serving: aggregate (solid) and per-user p10 (dashed) tokens/s against users", drawServingTokens}
	chartServingTTFT   = chart{"serving_ttft", "Serving: TTFT p99 against users (ms, queueing included)", drawServingTTFT}
)

// ChartServingTokens draws each model's aggregate output tokens/s and per-user p10 tokens/s
// against the number of users (closed loop, log scales), with the target's per-user rate, as
// a PNG. Models whose serving was not measured are left out.
func ChartServingTokens(run Run) ([]byte, error) {
	return renderChart(chartServingTokens, run, Summarize(run))
}

// ChartServingTTFT draws each model's p99 time to first token against the number of users,
// with the target's bound, as a PNG.
func ChartServingTTFT(run Run) ([]byte, error) {
	return renderChart(chartServingTTFT, run, Summarize(run))
}

// series is one line of a serving chart.
type series struct {
	xy     plotter.XYs
	color  color.Color
	dashed bool
	legend string
}

var (
	dashes     = []vg.Length{vg.Points(5), vg.Points(3)}
	dots       = []vg.Length{vg.Points(1.5), vg.Points(3)}
	targetGray = color.Gray{Y: 0x60}
)

func drawServingTokens(p *plot.Plot, rows []Row) error {
	var lines []series
	target := math.NaN()
	for i, r := range rows {
		if r.serving == nil {
			continue
		}
		agg := series{color: modelColor(i), legend: chartName(r.Name)}
		user := series{color: modelColor(i), dashed: true}
		for _, l := range r.serving.Closed {
			agg.xy = appendPositive(agg.xy, float64(l.Users), l.OutputTPS, true)
			user.xy = appendPositive(user.xy, float64(l.Users), l.PerUserTPS.P10, l.PerUserTPS.N > 0)
		}
		lines = append(lines, agg, user)
		if math.IsNaN(target) {
			target = r.serving.Spec.Target.TokensPerSecond
		}
	}
	return drawServing(p, lines, "tokens/s", target, "target per-user rate")
}

func drawServingTTFT(p *plot.Plot, rows []Row) error {
	var lines []series
	target := math.NaN()
	for i, r := range rows {
		if r.serving == nil {
			continue
		}
		s := series{color: modelColor(i), legend: chartName(r.Name)}
		for _, l := range r.serving.Closed {
			s.xy = appendPositive(s.xy, float64(l.Users), l.TTFTMs.P99, l.TTFTMs.N > 0)
		}
		lines = append(lines, s)
		if math.IsNaN(target) {
			target = r.serving.Spec.Target.TTFTP99Ms
		}
	}
	return drawServing(p, lines, "ms", target, "target TTFT p99")
}

// appendPositive adds the point where it has a value that a log scale can show.
func appendPositive(xy plotter.XYs, x, y float64, ok bool) plotter.XYs {
	if !ok || !(y > 0) || math.IsInf(y, 0) {
		return xy
	}
	return append(xy, plotter.XY{X: x, Y: y})
}

// drawServing draws the lines against users on log scales, with the target as a dotted
// line across; a chart with no point says so.
func drawServing(p *plot.Plot, lines []series, ylabel string, target float64, targetLabel string) error {
	var xs []float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range lines {
		for _, pt := range s.xy {
			xs = append(xs, pt.X)
			lo, hi = min(lo, pt.Y), max(hi, pt.Y)
		}
	}
	if len(xs) == 0 {
		p.HideAxes()
		p.Add(caption{text: "no serving level measured", middle: true})
		return nil
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	if target > 0 {
		lo, hi = min(lo, target), max(hi, target)
	}
	for _, s := range lines {
		if len(s.xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = s.color, s.color
		l.Width = vg.Points(1.8)
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(2.5)
		if s.dashed {
			l.Dashes = dashes
		}
		p.Add(l, pts)
		if s.legend != "" {
			p.Legend.Add(s.legend, l)
		}
	}
	xMin, xMax := xs[0]/1.25, xs[len(xs)-1]*1.25
	if target > 0 {
		t, err := plotter.NewLine(plotter.XYs{{X: xMin, Y: target}, {X: xMax, Y: target}})
		if err != nil {
			return err
		}
		t.Color, t.Width, t.Dashes = targetGray, vg.Points(1.2), dots
		p.Add(t)
		p.Legend.Add(fmt.Sprintf("%s (%s)", targetLabel, strconv.FormatFloat(target, 'f', -1, 64)), t)
	}
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Min, p.X.Max = xMin, xMax
	p.X.Label.Text = "users"
	ticks := make([]plot.Tick, len(xs))
	for i, x := range xs {
		ticks[i] = plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', -1, 64)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = below125(lo/1.1), above125(hi*1.1)
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = ticks125{}
	grid := plotter.NewGrid()
	p.Add(grid)
	p.Legend.Top = true
	p.Legend.Left = true
	return nil
}

// ticks125 labels a log axis at 1, 2 and 5 times the powers of ten, with unlabelled ticks
// between.
type ticks125 struct{}

func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// below125 is the largest of 1, 2 and 5 times a power of ten at or below v; above125 the
// smallest at or above it: an axis between them has a labelled tick at each end.
func below125(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if m*e <= v*(1+1e-9) {
			return m * e
		}
	}
	return e
}

func above125(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v*(1-1e-9) {
			return m * e
		}
	}
	return 10 * e
}
