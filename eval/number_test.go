package eval

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestScanNumbers pins the scanner on short texts: every number it finds, labels marked.
func TestScanNumbers(t *testing.T) {
	type num struct {
		v     float64
		label bool
	}
	tests := []struct {
		name, text string
		want       []num
	}{
		{"integers", "3 apples and 12 pears", []num{{3, false}, {12, false}}},
		{"list numbering", "1. Add\n2) Subtract\n(3) Done", []num{{1, true}, {2, true}, {3, true}}},
		{"numbering needs text after", "1.\n2. ", []num{{1, false}, {2, false}}},
		{"step words", "Step 2: passo 3, etapa 4, part 5", []num{{2, true}, {3, true}, {4, true}, {5, true}}},
		{"step in words", "Step one: add", []num{{1, true}}},
		{"glued and ordinals", "H2O, Q4_K_M, cm^2, x_1, 1st, 22nd, 3rd, 4th", nil},
		{"times x between digits", "4x3", []num{{4, false}, {3, false}}},
		{"hyphen is no sign", "COVID-19 and 10-4", []num{{19, false}, {10, false}, {4, false}}},
		{"signs", "(-3) [+4] = −5", []num{{-3, false}, {4, false}, {-5, false}}},
		{"currencies", "$5, R$ 6, US$7, €8, £9", []num{{5, false}, {6, false}, {7, false}, {8, false}, {9, false}}},
		{"decimal comma and list", "3,5 and 1,2,3", []num{{3.5, false}, {1, false}, {2, false}, {3, false}}},
		{"ambiguous comma group", "1234,567", []num{{1234, false}, {567, false}}},
		{"dotted thousands", "1.234.567 and 1.234,5", []num{{1234567, false}, {1234.5, false}}},
		{"space thousands with decimals", "1 234,5 and 1 234.25", []num{{1234.5, false}, {1234.25, false}}},
		{"fractions", "3/4, 1 1/2, ⅓, 2 ¾", []num{{0.75, false}, {1.5, false}, {1.0 / 3, false}, {2.75, false}}},
		{"improper after integer is not mixed", "2 4/3", []num{{2, false}, {4.0 / 3, false}}},
		{"zero denominator", "4/0", []num{{4, false}, {0, false}}},
		{"date", "12/25/2024", []num{{12, false}, {25, false}, {2024, false}}},
		{"exponents", "1e3, 2E-2, 5 × 10^3, 7·10⁴, 2e5x", []num{{1000, false}, {0.02, false}, {5000, false}, {70000, false}, {2, false}}},
		{"percent", "12% and 7.5%", []num{{12, false}, {7.5, false}}},
		{"words", "forty-two, one hundred and five, two thousand three hundred", []num{{42, false}, {105, false}, {2300, false}}},
		{"words stop where English stops", "one two, twenty twelve, zero one", []num{{1, false}, {2, false}, {20, false}, {12, false}, {0, false}, {1, false}}},
		{"scales descend", "one million two thousand, one thousand million", []num{{1002000, false}, {1000, false}}},
		{"negative words", "negative five, negative numbers, minus", []num{{-5, false}}},
		{"and needs a number after", "one hundred and then", []num{{100, false}}},
		{"hundred needs a count", "hundred", nil},
		{"words inside words", "someone, oneself", nil},
		{"beyond float64", strings.Repeat("9", 400) + " and 1e999", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []num
			for _, tok := range scanNumbers(tc.text) {
				got = append(got, num{tok.value, tok.label})
			}
			if assert.Len(t, got, len(tc.want), "%v", got) {
				for i := range got {
					assertNumber(t, tc.want[i].v, got[i].v)
					assert.Equal(t, tc.want[i].label, got[i].label, "label of %v", got[i].v)
				}
			}
		})
	}
}
