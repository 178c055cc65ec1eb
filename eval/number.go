package eval

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// numTok is a number found in a text.
type numTok struct {
	start, end int // byte offsets; start includes a sign or currency symbol
	value      float64
	word       bool // written in words: "forty-two"
	label      bool // numbers a step or a part rather than counting anything: "1. ", "Step 2"
}

// scanNumbers finds the numbers of s, in order. It reads thousands separators ("1,234",
// "1 234"), a decimal comma where it cannot be a separator ("3,5", "1.234,56"), currency
// ("$", "R$", "€", "£"), signs, percent, fractions ("3/4", "½"), mixed numbers ("1 1/2"),
// scientific notation ("1.2e5", "3 × 10^4") and English number words. It skips digits glued
// to a letter or a caret, which name or measure something ("H2O", "Q4", "cm^2"), and
// ordinals ("3rd"); it marks step numbering as a label.
func scanNumbers(s string) []numTok {
	var toks []numTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isDigit(c), c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			t, ok := numeral(s, i)
			if ok {
				toks = append(toks, t)
			}
			i = t.end
		case isLetter(c):
			if t, ok := numberWords(s, i); ok {
				toks = append(toks, t)
				i = t.end
				continue
			}
			for i < len(s) && isLetter(s[i]) {
				i++
			}
		default:
			if v, size := vulgarFraction(s[i:]); size > 0 {
				toks = append(toks, numTok{start: i, end: i + size, value: v})
				i += size
				continue
			}
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
	}
	return toks
}

// numeral reads the number written in digits whose first digit (or decimal point) is s[i].
// When it is not a number (glued to a letter, an ordinal), ok is false and t.end still says
// where scanning resumes.
func numeral(s string, i int) (t numTok, ok bool) {
	t.start = i
	currency := ""
	if cs, cur, found := currencyBefore(s, i); found {
		t.start, currency = cs, cur
	} else if i > 0 && s[i-1] == ' ' {
		if cs, cur, found := currencyBefore(s, i-1); found {
			t.start, currency = cs, cur
		}
	}
	glued := currency == "" && gluedBefore(s, i)
	// "R$" marks Brazilian writing, where "1.234" is a thousand and more.
	digits, end, plain := numeralCore(s, i, currency == "R$")
	t.end = end
	if glued {
		return t, false
	}
	if ordinalAt(s, end) {
		t.end = end + 2
		return t, false
	}
	v, _ := strconv.ParseFloat(digits, 64) // only a range error, which the Inf check below takes
	coreEnd := end
	f, fEnd, isFraction := fractionAfter(s, end, v)
	x, xEnd, isExponent := exponentAt(s, end)
	switch {
	case plain && isFraction:
		v, end = f, fEnd
	case isExponent:
		v, end = v*math.Pow(10, x), xEnd
	}
	if math.IsInf(v, 0) { // no answer we could check
		t.end = end
		return t, false
	}
	if end < len(s) && s[end] == '%' {
		end++
	}
	size, neg := signBefore(s, t.start)
	if neg {
		v = -v
	}
	// Only a bare integer numbers a step: no sign, currency, fraction, exponent or percent.
	bare := plain && size == 0 && currency == "" && end == coreEnd
	t.start -= size
	t.end, t.value = end, v
	t.label = bare && (listNumbering(s, i, end) || labelWords[prevWord(s, i)])
	return t, true
}

// numeralCore reads the digits of a number at s[i] with its separators and returns them as
// strconv.ParseFloat reads them, where they end, and whether it is a plain integer.
func numeralCore(s string, i int, brazilian bool) (digits string, end int, plain bool) {
	d1 := digitRun(s, i)
	j := i + len(d1)
	// A comma right after digits and a comma means a list ("3,5,7"), never a decimal.
	inList := i >= 2 && s[i-1] == ',' && isDigit(s[i-2])
	sep := byte(0)
	if j+1 < len(s) && isDigit(s[j+1]) {
		sep = s[j]
	}
	switch sep {
	case ',':
		d2 := digitRun(s, j+1)
		if len(d2) == 3 && len(d1) >= 1 && len(d1) <= 3 {
			ints, k := groups(s, i, ',')
			if frac, e := decimalPart(s, k, '.'); e > k {
				return ints + "." + frac, e, false
			}
			return ints, k, false
		}
		after := j + 1 + len(d2)
		if len(d2) != 3 && !inList && !continues(s, after) {
			return d1 + "." + d2, after, false
		}
	case '.':
		d2 := digitRun(s, j+1)
		after := j + 1 + len(d2)
		if len(d2) == 3 && len(d1) >= 1 && len(d1) <= 3 &&
			(brazilian && !continues(s, after) || groupFollows(s, after, '.') || decimalFollows(s, after, ',')) {
			ints, k := groups(s, i, '.')
			if frac, e := decimalPart(s, k, ','); e > k {
				return ints + "." + frac, e, false
			}
			return ints, k, false
		}
		if d1 == "" {
			d1 = "0"
		}
		return d1 + "." + d2, after, false
	case ' ':
		if len(d1) <= 3 && groupFollows(s, j, ' ') {
			ints, k := groups(s, i, ' ')
			if frac, e := decimalPart(s, k, '.'); e > k {
				return ints + "." + frac, e, false
			}
			if frac, e := decimalPart(s, k, ','); e > k {
				return ints + "." + frac, e, false
			}
			return ints, k, false
		}
	}
	return d1, j, true
}

// groups reads digits at s[i] followed by groups of three digits after sep and returns the
// digits without separators.
func groups(s string, i int, sep byte) (string, int) {
	var b strings.Builder
	d := digitRun(s, i)
	b.WriteString(d)
	k := i + len(d)
	for groupFollows(s, k, sep) {
		b.WriteString(s[k+1 : k+4])
		k += 4
	}
	return b.String(), k
}

// groupFollows reports whether s[k:] starts with sep and exactly three digits, and no "/"
// after them that would make them a fraction's numerator.
func groupFollows(s string, k int, sep byte) bool {
	return k+4 <= len(s) && s[k] == sep && len(digitRun(s, k+1)) == 3 &&
		(k+4 == len(s) || s[k+4] != '/')
}

// decimalFollows reports whether s[k:] is the decimal point given and digits that end the
// number.
func decimalFollows(s string, k int, point byte) bool {
	_, e := decimalPart(s, k, point)
	return e > k && !continues(s, e)
}

// decimalPart reads the digits after a decimal point at s[k]; e == k when there are none.
func decimalPart(s string, k int, point byte) (digits string, e int) {
	if k+1 < len(s) && s[k] == point && isDigit(s[k+1]) {
		d := digitRun(s, k+1)
		return d, k + 1 + len(d)
	}
	return "", k
}

// continues reports whether the number at s[:k] goes on with another separator and digit,
// which makes a single separator ambiguous.
func continues(s string, k int) bool {
	return k+1 < len(s) && (s[k] == ',' || s[k] == '.') && isDigit(s[k+1])
}

// fractionAfter reads what turns the integer n ending at s[end] into a fraction: "/4",
// " 1/2" (a mixed number), "½" or " ½".
func fractionAfter(s string, end int, n float64) (float64, int, bool) {
	if _, den, e, ok := slash(s, end); ok {
		return n / den, e, true
	}
	if end < len(s) && s[end] == ' ' && end+1 < len(s) {
		if isDigit(s[end+1]) {
			if num, den, e, ok := slash(s, end+1+len(digitRun(s, end+1))); ok && num < den {
				return n + num/den, e, true
			}
		} else if v, size := vulgarFraction(s[end+1:]); size > 0 {
			return n + v, end + 1 + size, true
		}
	}
	if v, size := vulgarFraction(s[end:]); size > 0 {
		return n + v, end + size, true
	}
	return 0, end, false
}

// slash reads "/den" at s[k], the numerator being the digits just before k; a date's second
// slash ("12/25/2024") or a decimal denominator makes it no fraction.
func slash(s string, k int) (num, den float64, end int, ok bool) {
	if k >= len(s) || s[k] != '/' {
		return 0, 0, k, false
	}
	d := digitRun(s, k+1)
	e := k + 1 + len(d)
	if d == "" || e < len(s) && (s[e] == '/' || continues(s, e)) {
		return 0, 0, k, false
	}
	start := k
	for start > 0 && isDigit(s[start-1]) {
		start--
	}
	if start > 0 && s[start-1] == '/' { // the middle of "12/25/2024"
		return 0, 0, k, false
	}
	n, _ := strconv.ParseFloat(s[start:k], 64)
	dv, _ := strconv.ParseFloat(d, 64)
	if dv == 0 {
		return 0, 0, k, false
	}
	return n, dv, e, true
}

// scientific matches an exponent after a mantissa: "e5", "E-3", " × 10^4", "x10^-2", "·10⁵".
var scientific = regexp.MustCompile(`^(?:[eE]([-+]?\d+)|[ \t]*(?:×|x|\*|·)[ \t]*10(?:\^([-+−]?\d+)|(⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)))`)

var superscripts = strings.NewReplacer(
	"⁻", "-", "⁰", "0", "¹", "1", "²", "2", "³", "3", "⁴", "4",
	"⁵", "5", "⁶", "6", "⁷", "7", "⁸", "8", "⁹", "9",
)

// exponentAt reads an exponent at s[k] and returns it with where it ends. An exponent glued
// to a letter ("2e5x") is none.
func exponentAt(s string, k int) (x float64, end int, ok bool) {
	m := scientific.FindStringSubmatchIndex(s[k:])
	if m == nil || k+m[1] < len(s) && isLetter(s[k+m[1]]) {
		return 0, k, false
	}
	var e string
	switch {
	case m[2] >= 0:
		e = s[k+m[2] : k+m[3]]
	case m[4] >= 0:
		e = strings.Replace(s[k+m[4]:k+m[5]], "−", "-", 1)
	default:
		e = superscripts.Replace(s[k+m[6] : k+m[7]])
	}
	x, err := strconv.ParseFloat(e, 64)
	return x, k + m[1], err == nil
}

// vulgarFractions are the fraction characters a reply may use.
var vulgarFractions = map[rune]float64{
	'½': 1.0 / 2, '⅓': 1.0 / 3, '⅔': 2.0 / 3, '¼': 1.0 / 4, '¾': 3.0 / 4, '⅕': 1.0 / 5,
	'⅖': 2.0 / 5, '⅗': 3.0 / 5, '⅘': 4.0 / 5, '⅙': 1.0 / 6, '⅚': 5.0 / 6, '⅛': 1.0 / 8,
	'⅜': 3.0 / 8, '⅝': 5.0 / 8, '⅞': 7.0 / 8,
}

// vulgarFraction reads a fraction character at the start of s; size is 0 when there is none.
func vulgarFraction(s string) (v float64, size int) {
	r, n := utf8.DecodeRuneInString(s)
	if v, ok := vulgarFractions[r]; ok {
		return v, n
	}
	return 0, 0
}

// currencies are the symbols read before a number, longest first.
var currencies = []string{"R$", "US$", "$", "€", "£"}

// currencyBefore reports a currency symbol that ends at s[i], and where it starts.
func currencyBefore(s string, i int) (start int, symbol string, ok bool) {
	for _, c := range currencies {
		if strings.HasSuffix(s[:i], c) {
			return i - len(c), c, true
		}
	}
	return i, "", false
}

// signBefore reports a sign that ends at s[i]. A "-" after a letter, digit or closing bracket
// is a hyphen or a subtraction ("COVID-19", "10-4"), not a sign.
func signBefore(s string, i int) (size int, negative bool) {
	for _, sg := range []string{"-", "−", "+"} {
		if !strings.HasSuffix(s[:i], sg) {
			continue
		}
		j := i - len(sg)
		if j > 0 {
			r, _ := utf8.DecodeLastRuneInString(s[:j])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(")]}/", r) {
				return 0, false
			}
		}
		return len(sg), sg != "+"
	}
	return 0, false
}

// gluedBefore reports whether the digits at s[i] hang on a letter, caret or underscore: part
// of a name, unit or exponent ("H2O", "Q4_K_M", "cm^2", "x_1"). An "x" between digits
// multiplies ("4x3"), so it does not glue.
func gluedBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, n := utf8.DecodeLastRuneInString(s[:i])
	switch {
	case r == '^' || r == '_':
		return true
	case r == 'x' && i-n > 0 && isDigit(s[i-n-1]):
		return false
	}
	return unicode.IsLetter(r)
}

// ordinalAt reports whether an ordinal suffix follows a number ending at s[k]: "1st", "3rd".
func ordinalAt(s string, k int) bool {
	if k+2 > len(s) || k+2 < len(s) && isLetter(s[k+2]) {
		return false
	}
	switch strings.ToLower(s[k : k+2]) {
	case "st", "nd", "rd", "th":
		return true
	}
	return false
}

// listNumbering reports whether the integer s[i:end] numbers a list item: it opens its line
// (after indentation or markdown) and a "." or ")" and text follow ("1. Multiply", "(2) Add").
func listNumbering(s string, i, end int) bool {
	lineStart := strings.LastIndexByte(s[:i], '\n') + 1
	if strings.Trim(s[lineStart:i], " \t#*>-(") != "" {
		return false
	}
	rest := s[end:]
	if rest == "" || rest[0] != '.' && rest[0] != ')' {
		return false
	}
	rest = strings.TrimPrefix(rest[1:], "**")
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	return len(rest) > 1 && (rest[0] == ' ' || rest[0] == '\t') && strings.TrimSpace(rest) != ""
}

// labelWords are the words after which a number names a part of the working, not a quantity.
var labelWords = map[string]bool{
	"step": true, "passo": true, "etapa": true, "question": true, "questão": true,
	"problem": true, "problema": true, "example": true, "exemplo": true, "part": true,
	"parte": true,
}

// prevWord returns the lowercased word just before s[i], past spaces and markdown.
func prevWord(s string, i int) string {
	j := i
	for j > 0 && strings.IndexByte(" \t*#", s[j-1]) >= 0 {
		j--
	}
	return wordEndingAt(s, j)
}

// wordEndingAt returns the lowercased word of letters that ends at s[j], or "".
func wordEndingAt(s string, j int) string {
	k := j
	for k > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:k])
		if !unicode.IsLetter(r) {
			break
		}
		k -= n
	}
	return strings.ToLower(s[k:j])
}

// numberWords reads an English number in words at s[i]: "twelve", "forty-two", "one hundred
// and five", "negative three", "two thousand three hundred".
func numberWords(s string, i int) (numTok, bool) {
	t := numTok{start: i, word: true}
	if i > 0 && isLetter(s[i-1]) {
		return t, false
	}
	pos, neg := i, false
	if w, e := wordAt(s, pos); w == "negative" || w == "minus" {
		pos, neg = separator(s, e), true
		if pos == e {
			return t, false
		}
	}
	var n wordNumber
	for {
		w, e := wordAt(s, pos)
		if w == "and" && n.mayAnd() {
			next := separator(s, e)
			w2, e2 := wordAt(s, next)
			if next == e || !n.fits(w2) {
				break
			}
			w, e = w2, e2
		}
		if !n.fits(w) {
			break
		}
		n.add(w)
		t.end = e
		if n.last == kindZero {
			break
		}
		if pos = separator(s, e); pos == e {
			break
		}
	}
	if n.last == kindNone {
		return t, false
	}
	t.value = float64(n.total + n.cur)
	if neg {
		t.value = -t.value
	}
	t.label = labelWords[prevWord(s, i)]
	return t, true
}

// wordAt returns the lowercased ASCII word at s[i] and where it ends.
func wordAt(s string, i int) (string, int) {
	e := i
	for e < len(s) && isLetter(s[e]) {
		e++
	}
	return strings.ToLower(s[i:e]), e
}

// separator returns where the next word starts after a hyphen or spaces at s[e]; e if none.
func separator(s string, e int) int {
	if e < len(s) && s[e] == '-' {
		return e + 1
	}
	k := e
	for k < len(s) && s[k] == ' ' {
		k++
	}
	return k
}

type wordKind int

const (
	kindNone wordKind = iota
	kindZero
	kindUnit
	kindTeen
	kindTens
	kindHundred
	kindScale
)

var numberWordValues = map[string]struct {
	kind  wordKind
	value int64
}{
	"zero": {kindZero, 0}, "one": {kindUnit, 1}, "two": {kindUnit, 2}, "three": {kindUnit, 3},
	"four": {kindUnit, 4}, "five": {kindUnit, 5}, "six": {kindUnit, 6}, "seven": {kindUnit, 7},
	"eight": {kindUnit, 8}, "nine": {kindUnit, 9}, "ten": {kindTeen, 10},
	"eleven": {kindTeen, 11}, "twelve": {kindTeen, 12}, "thirteen": {kindTeen, 13},
	"fourteen": {kindTeen, 14}, "fifteen": {kindTeen, 15}, "sixteen": {kindTeen, 16},
	"seventeen": {kindTeen, 17}, "eighteen": {kindTeen, 18}, "nineteen": {kindTeen, 19},
	"twenty": {kindTens, 20}, "thirty": {kindTens, 30}, "forty": {kindTens, 40},
	"fifty": {kindTens, 50}, "sixty": {kindTens, 60}, "seventy": {kindTens, 70},
	"eighty": {kindTens, 80}, "ninety": {kindTens, 90}, "hundred": {kindHundred, 100},
	"thousand": {kindScale, 1e3}, "million": {kindScale, 1e6}, "billion": {kindScale, 1e9},
}

// wordNumber accumulates number words and knows which word may come next, so that "one two"
// is two numbers and "twenty five hundred" stops where English stops.
type wordNumber struct {
	total, cur int64
	last       wordKind
	lastScale  int64
}

func (n *wordNumber) fits(w string) bool {
	v, ok := numberWordValues[w]
	if !ok {
		return false
	}
	switch v.kind {
	case kindZero:
		return n.last == kindNone
	case kindUnit:
		return n.last == kindNone || n.last == kindTens || n.last == kindHundred || n.last == kindScale
	case kindTeen, kindTens:
		return n.last == kindNone || n.last == kindHundred || n.last == kindScale
	case kindHundred:
		return (n.last == kindUnit || n.last == kindTeen || n.last == kindTens) && n.cur < 100
	default: // a scale
		return n.last != kindNone && n.last != kindScale && n.cur > 0 &&
			(n.lastScale == 0 || v.value < n.lastScale)
	}
}

func (n *wordNumber) add(w string) {
	v := numberWordValues[w]
	switch v.kind {
	case kindHundred:
		n.cur *= 100
	case kindScale:
		n.total += n.cur * v.value
		n.cur, n.lastScale = 0, v.value
	default:
		n.cur += v.value
	}
	n.last = v.kind
}

// mayAnd reports whether "and" may join the next word: after "hundred" or a scale.
func (n *wordNumber) mayAnd() bool { return n.last == kindHundred || n.last == kindScale }

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// digitRun returns the ASCII digits at s[i].
func digitRun(s string, i int) string {
	e := i
	for e < len(s) && isDigit(s[e]) {
		e++
	}
	return s[i:e]
}
