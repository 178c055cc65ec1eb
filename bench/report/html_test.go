package report

import (
	"bytes"
	"encoding/base64"
	"html"
	"image"
	_ "image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var imgSrc = regexp.MustCompile(`<img src="([^"]*)"`)

// TestHTMLSelfContained checks that the page needs nothing from outside: no script, style
// sheet, font or image to fetch, and every chart is a PNG inside the page.
func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, h200Run(t)))
	page := b.String()
	for _, s := range []string{"<script", "<link", "@import", "url(", `src="http`, `href="http`, "<iframe"} {
		assert.NotContains(t, page, s)
	}
	srcs := imgSrc.FindAllStringSubmatch(page, -1)
	require.Len(t, srcs, len(charts))
	for _, m := range srcs {
		data, ok := strings.CutPrefix(html.UnescapeString(m[1]), "data:image/png;base64,")
		require.True(t, ok, "%.40s", m[1])
		raw, err := base64.StdEncoding.DecodeString(data)
		require.NoError(t, err)
		cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, "png", format)
		assert.Equal(t, [2]int{ChartWidth, ChartHeight}, [2]int{cfg.Width, cfg.Height})
	}
}

func TestHTMLEscapes(t *testing.T) {
	run := Run{Models: []Model{{Result: cpuResult(`<script>alert("x")</script>`, 10)}}, Complete: true}
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, run))
	assert.NotContains(t, b.String(), "<script")
	assert.Contains(t, b.String(), "&lt;script&gt;")
}

func TestHTMLIncomplete(t *testing.T) {
	run := noGPURun(t)
	run.Missing = []string{"quality: interrupted by the user"}
	run.Complete = false
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, run))
	assert.Contains(t, b.String(), "<title>llmbench report — INCOMPLETE</title>")
	assert.Contains(t, b.String(), `<div class="incomplete" id="incomplete" role="alert">`)
	assert.Contains(t, b.String(), "<li>quality: interrupted by the user</li>")

	run.Complete = true
	b.Reset()
	require.NoError(t, WriteHTML(&b, run))
	assert.NotContains(t, b.String(), "INCOMPLETE")
}
