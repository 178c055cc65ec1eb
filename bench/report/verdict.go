package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// Verdict ends a report: a sentence per model, built from its figures, then which model to
// deploy under the serving target.
type Verdict struct {
	Models         []string `json:"models"`
	Recommendation string   `json:"recommendation"`
}

// clause is one part of a model's sentence, from its summary row: "fits in 3.50 GB of VRAM
// for one stream"; "" when it has nothing to say.
type clause func(r Row) string

// verdictClauses build each model's sentence, in order. A new figure of the summary gets its
// say by adding a clause here.
var verdictClauses = []clause{fitClause, cardClause, serveClause, qualityClause}

// verdict writes the sentence of each row, in the run's order, and the recommendation.
func verdict(rows []Row) Verdict {
	v := Verdict{Recommendation: recommend(rows)}
	for _, r := range rows {
		v.Models = append(v.Models, sentence(r))
	}
	return v
}

// sentence is "name: a, b, and c."
func sentence(r Row) string {
	var parts []string
	for _, c := range verdictClauses {
		if s := c(r); s != "" {
			parts = append(parts, s)
		}
	}
	s := r.Name
	if !r.Complete {
		s += " (incomplete)"
	}
	return s + ": " + joinAnd(parts) + "."
}

// joinAnd joins parts as a list in a sentence: "a", "a and b", "a, b, and c".
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return "nothing was measured"
	case 1:
		return parts[0]
	case 2:
		return parts[0] + " and " + parts[1]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + ", and " + parts[len(parts)-1]
}

// fitClause says the memory of the summary's memory column: VRAM on a GPU, the peak resident
// memory of a model that ran on the CPU.
func fitClause(r Row) string {
	if m := r.MemoryGB(); m.OK() && r.MemoryKind == MemoryRSS {
		return fmt.Sprintf("runs on the CPU in %.2f GB of memory (peak RSS) for one stream", m.Value)
	}
	if v := r.VRAMGB(); v.OK() {
		return fmt.Sprintf("fits in %.2f GB of VRAM for one stream", v.Value)
	}
	return "its VRAM was not measured (" + r.PeakVRAMMiB.NA + ")"
}

// VerdictCard is the card the verdict places each model on, from its fit sweep: 8 GiB, the
// dedicated GPU of many notebooks and of mid-range desktop cards.
const VerdictCard = 8 * metrics.GiB

// cardClause says how the model runs on a card of VerdictCard bytes, from its fit sweep: "on
// an 8 GiB card runs 33/33 layers on the GPU with a 16k context and f16 KV cache at 95.2
// tok/s"; "" for a model without a fit sweep.
func cardClause(r Row) string {
	if !r.fitSwept {
		return ""
	}
	if r.Card == nil {
		return "fits no budget of its fit sweep up to " + cardWords(VerdictCard)
	}
	f := r.Card.Row
	s := fmt.Sprintf("on %s runs %d/%d layers on the GPU with a %s context and %s KV cache",
		cardWords(r.Card.CardBytes), f.GPULayers, f.Layers, contextWords(f.MaxContext), f.KVType)
	if f.DecodeTPS.OK() {
		return s + fmt.Sprintf(" at %.1f tok/s", f.DecodeTPS.Value)
	}
	return s + " (" + f.NotMeasured + ")"
}

// targetText is "at ≥ 10 tok/s each with TTFT p99 ≤ 1 s": the per-user rate is that of the
// slowest tenth of requests.
func targetText(t metrics.ServeTarget) string {
	return fmt.Sprintf("at ≥ %g tok/s each with TTFT p99 ≤ %s", t.TokensPerSecond, metrics.DurationText(t.TTFTP99Ms))
}

func serveClause(r Row) string {
	s := r.Serving
	if s == nil {
		return "its serving was not measured"
	}
	target := targetText(s.Target)
	if s.Users == 0 {
		return "serves no user " + target + " (" + s.Missed + ")"
	}
	users := usersText(s.Users)
	if s.UsersAtLeast {
		users = "at least " + users + " (the most measured)"
	}
	var more []string
	if v := s.VRAMGB(); v.OK() {
		more = append(more, fmt.Sprintf("%.2f GB at that load", v.Value))
	}
	if s.RateRPS.OK() && s.RateRPS.Value > 0 {
		rate := fmt.Sprintf("%.2f req/s", s.RateRPS.Value)
		if s.RateAtLeast {
			rate = "at least " + rate
		}
		more = append(more, "Poisson arrivals up to "+rate)
	}
	if s.Missed != "" {
		more = append(more, s.Missed)
	}
	out := "serves " + users + " " + target
	if len(more) > 0 {
		out += " (" + strings.Join(more, "; ") + ")"
	}
	return out
}

func usersText(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}

func qualityClause(r Row) string {
	switch {
	case r.Accuracy.OK():
		return fmt.Sprintf("scores %d/%d on math (95%% CI %.2f–%.2f)", r.Correct, r.Total, r.CI95Low, r.CI95High)
	case !r.QualityApplies:
		return "its quality does not apply (" + strings.TrimPrefix(r.Accuracy.NA, notApplicable+": ") + ")"
	}
	return "its math score was not measured"
}

// recommend names the model to deploy under the serving target among those that serve at
// least one user under it: by math score, then users served, then VRAM at that load; where
// not every one of them has a math score (synthetic twins), by users, then VRAM, saying so.
func recommend(rows []Row) string {
	var served, cands []Row
	for _, r := range rows {
		if r.Serving != nil {
			served = append(served, r)
			if r.Serving.Users > 0 {
				cands = append(cands, r)
			}
		}
	}
	if len(served) == 0 {
		return "No recommendation under a serving target: serving was not measured."
	}
	target := targetText(served[0].Serving.Target)
	var b strings.Builder
	if len(cands) == 0 {
		fmt.Fprintf(&b, "None of these models serves one user %s.", target)
		return b.String()
	}
	byQuality := !slices.ContainsFunc(cands, func(r Row) bool { return !r.Accuracy.OK() })
	slices.SortStableFunc(cands, func(a, b Row) int {
		if byQuality {
			if c := cmp.Compare(b.Accuracy.Value, a.Accuracy.Value); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(b.Serving.Users, a.Serving.Users); c != 0 {
			return c
		}
		return cmp.Compare(servingVRAM(a), servingVRAM(b))
	})
	best := cands[0]
	fmt.Fprintf(&b, "To serve users %s, deploy %s: ", target, best.Name)
	if byQuality {
		fmt.Fprintf(&b, "the best math score (%d/%d), serving %s", best.Correct, best.Total, capacityText(best))
		if len(cands) > 1 && cands[1].CI95High >= best.CI95Low {
			fmt.Fprintf(&b, "; its lead over %s in math is within the 95%% intervals", cands[1].Name)
		}
		b.WriteString(".")
	} else {
		fmt.Fprintf(&b, "it serves %s. %s, so the models are ranked by users served, then VRAM.", capacityText(best), noQuality(cands))
	}
	if len(cands) > 1 {
		var rest []string
		for _, r := range cands[1:] {
			rest = append(rest, r.Name+" ("+capacityText(r)+")")
		}
		b.WriteString(" Then: " + strings.Join(rest, ", ") + ".")
	}
	var none []string
	for _, r := range served {
		if r.Serving.Users == 0 {
			none = append(none, r.Name)
		}
	}
	switch len(none) {
	case 0:
	case 1:
		fmt.Fprintf(&b, " %s serves no user so.", none[0])
	default:
		fmt.Fprintf(&b, " %s serve no user so.", joinAnd(none))
	}
	return b.String()
}

// servingVRAM is the VRAM a model's capacity takes, else its one-stream peak, in MiB; +Inf
// when neither was measured, which ranks it last among equals.
func servingVRAM(r Row) float64 {
	switch {
	case r.Serving.PeakVRAMMiB.OK():
		return r.Serving.PeakVRAMMiB.Value
	case r.PeakVRAMMiB.OK():
		return r.PeakVRAMMiB.Value
	}
	return math.Inf(1)
}

// capacityText is "32 users in 5.71 GB", or "at least 64 users" and no VRAM where those are.
func capacityText(r Row) string {
	s := r.Serving
	out := usersText(s.Users)
	if s.UsersAtLeast {
		out = "at least " + out
	}
	if v := s.VRAMGB(); v.OK() {
		out += fmt.Sprintf(" in %.2f GB", v.Value)
	}
	return out
}

// noQuality says why the candidates are not ranked by quality: "quality does not apply to A
// and B (synthetic twin: random weights)", "quality was not measured for C".
func noQuality(rows []Row) string {
	byWhy := map[string][]string{}
	var whys []string
	for _, r := range rows {
		if r.Accuracy.OK() {
			continue
		}
		why := "was not measured for"
		if !r.QualityApplies {
			why = "does not apply to"
			if reason := strings.TrimPrefix(r.Accuracy.NA, notApplicable+": "); reason != r.Accuracy.NA {
				why += " (" + reason + ")"
			}
		}
		if byWhy[why] == nil {
			whys = append(whys, why)
		}
		byWhy[why] = append(byWhy[why], r.Name)
	}
	parts := make([]string, len(whys))
	for i, why := range whys {
		names := joinAnd(byWhy[why])
		if len(byWhy[why]) == len(rows) {
			names = "these models"
		}
		if w, reason, ok := strings.Cut(why, " ("); ok {
			parts[i] = "quality " + w + " " + names + " (" + reason
		} else {
			parts[i] = "quality " + why + " " + names
		}
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// verdictTitle heads the verdict in every output.
const verdictTitle = "Verdict"

// writeTerminalVerdict writes the verdict under its title, a model a line.
func writeTerminalVerdict(w io.Writer, v Verdict) error {
	var b strings.Builder
	b.WriteString(verdictTitle + "\n")
	for _, s := range v.Models {
		b.WriteString("  - " + s + "\n")
	}
	b.WriteString("  " + v.Recommendation + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mdVerdict writes the verdict as a Markdown section: a bullet per model, then the
// recommendation.
func mdVerdict(b *strings.Builder, v Verdict) {
	b.WriteString("## " + verdictTitle + "\n\n")
	for _, s := range v.Models {
		b.WriteString("- " + mdEscape(s) + "\n")
	}
	b.WriteString("\n**Recommendation.** " + mdEscape(v.Recommendation) + "\n")
}
