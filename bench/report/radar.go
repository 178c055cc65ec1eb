package report

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// radarAxis is one spoke of the radar: a figure, and whether less of it is better (drawn as
// its inverse).
type radarAxis struct {
	name   string // on the spoke
	figure string // in the notes
	get    func(Row) Num
	lower  bool
}

// usable reports whether n can be scored on a: a figure that is not negative, nor 0 where
// less is better (drawn as its inverse).
func (a radarAxis) usable(n Num) bool {
	unusable := !n.OK() || n.Value < 0 || (a.lower && n.Value <= 0)
	return !unusable
}

// minRadarAxes is the fewest axes that make a polygon; with fewer the chart says so instead.
const minRadarAxes = 3

var radarAxes = []radarAxis{
	{"tokens/s", "tokens/s", func(r Row) Num { return r.DecodeTPS }, false},
	{"1 / VRAM", "VRAM", func(r Row) Num { return r.PeakVRAMMiB }, true},
	{"quality", "quality", func(r Row) Num { return r.Accuracy }, false},
	{"1 / TTFT", "TTFT", func(r Row) Num { return r.TTFTMs }, true},
	{"1 / (J/token)", "J/token", func(r Row) Num { return r.JPerToken }, true},
}

// radarScores normalizes each axis so that the best model scores 1: value ÷ the highest, or,
// where less is better, the lowest ÷ value. A missing figure is NaN. Axes no model has a
// figure for are left out and named in dropped.
func radarScores(rows []Row) (axes []string, scores [][]float64, dropped []string) {
	scores = make([][]float64, len(rows))
	for _, a := range radarAxes {
		best, found := math.NaN(), false
		for _, r := range rows {
			n := a.get(r)
			if !a.usable(n) {
				continue
			}
			switch {
			case !found:
				best = n.Value
			case a.lower:
				best = min(best, n.Value)
			default:
				best = max(best, n.Value)
			}
			found = true
		}
		if !found {
			dropped = append(dropped, a.figure)
			continue
		}
		axes = append(axes, a.name)
		for i, r := range rows {
			n := a.get(r)
			s := math.NaN()
			switch {
			case !a.usable(n):
			case a.lower:
				s = best / n.Value
			case best > 0:
				s = n.Value / best
			default:
				s = 0 // every model scored 0
			}
			scores[i] = append(scores[i], s)
		}
	}
	return axes, scores, dropped
}

func drawRadar(p *plot.Plot, rows []Row) error {
	axes, scores, dropped := radarScores(rows)
	p.HideAxes()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -1, 1, -1, 1
	rd := radar{axes: axes}
	var missing []string
	for i, r := range rows {
		rd.series = append(rd.series, radarSeries{color: modelColor(i), scores: scores[i]})
		if len(axes) >= minRadarAxes { // else there are no polygons to tell apart
			p.Legend.Add(chartName(r.Name), swatch{modelColor(i)})
		}
		var na []string
		for k, s := range scores[i] {
			if math.IsNaN(s) {
				na = append(na, axes[k])
			}
		}
		if len(na) > 0 {
			missing = append(missing, fmt.Sprintf("%s (%s)", r.Name, strings.Join(na, ", ")))
		}
	}
	p.Legend.Top = true
	p.Add(rd)
	var notes []string
	if len(dropped) > 0 {
		notes = append(notes, "no data, left out: "+strings.Join(dropped, ", "))
	}
	if len(missing) > 0 {
		notes = append(notes, "n/a, drawn at the centre: "+strings.Join(missing, "; "))
	}
	if len(notes) > 0 {
		p.Add(caption{text: strings.Join(notes, ". ")})
	}
	return nil
}

// radar draws polygons over spokes, one per series, in the data area's largest centred
// square, since gonum/plot has no radar plotter.
type radar struct {
	axes   []string
	series []radarSeries
}

type radarSeries struct {
	color  color.RGBA
	scores []float64 // in [0, 1]; NaN: missing
}

func (rd radar) Plot(c draw.Canvas, p *plot.Plot) {
	label := draw.TextStyle{
		Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(11)), Handler: p.TextHandler,
	}
	// The legend sits at the top right: centre the radar in what is left of the width.
	legend := p.Legend.Rectangle(c)
	width := c.Max.X - c.Min.X - (legend.Max.X - legend.Min.X)
	center := vg.Point{X: c.Min.X + width/2, Y: (c.Min.Y + c.Max.Y) / 2}
	if len(rd.axes) < minRadarAxes {
		label.XAlign, label.YAlign = draw.XCenter, draw.YCenter
		c.FillText(label, center, fmt.Sprintf("%d of %d figures measured: too few for a radar", len(rd.axes), len(radarAxes)))
		return
	}
	labelWidth := vg.Length(0)
	for _, a := range rd.axes {
		labelWidth = max(labelWidth, label.Width(a))
	}
	radius := min((c.Max.Y-c.Min.Y)/2*0.82, width/2-labelWidth-vg.Points(6))
	n := len(rd.axes)
	// Centre the polygon's height, not its circle: with an odd number of spokes the bottom
	// vertices sit above the circle's bottom.
	lowest := 1.0
	for k := range n {
		lowest = min(lowest, math.Sin(math.Pi/2-2*math.Pi*float64(k)/float64(n)))
	}
	center.Y -= radius * vg.Length((1+lowest)/2)
	at := func(k int, v float64) vg.Point {
		a := math.Pi/2 - 2*math.Pi*float64(k)/float64(n) // clockwise from the top
		return vg.Point{X: center.X + radius*vg.Length(v*math.Cos(a)), Y: center.Y + radius*vg.Length(v*math.Sin(a))}
	}

	grid := draw.LineStyle{Color: color.Gray{Y: 0xc8}, Width: vg.Points(0.6)}
	for _, f := range []float64{0.25, 0.5, 0.75, 1} {
		ring := make([]vg.Point, 0, n+1)
		for k := 0; k <= n; k++ {
			ring = append(ring, at(k%n, f))
		}
		c.StrokeLines(grid, ring)
	}
	for k, name := range rd.axes {
		c.StrokeLines(grid, []vg.Point{center, at(k, 1)})
		end := at(k, 1.07)
		sty := label
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		switch dx := end.X - center.X; {
		case dx > radius/10:
			sty.XAlign = draw.XLeft
		case dx < -radius/10:
			sty.XAlign = draw.XRight
		}
		switch dy := end.Y - center.Y; {
		case dy > radius/10:
			sty.YAlign = draw.YBottom
		case dy < -radius/10:
			sty.YAlign = draw.YTop
		}
		c.FillText(sty, end, name)
	}

	polygons := make([][]vg.Point, len(rd.series))
	for i, s := range rd.series {
		for k, v := range s.scores {
			if math.IsNaN(v) {
				v = 0
			}
			polygons[i] = append(polygons[i], at(k, v))
		}
		fill := s.color
		fill.A = 0x30
		c.FillPolygon(premultiplied(fill), polygons[i])
	}
	// Outlines after every fill, so that no model's fill tints another's outline.
	for i, s := range rd.series {
		pts := polygons[i]
		c.StrokeLines(draw.LineStyle{Color: s.color, Width: vg.Points(1.8)}, append(pts, pts[0]))
		for _, pt := range pts {
			c.DrawGlyph(draw.GlyphStyle{Color: s.color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}, pt)
		}
	}
}

// premultiplied turns a straight-alpha colour into the alpha-premultiplied one that
// color.RGBA means.
func premultiplied(c color.RGBA) color.RGBA {
	f := func(v uint8) uint8 { return uint8(uint16(v) * uint16(c.A) / 0xff) }
	return color.RGBA{f(c.R), f(c.G), f(c.B), c.A}
}

// swatch is a legend entry: a square of a model's colour.
type swatch struct{ color color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.color, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	})
}
