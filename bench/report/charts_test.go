package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chartFuncs are the exported chart functions, by chart name.
var chartFuncs = map[string]func(Run) ([]byte, error){
	"tokens_per_second": ChartTokensPerSecond,
	"vram":              ChartVRAM,
	"latency":           ChartLatency,
	"quality":           ChartQuality,
	"radar":             ChartRadar,
	"efficiency":        ChartEfficiency,
}

// pngLook is what a person would notice first about an image.
type pngLook struct {
	width, height int
	colors        int     // distinct colours
	inked         float64 // share of pixels that are not white
	pixels        map[color.RGBA]int
}

func lookAt(t *testing.T, b []byte) pngLook {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	r := img.Bounds()
	l := pngLook{width: r.Dx(), height: r.Dy(), pixels: map[color.RGBA]int{}}
	inked := 0
	count := func(c color.RGBA) {
		l.pixels[c]++
		if c != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
			inked++
		}
	}
	switch m := img.(type) {
	case *image.NRGBA: // what both gonum/plot and Chromium write; opaque, so the same as RGBA
		for i := 0; i < len(m.Pix); i += 4 {
			require.Equal(t, uint8(0xff), m.Pix[i+3], "opaque")
			count(color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3]})
		}
	default:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				count(color.RGBAModel.Convert(img.At(x, y)).(color.RGBA))
			}
		}
	}
	l.colors = len(l.pixels)
	l.inked = float64(inked) / float64(r.Dx()*r.Dy())
	return l
}

// manyModels is twelve CPU results with long names, more than the palette has colours.
func manyModels() Run {
	run := Run{Complete: true}
	for i := range 12 {
		run.Models = append(run.Models, Model{Result: cpuResult(fmt.Sprintf("a-rather-long-model-name-%02d.Q4_K_M", i), float64(50+10*i))})
	}
	return run
}

func TestCharts(t *testing.T) {
	h200 := h200Run(t)
	one := Run{Models: h200.Models[:1], Complete: true}
	interrupted := h200Run(t)
	interrupted.Complete = false
	runs := []struct {
		name string
		run  Run
	}{
		{"H200", h200}, {"without GPU", noGPURun(t)}, {"one model", one}, {"many models", manyModels()},
		{"no models", Run{Complete: true}}, {"interrupted", interrupted},
	}
	require.Len(t, chartFuncs, len(charts))
	for _, rr := range runs {
		for _, c := range charts {
			t.Run(rr.name+"/"+c.name, func(t *testing.T) {
				b, err := chartFuncs[c.name](rr.run)
				require.NoError(t, err)
				l := lookAt(t, b)
				assert.Equal(t, [2]int{ChartWidth, ChartHeight}, [2]int{l.width, l.height})
				assert.Greater(t, l.colors, 16, "antialiased text and shapes")
				assert.Greater(t, l.inked, 0.003, "something is drawn")
				assert.Less(t, l.inked, 0.6, "not a filled rectangle")
			})
		}
	}
}

// TestChartBars checks that bars are drawn in each model's colour where there is a figure,
// and that a missing figure draws no bar.
func TestChartBars(t *testing.T) {
	h200, nogpu := h200Run(t), noGPURun(t)
	tests := []struct {
		name  string
		chart func(Run) ([]byte, error)
		run   Run
		bars  []bool // per model
	}{
		{"tokens/s", ChartTokensPerSecond, h200, []bool{true, true, true}},
		{"vram", ChartVRAM, h200, []bool{true, true, true}},
		{"quality", ChartQuality, h200, []bool{true, true, true}},
		{"efficiency", ChartEfficiency, h200, []bool{true, true, true}},
		{"tokens/s without GPU", ChartTokensPerSecond, nogpu, []bool{true, true, true}},
		{"vram without GPU", ChartVRAM, nogpu, []bool{false, false, false}},
		{"quality without GPU", ChartQuality, nogpu, []bool{false, false, false}},
		{"efficiency without GPU", ChartEfficiency, nogpu, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.chart(tt.run)
			require.NoError(t, err)
			l := lookAt(t, b)
			for i, want := range tt.bars {
				n := l.pixels[modelColor(i)]
				if want {
					assert.Greater(t, n, 2000, "bar of model %d", i)
				} else {
					assert.Less(t, n, 50, "no bar for model %d", i)
				}
			}
		})
	}
}

func TestChartLatencyGroups(t *testing.T) {
	b, err := ChartLatency(h200Run(t))
	require.NoError(t, err)
	l := lookAt(t, b)
	for _, c := range latencyColors {
		assert.Greater(t, l.pixels[color.RGBAModel.Convert(c).(color.RGBA)], 3*2000)
	}
}

func TestRadarScores(t *testing.T) {
	rows := Summarize(h200Run(t))
	axes, scores, dropped := radarScores(rows)
	assert.Equal(t, []string{"tokens/s", "1 / VRAM", "quality", "1 / TTFT", "1 / (J/token)"}, axes)
	assert.Empty(t, dropped)
	// gemma is the fastest, smallest, quickest to answer and most frugal; mistral the most accurate.
	assert.InDeltaSlice(t, []float64{1, 1, 0.7 / 0.9, 1, 1}, scores[0], 1e-12)
	assert.Equal(t, 1.0, scores[2][2])
	for _, s := range scores {
		for _, v := range s {
			assert.True(t, v > 0 && v <= 1, "%v", v)
		}
	}

	axes, scores, dropped = radarScores(Summarize(noGPURun(t)))
	assert.Equal(t, []string{"tokens/s", "1 / TTFT"}, axes)
	assert.Equal(t, []string{"VRAM", "quality", "J/token"}, dropped)
	assert.Len(t, scores[0], 2)
}

// The PNGs are real images: image.DecodeConfig agrees with the constants.
func TestChartConfig(t *testing.T) {
	b, err := ChartRadar(h200Run(t))
	require.NoError(t, err)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, "png", format)
	assert.Equal(t, ChartWidth, cfg.Width)
	assert.Equal(t, ChartHeight, cfg.Height)
}
