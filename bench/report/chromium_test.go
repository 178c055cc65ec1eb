package report

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumBinary finds a headless-capable Chromium: $LLMBENCH_CHROMIUM, else one on PATH.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LLMBENCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium, or set LLMBENCH_CHROMIUM): " +
		"report.html is not checked in a browser")
	return ""
}

// runChromium runs headless Chromium on page with a fresh profile and returns its stdout.
func runChromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	// Not t.TempDir: Chromium's helpers may still be writing the profile as the test ends,
	// which would fail its cleanup.
	profile, err := os.MkdirTemp("", "llmbench-chromium-")
	require.NoError(t, err)
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir=" + profile,
	}, args...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", lastLines(stderr.String(), 5))
	return stdout.Bytes()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// checkScript runs in a copy of the page once it has loaded, and writes what the page shows
// into a <pre> that --dump-dom prints: the visible text, each image as decoded by the browser
// with the number of distinct colours on a grid of its pixels, the banner's look, and every
// resource the page fetched.
const checkScript = `<script>
window.addEventListener("load", () => {
  const text = document.body.innerText;
  const images = Array.from(document.images).map(img => {
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext("2d");
    g.drawImage(img, 0, 0);
    const colours = new Set();
    for (let y = 0; y < c.height; y += 7) {
      const row = g.getImageData(0, y, c.width, 1).data;
      for (let x = 0; x < c.width; x += 7) colours.add(row.slice(4 * x, 4 * x + 4).join(","));
    }
    return {src: img.getAttribute("src").slice(0, 22), complete: img.complete,
      naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      shownWidth: img.width, shownHeight: img.height, colours: colours.size};
  });
  const b = document.getElementById("incomplete");
  const banner = b && {text: b.innerText, shown: b.offsetHeight > 0,
    background: getComputedStyle(b).backgroundColor};
  const resources = performance.getEntriesByType("resource").map(e => e.name);
  const out = document.createElement("pre");
  out.id = "llmbench-check";
  out.textContent = JSON.stringify({text, images, banner, resources});
  document.body.appendChild(out);
});
</script>`

type pageCheck struct {
	Text   string `json:"text"`
	Images []struct {
		Src                         string `json:"src"`
		Complete                    bool   `json:"complete"`
		NaturalWidth, NaturalHeight int
		ShownWidth, ShownHeight     int
		Colours                     int `json:"colours"`
	} `json:"images"`
	Banner *struct {
		Text       string `json:"text"`
		Shown      bool   `json:"shown"`
		Background string `json:"background"`
	} `json:"banner"`
	Resources []string `json:"resources"`
}

var checkOutput = regexp.MustCompile(`(?s)<pre id="llmbench-check">(.*?)</pre>`)

// TestChromium renders report.html in headless Chromium and checks what a person would see:
// the tables' text with the numbers as the tables format them, the INCOMPLETE banner, and
// six charts decoded by the browser at their full size, with nothing fetched from outside;
// then it takes a screenshot and checks that it is not blank. Set
// LLMBENCH_REPORT_SCREENSHOTS to a folder to keep the screenshots.
func TestChromium(t *testing.T) {
	bin := chromiumBinary(t)
	interrupted := noGPURun(t)
	interrupted.Complete = false
	interrupted.Missing = []string{"quality: interrupted by the user"}
	tests := []struct {
		name       string
		run        Run
		want       []string
		incomplete bool
	}{
		{"H200", h200Run(t), []string{
			"gemma-2-2b-it.Q4_K_M", "phi-3-mini-4k-instruct.Q4_K_M", "mistral-7b-instruct-v0.2.Q4_K_M",
			"333.8 ± 3.2", "3334", "11.8%", "0.992", "0.70", "0.40–0.89", "66.8", "NVIDIA H200",
		}, false},
		{"interrupted without GPU", interrupted, []string{
			"gemma-2-2b-it.Q4_K_M", "328.4 ± 0.7", "not applicable", "not measured", "n/a",
			"no GPU monitor", "quality: interrupted by the user",
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.run.Generated = generated
			_, err := WriteFiles(dir, tt.run)
			require.NoError(t, err)
			page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
			require.NoError(t, err)
			checked := filepath.Join(dir, "checked.html")
			require.NoError(t, os.WriteFile(checked,
				bytes.Replace(page, []byte("</body>"), []byte(checkScript+"</body>"), 1), 0o644))

			start := time.Now()
			dom := runChromium(t, bin, checked, "--virtual-time-budget=10000", "--dump-dom")
			t.Logf("chromium --dump-dom took %v", time.Since(start).Round(time.Millisecond))
			m := checkOutput.FindSubmatch(dom)
			require.NotNil(t, m, "the check script did not run: %.300s", dom)
			var got pageCheck
			require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got))

			for _, s := range tt.want {
				assert.True(t, strings.Contains(got.Text, s), "the page does not show %q", s)
			}
			require.Len(t, got.Images, len(charts))
			for i, img := range got.Images {
				assert.Equal(t, "data:image/png;base64,", img.Src, "image %d", i)
				assert.True(t, img.Complete, "image %d", i)
				assert.Equal(t, [2]int{ChartWidth, ChartHeight}, [2]int{img.NaturalWidth, img.NaturalHeight}, "image %d", i)
				assert.Greater(t, img.ShownWidth, 300, "image %d is too small to read", i)
				assert.Greater(t, img.Colours, 8, "image %d looks blank", i)
			}
			for _, r := range got.Resources {
				assert.True(t, strings.HasPrefix(r, "data:"), "the page fetched %s", r)
			}
			if tt.incomplete {
				require.NotNil(t, got.Banner)
				assert.True(t, got.Banner.Shown)
				assert.True(t, strings.HasPrefix(got.Banner.Text, "INCOMPLETE"), got.Banner.Text)
				assert.Equal(t, "rgb(255, 235, 233)", got.Banner.Background)
				assert.True(t, strings.HasPrefix(got.Text, "llmbench report"), "title first")
			} else {
				assert.Nil(t, got.Banner)
				assert.NotContains(t, got.Text, "INCOMPLETE")
			}

			shot := filepath.Join(dir, "screenshot.png")
			start = time.Now()
			runChromium(t, bin, filepath.Join(dir, HTMLFile), "--screenshot="+shot, "--window-size=1400,2400")
			t.Logf("chromium --screenshot took %v", time.Since(start).Round(time.Millisecond))
			b, err := os.ReadFile(shot)
			require.NoError(t, err)
			l := lookAt(t, b)
			assert.Equal(t, [2]int{1400, 2400}, [2]int{l.width, l.height})
			assert.Greater(t, l.colors, 256)
			assert.Greater(t, l.inked, 0.05)
			bannerPixels := l.pixels[color.RGBA{0xff, 0xeb, 0xe9, 0xff}]
			if tt.incomplete {
				assert.Greater(t, bannerPixels, 10000, "the red INCOMPLETE banner is on screen")
			} else {
				assert.Zero(t, bannerPixels)
			}
			if keep := os.Getenv("LLMBENCH_REPORT_SCREENSHOTS"); keep != "" {
				require.NoError(t, os.WriteFile(filepath.Join(keep, strings.ReplaceAll(tt.name, " ", "_")+".png"), b, 0o644))
			}
		})
	}
}
