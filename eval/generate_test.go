package eval

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArithmeticAnswers(t *testing.T) {
	for _, seed := range []uint64{0, 1, 2, 42, 1 << 40} {
		items := Arithmetic(500, seed)
		require.Len(t, items, 500)
		ops := map[int]int{}
		for _, it := range items {
			t.Run(it.ID, func(t *testing.T) {
				expr, ok := strings.CutPrefix(it.Question, "What is ")
				require.True(t, ok, it.Question)
				expr, ok = strings.CutSuffix(expr, "?")
				require.True(t, ok, it.Question)
				// Go's parser and exact constant arithmetic check the answer: no code is shared
				// with the generator, and "÷" must divide exactly.
				v := evalGo(t, strings.NewReplacer("×", "*", "÷", "/").Replace(expr))
				require.Equal(t, constant.Int, v.Kind(), "%s = %s is not an integer", expr, v)
				want, exact := constant.Int64Val(v)
				require.True(t, exact)
				assert.Equal(t, float64(want), it.Answer, it.Question)
				assert.LessOrEqual(t, max(want, -want), int64(40_000), "answers stay within ±40,000")
				assert.Equal(t, "arithmetic", it.Category)
				ops[strings.Count(expr, " ")/2]++
			})
		}
		assert.Len(t, ops, 3, "one, two and three operations all occur")
	}
}

// evalGo evaluates a Go constant expression exactly.
func evalGo(t *testing.T, src string) constant.Value {
	t.Helper()
	e, err := parser.ParseExpr(src)
	require.NoError(t, err, src)
	var eval func(ast.Expr) constant.Value
	eval = func(e ast.Expr) constant.Value {
		switch e := e.(type) {
		case *ast.BasicLit:
			return constant.MakeFromLiteral(e.Value, e.Kind, 0)
		case *ast.ParenExpr:
			return eval(e.X)
		case *ast.BinaryExpr:
			// token.QUO on integers gives the exact rational, so inexact division shows.
			return constant.ToInt(constant.BinaryOp(eval(e.X), e.Op, eval(e.Y)))
		}
		t.Fatalf("unexpected %T in %s", e, src)
		return nil
	}
	return eval(e)
}

// wordSolvers recompute each word-problem template's answer from its question with exact
// rational arithmetic, from the wording alone.
var wordSolvers = []struct {
	category string
	re       *regexp.Regexp
	solve    func(n []*big.Rat) *big.Rat
}{
	{"price", regexp.MustCompile(`^\S+ buys (\d+) [a-z ]+ at \$([\d.]+) each\. How much does \S+ spend in total, in dollars\?$`),
		func(n []*big.Rat) *big.Rat { return mul(n[0], n[1]) }},
	{"price", regexp.MustCompile(`^\S+ buys (\d+) [a-z ]+ at \$([\d.]+) each and pays with a \$(\d+) bill\. How much change does \S+ get, in dollars\?$`),
		func(n []*big.Rat) *big.Rat { return sub(n[2], mul(n[0], n[1])) }},
	{"price", regexp.MustCompile(`^(\d+) [a-z ]+ cost \$([\d.]+) altogether\. What is the price of one [a-z ]+, in dollars\?$`),
		func(n []*big.Rat) *big.Rat { return quo(n[1], n[0]) }},
	{"percentage", regexp.MustCompile(`^What is (\d+)% of (\d+)\?$`),
		func(n []*big.Rat) *big.Rat { return quo(mul(n[0], n[1]), rat("100")) }},
	{"percentage", regexp.MustCompile(`^An? [a-z ]+ costs \$(\d+)\. In a sale it is (\d+)% off\. What is the sale price, in dollars\?$`),
		func(n []*big.Rat) *big.Rat { return sub(n[0], quo(mul(n[0], n[1]), rat("100"))) }},
	{"percentage", regexp.MustCompile(`^(\d+) of the (\d+) students in a school club passed a first-aid test\. What percentage of them passed\?$`),
		func(n []*big.Rat) *big.Rat { return quo(mul(n[0], rat("100")), n[1]) }},
	{"percentage", regexp.MustCompile(`^A town has (\d+) residents\. Its population grows by (\d+)%\. How many residents does it have after the growth\?$`),
		func(n []*big.Rat) *big.Rat { return add(n[0], quo(mul(n[0], n[1]), rat("100"))) }},
	{"rate", regexp.MustCompile(`^A car travels at (\d+) km/h for ([\d.]+) hours\. How many kilometres does it travel\?$`),
		func(n []*big.Rat) *big.Rat { return mul(n[0], n[1]) }},
	{"rate", regexp.MustCompile(`^A cyclist rides ([\d.]+) km at a steady (\d+) km/h\. How many hours does the ride take\?$`),
		func(n []*big.Rat) *big.Rat { return quo(n[0], n[1]) }},
	{"rate", regexp.MustCompile(`^\S+ earns \$([\d.]+) per hour\. How much does \S+ earn for (\d+) hours of work, in dollars\?$`),
		func(n []*big.Rat) *big.Rat { return mul(n[0], n[1]) }},
	{"rate", regexp.MustCompile(`^A tap fills a (\d+)-litre tank at (\d+) litres per minute\. How many minutes does it take to fill the tank\?$`),
		func(n []*big.Rat) *big.Rat { return quo(n[0], n[1]) }},
	{"unit-conversion", regexp.MustCompile(`^How many ([a-z]+) are there in ([\d.]+) ([a-z]+)\?$`), nil},
	{"unit-conversion", regexp.MustCompile(`^How many ([a-z]+) is ([\d.]+) ([a-z]+)\?$`), nil},
	{"age", regexp.MustCompile(`^\S+ is (\d+) years older than \S+\. The sum of their ages is (\d+)\. How old is \S+\?$`),
		func(n []*big.Rat) *big.Rat { return quo(add(n[1], n[0]), rat("2")) }},
	{"age", regexp.MustCompile(`^\S+ is (\d+) times as old as \S+\. In (\d+) years, \S+ will be twice as old as \S+\. How old is \S+ now\?$`),
		// k·b + y = 2(b + y), so b = y / (k - 2).
		func(n []*big.Rat) *big.Rat { return quo(n[1], sub(n[0], rat("2"))) }},
	{"age", regexp.MustCompile(`^In (\d+) years, \S+ will be (\d+) years old\. How old was \S+ (\d+) years ago\?$`),
		func(n []*big.Rat) *big.Rat { return sub(sub(n[1], n[0]), n[2]) }},
	{"age", regexp.MustCompile(`^\S+ is (\d+) years old and \S+ is (\d+) years younger\. What will the sum of their ages be in (\d+) years\?$`),
		func(n []*big.Rat) *big.Rat { return add(sub(mul(rat("2"), n[0]), n[1]), mul(rat("2"), n[2])) }},
}

// unitFactors are how many of the second unit make one of the first, written out here again.
var unitFactors = map[[2]string]string{
	{"kilometres", "metres"}: "1000", {"kilograms", "grams"}: "1000",
	{"litres", "millilitres"}: "1000", {"metres", "centimetres"}: "100",
	{"hours", "minutes"}: "60", {"minutes", "seconds"}: "60", {"days", "hours"}: "24",
	{"feet", "inches"}: "12", {"yards", "feet"}: "3", {"weeks", "days"}: "7",
}

func solveUnits(m []string) *big.Rat {
	to, amount, from := m[1], rat(m[2]), m[3]
	if f, ok := unitFactors[[2]string{from, to}]; ok {
		return mul(amount, rat(f))
	}
	if f, ok := unitFactors[[2]string{to, from}]; ok {
		return quo(amount, rat(f))
	}
	return nil
}

func TestWordProblemAnswers(t *testing.T) {
	used := make([]int, len(wordSolvers))
	for _, seed := range []uint64{0, 1, 7, 99} {
		for _, it := range WordProblems(400, seed) {
			t.Run(it.ID, func(t *testing.T) {
				var want *big.Rat
				matched := 0
				for k, s := range wordSolvers {
					m := s.re.FindStringSubmatch(it.Question)
					if m == nil {
						continue
					}
					matched++
					used[k]++
					assert.Equal(t, s.category, it.Category)
					if s.solve == nil {
						want = solveUnits(m)
						continue
					}
					var n []*big.Rat
					for _, g := range m[1:] {
						n = append(n, rat(g))
					}
					want = s.solve(n)
				}
				require.Equal(t, 1, matched, "exactly one template reads %q", it.Question)
				require.NotNil(t, want, it.Question)
				w, _ := want.Float64()
				assert.Equal(t, w, it.Answer, it.Question)
				assert.True(t, want.Sign() >= 0, "no negative amounts: %s", it.Question)
				// Answers are exact decimals with at most two places: money, quarters of hours.
				hundredths := mul(want, rat("100"))
				assert.True(t, hundredths.IsInt(), "%s has answer %s", it.Question, want.FloatString(6))
				assert.NotContains(t, it.Question, " 1 hours")
				assert.NotContains(t, it.Question, " 1 years")
			})
		}
	}
	for k, n := range used {
		assert.Positive(t, n, "template %s is used", wordSolvers[k].re)
	}
}

func TestGeneratorsAreDeterministic(t *testing.T) {
	// A change here changes every published accuracy on generated sets: only on purpose.
	assert.Equal(t, Arithmetic(3, 1), Arithmetic(3, 1))
	assert.Equal(t, WordProblems(5, 1), WordProblems(5, 1))
	assert.Equal(t, Arithmetic(50, 9)[:20], Arithmetic(20, 9), "a longer set starts with the shorter")
	assert.NotEqual(t, Arithmetic(20, 1), Arithmetic(20, 2))
	assert.NotEqual(t, WordProblems(20, 1), WordProblems(20, 2))
	golden := []string{}
	for _, it := range append(Arithmetic(3, 1), WordProblems(5, 1)...) {
		golden = append(golden, it.ID+" "+it.Question)
	}
	assert.Equal(t, goldenItems, golden)
}

func TestGeneratorsShape(t *testing.T) {
	for name, gen := range map[string]func(int, uint64) []Item{"arithmetic": Arithmetic, "word": WordProblems} {
		t.Run(name, func(t *testing.T) {
			assert.Nil(t, gen(0, 1))
			assert.Nil(t, gen(-3, 1))
			items := gen(200, 5)
			ids, questions := map[string]bool{}, map[string]bool{}
			for _, it := range items {
				assert.False(t, ids[it.ID], "id %s repeats", it.ID)
				assert.False(t, questions[it.Question], "question repeats: %s", it.Question)
				ids[it.ID], questions[it.Question] = true, true
				assert.Contains(t, it.Source, "seed=5")
				assert.NotEmpty(t, it.Category)
			}
		})
	}
	counts := map[string]int{}
	for _, it := range WordProblems(100, 3) {
		counts[it.Category]++
	}
	assert.Equal(t, map[string]int{"price": 20, "percentage": 20, "rate": 20, "unit-conversion": 20, "age": 20}, counts)
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad number " + s)
	}
	return r
}

func mul(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }
func quo(a, b *big.Rat) *big.Rat { return new(big.Rat).Quo(a, b) }
func add(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }
func sub(a, b *big.Rat) *big.Rat { return new(big.Rat).Sub(a, b) }

// goldenItems pins the first items of seed 1, so that a change to the generators, to PCG or
// to the templates cannot slip by.
var goldenItems = []string{
	"arith-1-001 What is 32 ÷ 8 × 14?",
	"arith-1-002 What is 11 × 12 + 18?",
	"arith-1-003 What is 13 × (19 + 44)?",
	"word-1-001 João buys 2 tickets at $12.80 each and pays with a $50 bill. How much change does João get, in dollars?",
	"word-1-002 A town has 9500 residents. Its population grows by 4%. How many residents does it have after the growth?",
	"word-1-003 A car travels at 80 km/h for 1.5 hours. How many kilometres does it travel?",
	"word-1-004 How many hours is 2310 minutes?",
	"word-1-005 In 11 years, Miguel will be 62 years old. How old was Miguel 3 years ago?",
}
