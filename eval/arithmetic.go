package eval

import (
	"fmt"
	"strconv"
)

// Arithmetic returns n questions such as "What is 84 ÷ 7 + 13 × 3?" with exact integer
// answers, drawn from seed: a seed always gives the same items, in the same order, with every
// Go version. Expressions have one to three operations among +, -, × and ÷, with parentheses
// where needed. Operands are at most 1188 and answers stay within ±40,000; every division is
// exact, results may be negative, and no question repeats. IDs are "arith-<seed>-<i>",
// Category "arithmetic". n <= 0 gives nil.
func Arithmetic(n int, seed uint64) []Item {
	if n <= 0 {
		return nil
	}
	r := newRNG(seed, streamArithmetic)
	source := fmt.Sprintf("arithmetic seed=%d", seed)
	items := make([]Item, 0, n)
	seen := make(map[string]bool, n)
	for len(items) < n {
		ops := 1
		switch w := r.between(1, 10); {
		case w > 7:
			ops = 3
		case w > 3:
			ops = 2
		}
		e := r.arith(ops, ops == 1)
		q := "What is " + e.String() + "?"
		if seen[q] {
			continue
		}
		seen[q] = true
		items = append(items, Item{
			ID:       fmt.Sprintf("arith-%d-%03d", seed, len(items)+1),
			Question: q,
			Answer:   float64(e.value()),
			Category: "arithmetic",
			Source:   source,
		})
	}
	return items
}

// expr is an arithmetic expression: a number (op 0) or an operation on two expressions.
type expr struct {
	op   rune // 0, '+', '-', '×' or '÷'
	num  int64
	l, r *expr
}

// arith draws an expression with ops operations. single widens the operands of a lone
// operation, so that one-step questions are not trivial.
func (r *rng) arith(ops int, single bool) *expr {
	choices := []rune{'+', '-', '×', '÷'}
	if ops > 1 {
		// A division takes only numbers, so that it can be made exact by construction.
		choices = choices[:3]
	}
	op := pick(r, choices)
	if op == '÷' {
		d := int64(r.between(2, 12))
		q := int64(r.between(2, 20))
		if single {
			q = int64(r.between(2, 99))
		}
		return &expr{op: op, l: &expr{num: d * q}, r: &expr{num: d}}
	}
	left := r.between(0, ops-1)
	return &expr{op: op, l: r.operand(op, left, single), r: r.operand(op, ops-1-left, single)}
}

// operand draws a child of op with ops operations of its own.
func (r *rng) operand(op rune, ops int, single bool) *expr {
	if ops > 0 {
		return r.arith(ops, false)
	}
	hi := 99
	switch {
	case op == '×' && !single:
		hi = 15
	case op != '×' && single:
		hi = 999
	}
	return &expr{num: int64(r.between(2, hi))}
}

func (e *expr) value() int64 {
	switch e.op {
	case '+':
		return e.l.value() + e.r.value()
	case '-':
		return e.l.value() - e.r.value()
	case '×':
		return e.l.value() * e.r.value()
	case '÷':
		return e.l.value() / e.r.value()
	}
	return e.num
}

func (e *expr) precedence() int {
	switch e.op {
	case '+', '-':
		return 1
	case '×', '÷':
		return 2
	}
	return 3
}

// String writes the expression with the parentheses its tree needs and no others.
func (e *expr) String() string {
	if e.op == 0 {
		return strconv.FormatInt(e.num, 10)
	}
	l, r := e.l.String(), e.r.String()
	if e.l.precedence() < e.precedence() {
		l = "(" + l + ")"
	}
	// a - (b + c) and a ÷ (b × c) need them on the right even at equal precedence.
	if p := e.r.precedence(); p < e.precedence() || p == e.precedence() && (e.op == '-' || e.op == '÷') {
		r = "(" + r + ")"
	}
	return l + " " + string(e.op) + " " + r
}
