package eval

import (
	"fmt"
	"strconv"
)

// WordProblems returns n short word problems with exact answers, drawn from seed: a seed always
// gives the same items, in the same order, with every Go version. The categories "price",
// "percentage", "rate", "unit-conversion" and "age" take turns, each with a few templates;
// answers are integers or short terminating decimals (money in cents, hours in quarters), and
// no question repeats. IDs are "word-<seed>-<i>". n <= 0 gives nil.
func WordProblems(n int, seed uint64) []Item {
	if n <= 0 {
		return nil
	}
	r := newRNG(seed, streamWords)
	source := fmt.Sprintf("word problems seed=%d", seed)
	items := make([]Item, 0, n)
	seen := make(map[string]bool, n)
	for len(items) < n {
		c := wordCategories[len(items)%len(wordCategories)]
		q, a := pick(r, c.templates)(r)
		if seen[q] {
			continue
		}
		seen[q] = true
		items = append(items, Item{
			ID:       fmt.Sprintf("word-%d-%03d", seed, len(items)+1),
			Question: q,
			Answer:   a,
			Category: c.name,
			Source:   source,
		})
	}
	return items
}

// wordTemplate draws one question and computes its exact answer.
type wordTemplate func(r *rng) (question string, answer float64)

var wordCategories = []struct {
	name      string
	templates []wordTemplate
}{
	{"price", []wordTemplate{priceTotal, priceChange, priceUnit}},
	{"percentage", []wordTemplate{percentOf, percentDiscount, percentShare, percentGrowth}},
	{"rate", []wordTemplate{rateDistance, rateTime, rateWage, rateFill}},
	{"unit-conversion", []wordTemplate{unitsToSmaller, unitsToLarger}},
	{"age", []wordTemplate{ageSum, ageRatio, agePast, ageFuture}},
}

var names = []string{
	"Ana", "Bruno", "Carla", "David", "Elena", "Felipe", "Grace", "Hiro", "Isabel", "João",
	"Kofi", "Laura", "Miguel", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomás", "Yuki",
}

// twoNames draws two different names.
func twoNames(r *rng) (string, string) {
	i := r.between(0, len(names)-1)
	j := (i + r.between(1, len(names)-1)) % len(names)
	return names[i], names[j]
}

var goods = []struct{ one, many string }{
	{"notebook", "notebooks"}, {"pen", "pens"}, {"sandwich", "sandwiches"},
	{"ticket", "tickets"}, {"mango", "mangoes"}, {"coffee", "coffees"}, {"book", "books"},
	{"loaf of bread", "loaves of bread"}, {"bus pass", "bus passes"}, {"plant", "plants"},
}

var saleGoods = []string{
	"jacket", "bicycle", "lamp", "pair of shoes", "backpack", "guitar", "chair", "kettle",
}

// money writes an amount of cents as dollars with two decimals: 1205 -> "12.05".
func money(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// decimal writes num/den, a terminating decimal, in its shortest form: 9/4 -> "2.25".
func decimal(num, den int) string {
	return strconv.FormatFloat(ratio(num, den), 'f', -1, 64)
}

// ratio is num/den as the float64 nearest to it: both are exact in a float64 and IEEE
// division rounds correctly, so it equals strconv.ParseFloat of the exact decimal.
func ratio(num, den int) float64 { return float64(num) / float64(den) }

func priceTotal(r *rng) (string, float64) {
	who, g := pick(r, names), pick(r, goods)
	q, c := r.between(2, 12), 5*r.between(10, 400)
	question := fmt.Sprintf("%s buys %d %s at $%s each. How much does %s spend in total, in dollars?",
		who, q, g.many, money(c), who)
	return question, ratio(q*c, 100)
}

func priceChange(r *rng) (string, float64) {
	who, g := pick(r, names), pick(r, goods)
	q := r.between(2, 6)
	c := 5 * r.between(10, 9999/q/5)
	bill := 100 // q·c < 10000 cents, so some bill is larger
	for _, b := range []int{50, 20, 10} {
		if b*100 > q*c {
			bill = b
		}
	}
	question := fmt.Sprintf("%s buys %d %s at $%s each and pays with a $%d bill. "+
		"How much change does %s get, in dollars?", who, q, g.many, money(c), bill, who)
	return question, ratio(bill*100-q*c, 100)
}

func priceUnit(r *rng) (string, float64) {
	g := pick(r, goods)
	q, c := r.between(2, 9), 5*r.between(10, 400)
	question := fmt.Sprintf("%d %s cost $%s altogether. What is the price of one %s, in dollars?",
		q, g.many, money(q*c), g.one)
	return question, ratio(c, 100)
}

func percentOf(r *rng) (string, float64) {
	p := pick(r, []int{5, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50, 60, 65, 70, 75, 80, 90, 125, 150})
	x := r.between(10, 900)
	question := fmt.Sprintf("What is %d%% of %d?", p, x)
	return question, ratio(p*x, 100)
}

func percentDiscount(r *rng) (string, float64) {
	thing := pick(r, saleGoods)
	x, p := 5*r.between(4, 100), pick(r, []int{10, 15, 20, 25, 30, 35, 40, 50, 60, 75})
	question := fmt.Sprintf("A %s costs $%d. In a sale it is %d%% off. What is the sale price, in dollars?",
		thing, x, p)
	return question, ratio(x*(100-p), 100)
}

func percentShare(r *rng) (string, float64) {
	// Totals with no prime factor but 2 and 5 give terminating percentages.
	b := pick(r, []int{20, 25, 40, 50, 80, 125, 200, 250})
	a := r.between(1, b-1)
	question := fmt.Sprintf("%d of the %d students in a school club passed a first-aid test. "+
		"What percentage of them passed?", a, b)
	return question, ratio(100*a, b)
}

func percentGrowth(r *rng) (string, float64) {
	x, p := 100*r.between(5, 150), r.between(2, 30)
	question := fmt.Sprintf("A town has %d residents. Its population grows by %d%%. "+
		"How many residents does it have after the growth?", x, p)
	return question, ratio(x*(100+p), 100)
}

func rateDistance(r *rng) (string, float64) {
	v := 5 * r.between(8, 24)
	halves := pick(r, []int{1, 3, 4, 5, 6, 7, 8, 9, 10}) // not 2: "1 hours"
	question := fmt.Sprintf("A car travels at %d km/h for %s hours. How many kilometres does it travel?",
		v, decimal(halves, 2))
	return question, ratio(v*halves, 2)
}

func rateTime(r *rng) (string, float64) {
	v := r.between(10, 30)
	quarters := pick(r, []int{2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16})
	question := fmt.Sprintf("A cyclist rides %s km at a steady %d km/h. How many hours does the ride take?",
		decimal(v*quarters, 4), v)
	return question, ratio(quarters, 4)
}

func rateWage(r *rng) (string, float64) {
	who := pick(r, names)
	halfDollars, h := r.between(16, 80), r.between(3, 40)
	question := fmt.Sprintf("%s earns $%s per hour. How much does %s earn for %d hours of work, in dollars?",
		who, money(50*halfDollars), who, h)
	return question, ratio(halfDollars*h, 2)
}

func rateFill(r *rng) (string, float64) {
	perMinute, minutes := r.between(2, 25), r.between(3, 40)
	question := fmt.Sprintf("A tap fills a %d-litre tank at %d litres per minute. "+
		"How many minutes does it take to fill the tank?", perMinute*minutes, perMinute)
	return question, float64(minutes)
}

// units are pairs of units, factor small units to one large, with amounts of the large unit
// drawn in steps of 1/den so that both directions give exact answers.
var units = []struct {
	large, small string
	factor, den  int
}{
	{"kilometres", "metres", 1000, 10}, {"kilograms", "grams", 1000, 10},
	{"litres", "millilitres", 1000, 10}, {"metres", "centimetres", 100, 10},
	{"hours", "minutes", 60, 4}, {"minutes", "seconds", 60, 4}, {"days", "hours", 24, 4},
	{"feet", "inches", 12, 4}, {"yards", "feet", 3, 1}, {"weeks", "days", 7, 1},
}

// unitAmount draws an amount of u's large unit, k/den, that is not 1 (plural units).
func unitAmount(r *rng, den int) int {
	k := r.between(2, 40*den)
	if k == den {
		k++
	}
	return k
}

func unitsToSmaller(r *rng) (string, float64) {
	u := pick(r, units)
	k := unitAmount(r, u.den)
	question := fmt.Sprintf("How many %s are there in %s %s?", u.small, decimal(k, u.den), u.large)
	return question, ratio(k*u.factor, u.den)
}

func unitsToLarger(r *rng) (string, float64) {
	u := pick(r, units)
	k := unitAmount(r, u.den)
	question := fmt.Sprintf("How many %s is %d %s?", u.large, k*u.factor/u.den, u.small)
	return question, ratio(k, u.den)
}

func ageSum(r *rng) (string, float64) {
	a, b := twoNames(r)
	young, gap := r.between(3, 40), r.between(2, 30)
	question := fmt.Sprintf("%s is %d years older than %s. The sum of their ages is %d. How old is %s?",
		a, gap, b, 2*young+gap, a)
	return question, float64(young + gap)
}

func ageRatio(r *rng) (string, float64) {
	a, b := twoNames(r)
	k, young := r.between(3, 5), r.between(2, 12)
	// k·young + y = 2(young + y) holds for y = young(k - 2).
	question := fmt.Sprintf("%s is %d times as old as %s. In %d years, %s will be twice as old as %s. "+
		"How old is %s now?", a, k, b, young*(k-2), a, b, b)
	return question, float64(young)
}

func agePast(r *rng) (string, float64) {
	who := pick(r, names)
	later, earlier := r.between(2, 15), r.between(2, 15)
	then := r.between(later+earlier+1, 80)
	question := fmt.Sprintf("In %d years, %s will be %d years old. How old was %s %d years ago?",
		later, who, then, who, earlier)
	return question, float64(then - later - earlier)
}

func ageFuture(r *rng) (string, float64) {
	a, b := twoNames(r)
	age := r.between(10, 70)
	gap, years := r.between(2, age-1), r.between(2, 20)
	question := fmt.Sprintf("%s is %d years old and %s is %d years younger. "+
		"What will the sum of their ages be in %d years?", a, age, b, gap, years)
	return question, float64(2*age - gap + 2*years)
}
