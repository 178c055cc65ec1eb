// Command servecheck checks serving through llama.Server on the synthetic twins (or any
// models) and prints what it measured, on whatever device runs the model:
//
//   - Agreement. For each of -streams N, N prompts of -prompt random token ids are generated
//     greedily for -gen tokens through end of generation, each alone in a Session, then all N
//     at once through a Server of N sequences. It counts the streams whose tokens match
//     their solo run token for token and, for the others, where the first difference falls.
//     Batched matrix kernels add in another order, so a greedy choice between two nearly
//     equal logits may flip; a stream diverges from there.
//
//   - Batched decode. The same run of the largest N and a run of one stream through a Server
//     of one sequence: the aggregate decode rate is the tokens every stream got while all of
//     them were generating ÷ that span, timed at the token callbacks. Target: at least
//     -speedup (6) times the one stream's rate.
//
//   - Time outside llama_decode during the largest N's run: 1 − the time inside llama_decode
//     ÷ the server's busy time (llama.ServerStats). Target: at most -outside (5%).
//
//     servecheck -backend build/cuda -models gemma-2-2b-it.Q4_K_M.gguf,... -streams 8,32 -out results/servecheck
//
// It exits with status 1 on an error and 2 when a target is missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

func main() {
	code, err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "servecheck:", err)
	}
	os.Exit(code)
}

// Check is what servecheck measured on one model.
type Check struct {
	Model  string `json:"model"`
	Device string `json:"device"`
	Prompt int    `json:"prompt_tokens"`
	Gen    int    `json:"gen_tokens"`
	// Agreement holds a line per number of streams.
	Agreement []Agreement `json:"agreement"`
	// OneStreamTPS and BatchTPS are the decode rates of one stream and of the largest number
	// of streams together (Streams); Speedup their ratio.
	OneStreamTPS float64 `json:"one_stream_tps"`
	Streams      int     `json:"streams"`
	BatchTPS     float64 `json:"batch_tps"`
	Speedup      float64 `json:"speedup"`
	// Outside is the share of the largest run's busy time outside llama_decode; Stats the
	// server's counters of that run.
	Outside  float64           `json:"outside_decode"`
	Stats    llama.ServerStats `json:"stats"`
	Failures []string          `json:"failures"`
}

// Agreement compares N streams served together with their solo runs.
type Agreement struct {
	Streams int `json:"streams"`
	Match   int `json:"match"`
	// FirstDiff holds, for each stream that differs, the index of its first token that
	// differs from its solo run, in increasing order.
	FirstDiff []int `json:"first_diff"`
}

type config struct {
	models  []string
	streams []int
	prompt  int
	gen     int
	seed    uint64
	threads int
	speedup float64
	outside float64
	out     string
	backend string
	cpu     bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("servecheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.String("models", "", "comma-separated GGUF files")
	streams := fs.String("streams", "8,32", "numbers of streams served at once, comma-separated")
	fs.IntVar(&c.prompt, "prompt", 512, "prompt tokens (random ids)")
	fs.IntVar(&c.gen, "gen", 128, "tokens generated per stream")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the random prompts")
	fs.IntVar(&c.threads, "threads", 0, "CPU threads (default: the usable cores)")
	fs.Float64Var(&c.speedup, "speedup", 6, "target: the largest N's aggregate decode rate ÷ one stream's, at least")
	fs.Float64Var(&c.outside, "outside", 0.05, "target: the share of the largest N's busy time outside llama_decode, at most")
	fs.StringVar(&c.out, "out", "", "folder for the JSON of each check")
	fs.StringVar(&c.backend, "backend", "", "GPU backend folder (default: $"+llama.BackendDirEnv+" or build/cuda)")
	fs.BoolVar(&c.cpu, "cpu", false, "keep every layer on the CPU")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for _, m := range strings.Split(*models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.models = append(c.models, m)
		}
	}
	if len(c.models) == 0 {
		return c, fmt.Errorf("-models is required")
	}
	for _, f := range strings.Split(*streams, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			return c, fmt.Errorf("-streams %q: want numbers of at least 2", *streams)
		}
		c.streams = append(c.streams, n)
	}
	slices.Sort(c.streams)
	c.streams = slices.Compact(c.streams)
	switch {
	case c.prompt < 1 || c.gen < 2:
		return c, fmt.Errorf("-prompt must be at least 1 and -gen at least 2")
	case c.threads < 0:
		return c, fmt.Errorf("-threads must not be negative")
	}
	if c.threads == 0 {
		c.threads = llama.DefaultThreads()
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0, nil
	}
	if err != nil {
		return 1, err
	}
	if c.backend != "" {
		if err := llama.LoadBackend(c.backend); err != nil {
			return 1, err
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	var checks []Check
	for _, path := range c.models {
		ch, err := check(ctx, c, path, stderr)
		if err != nil {
			return 1, fmt.Errorf("%s: %w", path, err)
		}
		checks = append(checks, ch)
		if c.out != "" {
			if err := metrics.SaveJSON(filepath.Join(c.out, metrics.FileName(ch.Model)+"_servecheck.json"), ch); err != nil {
				return 1, err
			}
		}
	}
	if err := table(stdout, c, checks); err != nil {
		return 1, err
	}
	for _, ch := range checks {
		if len(ch.Failures) > 0 {
			return 2, nil
		}
	}
	return 0, nil
}

// device says what ran the model: the GPU backend's device, or the CPU.
func device(m *llama.Model, threads int) string {
	if !m.Info().GPU {
		return fmt.Sprintf("CPU, %d threads (no GPU: these are not GPU figures)", threads)
	}
	devs, err := llama.Devices()
	if err == nil {
		for _, d := range devs {
			if d.Type == llama.DeviceGPU {
				return d.Description
			}
		}
	}
	return "GPU"
}

func check(ctx context.Context, c config, path string, log io.Writer) (Check, error) {
	var opts []llama.ModelOption
	if c.cpu {
		opts = append(opts, llama.WithGPULayers(0))
	}
	m, err := llama.Load(path, opts...)
	if err != nil {
		return Check{}, err
	}
	defer m.Close()
	info := m.Info()
	ch := Check{Model: strings.TrimSuffix(filepath.Base(path), ".gguf"), Device: device(m, c.threads), Prompt: c.prompt, Gen: c.gen}
	if tc := info.TrainContext; tc > 0 && c.prompt+c.gen > tc {
		return ch, fmt.Errorf("%d + %d tokens do not fit the training context of %d", c.prompt, c.gen, tc)
	}
	largest := c.streams[len(c.streams)-1]
	prompts := randomPrompts(info, largest, c.prompt, c.seed)
	fmt.Fprintf(log, "%s on %s: %d solo runs\n", ch.Model, ch.Device, largest)
	solo := make([][]int32, largest)
	for i, p := range prompts {
		if solo[i], err = soloRun(ctx, m, c, p); err != nil {
			return ch, err
		}
	}
	one, err := serve(ctx, m, c, prompts[:1])
	if err != nil {
		return ch, err
	}
	ch.OneStreamTPS = one.decodeTPS
	for _, n := range c.streams {
		fmt.Fprintf(log, "%s: %d streams at once\n", ch.Model, n)
		got, err := serve(ctx, m, c, prompts[:n])
		if err != nil {
			return ch, err
		}
		ch.Agreement = append(ch.Agreement, agreement(solo[:n], got.tokens))
		if n == largest {
			ch.Streams, ch.BatchTPS, ch.Stats = n, got.decodeTPS, got.stats
			ch.Outside = outside(got.stats)
		}
	}
	if ch.OneStreamTPS > 0 {
		ch.Speedup = ch.BatchTPS / ch.OneStreamTPS
	}
	if ch.Speedup < c.speedup {
		ch.Failures = append(ch.Failures, fmt.Sprintf("speedup %.2f× < %.2g×", ch.Speedup, c.speedup))
	}
	if ch.Outside > c.outside {
		ch.Failures = append(ch.Failures, fmt.Sprintf("outside llama_decode %.1f%% > %.1f%%", 100*ch.Outside, 100*c.outside))
	}
	return ch, nil
}

// randomPrompts makes n prompts of size random token ids, BOS first where the model wants one,
// each different, the same for the same seed.
func randomPrompts(info llama.Info, n, size int, seed uint64) [][]int32 {
	rng := rand.New(rand.NewPCG(seed, 0x73657276))
	out := make([][]int32, n)
	for i := range out {
		p := make([]int32, 0, size)
		if info.AddBOS && info.BOS >= 0 {
			p = append(p, info.BOS)
		}
		for len(p) < size {
			p = append(p, int32(rng.IntN(info.VocabSize)))
		}
		out[i] = p
	}
	return out
}

func genOptions(c config) llama.GenerateOptions {
	return llama.GenerateOptions{MaxTokens: c.gen, IgnoreEOG: true}
}

// soloRun generates from prompt alone in a fresh Session.
func soloRun(ctx context.Context, m *llama.Model, c config, prompt []int32) ([]int32, error) {
	s, err := m.NewSession(llama.WithContextSize(c.prompt+c.gen), llama.WithThreads(c.threads))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var ids []int32
	_, err = s.GenerateTokens(ctx, prompt, genOptions(c), func(t llama.Token) bool {
		ids = append(ids, t.ID)
		return true
	})
	return ids, err
}

// served is a run of streams started together through one Server.
type served struct {
	tokens    [][]int32
	decodeTPS float64
	stats     llama.ServerStats
}

// serve runs every prompt at once through a Server of as many sequences, each timed at its
// callback.
func serve(ctx context.Context, m *llama.Model, c config, prompts [][]int32) (served, error) {
	n := len(prompts)
	sv, err := m.NewServer(llama.WithSequences(n), llama.WithContextSize(n*(c.prompt+c.gen)), llama.WithThreads(c.threads))
	if err != nil {
		return served{}, err
	}
	defer sv.Close()
	out := served{tokens: make([][]int32, n)}
	timers := make([]*metrics.TokenTimer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	var returned atomic.Int32
	// Every stream is sent under a hold and admitted at once: a short stream would otherwise
	// end before the last is sent, and the check would not be of N streams at once.
	release := sv.Hold()
	defer release()
	for i, p := range prompts {
		timers[i] = metrics.NewTokenTimer(c.gen)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer returned.Add(1)
			timers[i].Start()
			_, errs[i] = sv.GenerateTokens(ctx, p, genOptions(c), func(t llama.Token) bool {
				timers[i].Token()
				out.tokens[i] = append(out.tokens[i], t.ID)
				return true
			})
			timers[i].Stop()
		}()
	}
	for sv.Waiting()+int(returned.Load()) < n {
		time.Sleep(100 * time.Microsecond)
	}
	sv.ResetStats()
	release()
	wg.Wait()
	out.stats = sv.Stats()
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	out.decodeTPS = decodeTPS(timers)
	return out, nil
}

// decodeTPS is the aggregate decode rate of streams started together: the tokens they got
// from the moment the last of them had its first token up to the moment the first of them had
// its last, ÷ that span; for one stream, (tokens − 1) ÷ the time from its first to its last.
func decodeTPS(timers []*metrics.TokenTimer) float64 {
	var from, to time.Time
	for i, t := range timers {
		n, d := t.Decode()
		if n == 0 {
			return 0
		}
		ttft, _ := t.TTFT()
		first := t.Started().Add(ttft)
		last := first.Add(d)
		if i == 0 || first.After(from) {
			from = first
		}
		if i == 0 || last.Before(to) {
			to = last
		}
	}
	if !to.After(from) {
		return 0
	}
	tokens := 0
	for _, t := range timers {
		tokens += t.TokensIn(from, to)
	}
	return float64(tokens) / to.Sub(from).Seconds()
}

// agreement compares each stream with its solo run.
func agreement(solo, got [][]int32) Agreement {
	a := Agreement{Streams: len(got)}
	for i := range got {
		d := firstDiff(solo[i], got[i])
		if d < 0 {
			a.Match++
			continue
		}
		a.FirstDiff = append(a.FirstDiff, d)
	}
	slices.Sort(a.FirstDiff)
	return a
}

// firstDiff is the index of the first token where a and b differ, a length where one ends
// first; -1 when they are equal.
func firstDiff(a, b []int32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// outside is the share of the busy time spent outside llama_decode.
func outside(s llama.ServerStats) float64 {
	if s.BusyWall <= 0 {
		return 0
	}
	return max(0, 1-s.DecodeTime.Seconds()/s.BusyWall.Seconds())
}

func table(w io.Writer, c config, checks []Check) error {
	fmt.Fprintf(w, "servecheck: prompts of %d random token ids, %d tokens generated greedily through end of generation\n", c.prompt, c.gen)
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("model", "device", "streams", "match solo", "first difference at token", "1 stream tok/s", "N streams tok/s", "speedup",
		"outside llama_decode", "verdict")
	for _, ch := range checks {
		var agree, diffs []string
		for _, a := range ch.Agreement {
			agree = append(agree, fmt.Sprintf("%d: %d/%d", a.Streams, a.Match, a.Streams))
			if len(a.FirstDiff) > 0 {
				diffs = append(diffs, fmt.Sprintf("%d: %s", a.Streams, diffList(a.FirstDiff)))
			}
		}
		verdict := "ok"
		if len(ch.Failures) > 0 {
			verdict = strings.Join(ch.Failures, "; ")
		}
		if len(diffs) == 0 {
			diffs = []string{"none"}
		}
		if err := t.Append(ch.Model, ch.Device, fmt.Sprint(ch.Streams), strings.Join(agree, ", "), strings.Join(diffs, "; "),
			fmt.Sprintf("%.1f", ch.OneStreamTPS), fmt.Sprintf("%.1f", ch.BatchTPS), fmt.Sprintf("%.2f×", ch.Speedup),
			fmt.Sprintf("%.1f%%", 100*ch.Outside), verdict); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "targets: N streams ≥ %.2g× one stream's decode tok/s; outside llama_decode ≤ %.1f%% at N = %d; measured %s\n",
		c.speedup, 100*c.outside, c.streams[len(c.streams)-1], time.Now().UTC().Format(time.RFC3339))
	return err
}

// diffList writes the first differences, the first few and how many more.
func diffList(d []int) string {
	const show = 8
	parts := make([]string, 0, show+1)
	for i, v := range d {
		if i == show {
			parts = append(parts, fmt.Sprintf("… %d more", len(d)-show))
			break
		}
		parts = append(parts, strconv.Itoa(v))
	}
	return strings.Join(parts, " ")
}
