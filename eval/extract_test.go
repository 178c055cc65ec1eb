package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// extractCase is a model reply and the answer Extract must find in it.
type extractCase struct {
	name     string
	question string // for ExtractFor; empty uses Extract
	reply    string
	want     float64
	ok       bool
	method   Method
}

// replies are realistic model replies: chatty, markdown, LaTeX, Portuguese, wrong answers, no
// number, invented follow-up turns.
var replies = []extractCase{
	// GSM8K's "####".
	{name: "gsm8k hash", reply: "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\n#### 72", want: 72, ok: true, method: MethodHash},
	{name: "hash with thousands", reply: "She earns 12 × 150 = 1,800 dollars.\n#### 1,800", want: 1800, ok: true, method: MethodHash},
	{name: "h4 heading is no hash answer", reply: "#### Step 1: Find the son's age\n4s + 20 = 2(s + 20), so s = 10.\n#### Step 2: Marta's age\n4 × 10 = 40\nMarta is 40 years old.", want: 40, ok: true, method: MethodLastNumber},
	{name: "h4 numbered heading", reply: "#### 1. Multiply\n17 × 24 = 408\n#### 2. Divide\n96 ÷ 8 = 12\nResult: 396", want: 396, ok: true, method: MethodLastNumber},

	// "The answer is", "Answer:" and their Portuguese forms.
	{name: "answer is", reply: "The answer is 42.", want: 42, ok: true, method: MethodAnswerIs},
	{name: "answer colon", reply: "Answer: 42", want: 42, ok: true, method: MethodAnswerIs},
	{name: "bold answer label", reply: "**Answer:** 117", want: 117, ok: true, method: MethodAnswerIs},
	{name: "bold label outside colon", reply: "**Answer**: 68", want: 68, ok: true, method: MethodAnswerIs},
	{name: "final answer boxed in math", reply: "Adding up, 11 + 4.20 = 15.20.\n\nThe final answer is $\\boxed{15.20}$.", want: 15.2, ok: true, method: MethodAnswerIs},
	{name: "final answer markdown boxed", reply: "**Final Answer:** $\\boxed{117}$", want: 117, ok: true, method: MethodAnswerIs},
	{name: "answer is bold money", reply: "The answer is: **$1,234.50**", want: 1234.5, ok: true, method: MethodAnswerIs},
	{name: "answer with unit note", reply: "Answer (in dollars): 15.20", want: 15.2, ok: true, method: MethodAnswerIs},
	{name: "answer approximately", reply: "The answer is approximately 3.14.", want: 3.14, ok: true, method: MethodAnswerIs},
	{name: "answer therefore", reply: "Putting it together, the final answer is therefore 396.", want: 396, ok: true, method: MethodAnswerIs},
	{name: "answer would be", reply: "So, the answer would be 162 km.", want: 162, ok: true, method: MethodAnswerIs},
	{name: "answer to the problem", reply: "The answer to this problem is 31.", want: 31, ok: true, method: MethodAnswerIs},
	{name: "answer variable", reply: "Answer: x = -3", want: -3, ok: true, method: MethodAnswerIs},
	{name: "answer on next line bold", reply: "Let me work it out: 3.5 × 60 = 210.\n\nAnswer:\n\n**210**", want: 210, ok: true, method: MethodAnswerIs},
	{name: "answer then working", reply: "The answer is 68. That's because 15% of 80 is 12 and 80 - 12 = 68.", want: 68, ok: true, method: MethodAnswerIs},
	{name: "answer dollars word", reply: "The answer is 68 dollars.", want: 68, ok: true, method: MethodAnswerIs},
	{name: "answer trailing zeros", reply: "The answer is 68.00", want: 68, ok: true, method: MethodAnswerIs},
	{name: "answer leading point", reply: "The answer is .5", want: 0.5, ok: true, method: MethodAnswerIs},
	{name: "answer then closing pleasantry", reply: "12 + 8 = 20, minus 8 is 12.\nThe answer is 12.\n\nI hope this helps! Let me know if you have 2 more questions.", want: 12, ok: true, method: MethodAnswerIs},
	{name: "self correction takes the last", reply: "The answer is 40. Wait, let me check that again: 4 × 10 = 40 and 40 + 2 = 42. Actually, the answer is 42.", want: 42, ok: true, method: MethodAnswerIs},
	{name: "instruction echoed without number", reply: "End your reply with \"The answer is N.\"\n\n17 × 24 = 408 and 96 ÷ 8 = 12, so 408 − 12 = 396.\n\nThe answer is 396.", want: 396, ok: true, method: MethodAnswerIs},
	{name: "answer is words", reply: "The answer is forty-two.", want: 42, ok: true, method: MethodAnswerIs},
	{name: "answer is long words", reply: "The answer is one hundred and five.", want: 105, ok: true, method: MethodAnswerIs},
	{name: "answer is negative words", reply: "The answer is negative seven.", want: -7, ok: true, method: MethodAnswerIs},
	{name: "answer with COVID noise", reply: "COVID-19 aside, the answer is 7.", want: 7, ok: true, method: MethodAnswerIs},
	{name: "answer uppercase", reply: "FINAL ANSWER: 90", want: 90, ok: true, method: MethodAnswerIs},
	{name: "wrong answer is still read", reply: "15% of 80 is 10, so the price is 80 - 10 = 70.\nThe answer is 70.", want: 70, ok: true, method: MethodAnswerIs},
	{name: "portuguese resposta e", reply: "A resposta é 3,5.", want: 3.5, ok: true, method: MethodAnswerIs},
	{name: "portuguese resposta final", reply: "Marta tem quatro vezes a idade do filho: 4 × 10 = 40.\nA resposta final é 40 anos.", want: 40, ok: true, method: MethodAnswerIs},
	{name: "portuguese reais thousands", reply: "Resposta: R$ 1.234,56", want: 1234.56, ok: true, method: MethodAnswerIs},
	{name: "portuguese reais short thousands", reply: "Resposta: R$ 1.234", want: 1234, ok: true, method: MethodAnswerIs},
	{name: "portuguese cents", reply: "Resposta: R$ 12,50", want: 12.5, ok: true, method: MethodAnswerIs},

	// Number forms after "The answer is".
	{name: "thousands comma", reply: "The answer is 1,234.", want: 1234, ok: true, method: MethodAnswerIs},
	{name: "millions comma", reply: "The answer is 12,345,678.", want: 12345678, ok: true, method: MethodAnswerIs},
	{name: "thousands and decimals", reply: "The answer is $1,234.56.", want: 1234.56, ok: true, method: MethodAnswerIs},
	{name: "thousands space", reply: "The answer is 1 234 567.", want: 1234567, ok: true, method: MethodAnswerIs},
	{name: "thousands no-break space", reply: "The answer is 12\u00a0500.", want: 12500, ok: true, method: MethodAnswerIs},
	{name: "euro decimal comma", reply: "The answer is €1.234,56.", want: 1234.56, ok: true, method: MethodAnswerIs},
	{name: "euro after", reply: "The answer is 12,75 €.", want: 12.75, ok: true, method: MethodAnswerIs},
	{name: "fraction", reply: "The answer is 3/4.", want: 0.75, ok: true, method: MethodAnswerIs},
	{name: "mixed number", reply: "The answer is 1 1/2 cups.", want: 1.5, ok: true, method: MethodAnswerIs},
	{name: "negative mixed number", reply: "The answer is -2 3/4.", want: -2.75, ok: true, method: MethodAnswerIs},
	{name: "unicode fraction", reply: "The answer is ½.", want: 0.5, ok: true, method: MethodAnswerIs},
	{name: "unicode mixed number", reply: "The answer is 2½ hours.", want: 2.5, ok: true, method: MethodAnswerIs},
	{name: "latex dfrac", reply: "The answer is \\(\\dfrac{7}{2}\\).", want: 3.5, ok: true, method: MethodAnswerIs},
	{name: "latex mixed frac", reply: "The answer is $1\\frac{1}{2}$.", want: 1.5, ok: true, method: MethodAnswerIs},
	{name: "e notation", reply: "The answer is 2.5e3.", want: 2500, ok: true, method: MethodAnswerIs},
	{name: "times ten power", reply: "The answer is 1.2 × 10^5.", want: 120000, ok: true, method: MethodAnswerIs},
	{name: "latex times ten power", reply: "The answer is $6.02 \\times 10^{23}$.", want: 6.02e23, ok: true, method: MethodAnswerIs},
	{name: "superscript power", reply: "The answer is 3 × 10⁻².", want: 0.03, ok: true, method: MethodAnswerIs},
	{name: "percent", reply: "The answer is 25%.", want: 25, ok: true, method: MethodAnswerIs},
	{name: "latex percent", reply: "The answer is $37.5\\%$.", want: 37.5, ok: true, method: MethodAnswerIs},
	{name: "unicode minus", reply: "The answer is −4.", want: -4, ok: true, method: MethodAnswerIs},
	{name: "plus sign", reply: "The answer is +12.", want: 12, ok: true, method: MethodAnswerIs},
	{name: "negative money", reply: "The answer is -$5.", want: -5, ok: true, method: MethodAnswerIs},
	{name: "escaped dollar", reply: "The answer is $\\$68$.", want: 68, ok: true, method: MethodAnswerIs},

	// \boxed.
	{name: "boxed in display math", reply: "Four notebooks cost 11 and three pens cost 4.20.\n\\[ \\boxed{15.20} \\]", want: 15.2, ok: true, method: MethodBoxed},
	{name: "boxed fraction", reply: "Simplifying, $\\boxed{\\frac{3}{4}}$", want: 0.75, ok: true, method: MethodBoxed},
	{name: "boxed equation", reply: "Solving gives $\\boxed{x = 12}$ as the value.", want: 12, ok: true, method: MethodBoxed},
	{name: "boxed latex thousands", reply: "The total is $\\boxed{1{,}234}$ people.", want: 1234, ok: true, method: MethodBoxed},
	{name: "boxed with text unit", reply: "Therefore the area is $\\boxed{90 \\text{ cm}^2}$.", want: 90, ok: true, method: MethodBoxed},
	{name: "boxed last wins", reply: "First guess $\\boxed{10}$, but rechecking: $\\boxed{40}$", want: 40, ok: true, method: MethodBoxed},

	// Bold.
	{name: "bold number with unit", reply: "3.5 hours is 3.5 × 60 minutes, so the result is **210 minutes**.", want: 210, ok: true, method: MethodBold},
	{name: "bold money with label", reply: "Notebooks: 4 × $2.75 = $11.00\nPens: 3 × $1.40 = $4.20\n\n**Total: $15.20**", want: 15.2, ok: true, method: MethodBold},
	{name: "bold sentence at end", reply: "**Solution:**\n\n* **Discount:** 15% of $80 = $12\n* **Sale price:** $80 - $12 = $68\n\n**Therefore, the sale price is $68.**", want: 68, ok: true, method: MethodBold},
	{name: "bold answer then explanation", reply: "The total is **$15.20** (4 notebooks at $2.75 = $11 plus 3 pens at $1.40 = $4.20).", want: 15.2, ok: true, method: MethodBold},
	{name: "bold under heading", reply: "### Solution\n\nLet the son be s years old: 4s + 20 = 2(s + 20), so s = 10.\n\nMarta is **40** years old.", want: 40, ok: true, method: MethodBold},
	{name: "bold equation", reply: "**12 × 7.5 = 90**\n\nThat is the area in square centimetres.", want: 90, ok: true, method: MethodBold},
	{name: "bold working with several numbers is skipped", reply: "**3 apples at $2 each**\nSo the total is 6.", want: 6, ok: true, method: MethodLastNumber},
	{name: "bold step labels are skipped", reply: "**Step 1:** Multiply 17 by 24.\n17 × 24 = 408\n\n**Step 2:** Divide 96 by 8.\n96 ÷ 8 = 12\n\n**Step 3:** Subtract.\n408 − 12 = 396", want: 396, ok: true, method: MethodEquals},
	{name: "bold emphasis mid-reasoning wins as explicit", reply: "Each box has **12** eggs, so 5 boxes have 60 eggs.", want: 12, ok: true, method: MethodBold},

	// "=" ending the reply.
	{name: "equals money", reply: "4 × 2.75 + 3 × 1.40 = 11 + 4.20 = $15.20", want: 15.2, ok: true, method: MethodEquals},
	{name: "equals latex inline", reply: "We compute \\(\\frac{3}{4} \\times 156 = 117\\).", want: 117, ok: true, method: MethodEquals},
	{name: "equals display math", reply: "$$ 17 \\times 24 - 96 \\div 8 = 408 - 12 = 396 $$", want: 396, ok: true, method: MethodEquals},
	{name: "equals average", reply: "Average = (14 + 22 + 37 + 51) / 4 = 124 / 4 = 31", want: 31, ok: true, method: MethodEquals},
	{name: "equals variable negative", reply: "Start at -7, add 12, subtract 9:\nx = −4", want: -4, ok: true, method: MethodEquals},
	{name: "equals approx", reply: "22 / 7 ≈ 3.14", want: 3.14, ok: true, method: MethodEquals},
	{name: "equals before closing fence", reply: "$$\n72 \\times 2.25 = 162\n$$", want: 162, ok: true, method: MethodEquals},

	// The last number.
	{name: "chatty numbered steps", reply: "Sure! Let's break it down.\n\n1. First, find the discount: 15% of $80 is $12.\n2. Then subtract: $80 - $12 = $68.\n\nSo the sale price is $68. Let me know if you need anything else!", want: 68, ok: true, method: MethodLastNumber},
	{name: "numbered steps end with a label", reply: "1. Compute 12 × 7.5 = 90\n2. That is the area.", want: 90, ok: true, method: MethodLastNumber},
	{name: "parenthesized numbering", reply: "(1) 17 × 24 = 408\n(2) 96 ÷ 8 = 12\n(3) Subtract to get 396", want: 396, ok: true, method: MethodLastNumber},
	{name: "portuguese price", reply: "O desconto é de 15%, ou seja, R$ 12,00. O preço final é R$ 68,00.", want: 68, ok: true, method: MethodLastNumber},
	{name: "portuguese decimal comma", reply: "Ele precisa de 1,5 litros.", want: 1.5, ok: true, method: MethodLastNumber},
	{name: "portuguese hours", reply: "O total é 3,5 horas.", want: 3.5, ok: true, method: MethodLastNumber},
	{name: "thousands with space in text", reply: "Total: 1 234 reais", want: 1234, ok: true, method: MethodLastNumber},
	{name: "list with commas", reply: "The numbers are 14, 22, 37 and 51, and their average is 31.", want: 31, ok: true, method: MethodLastNumber},
	{name: "temperature", reply: "It rises to 5 °C at noon and falls to −4 °C at night.", want: -4, ok: true, method: MethodLastNumber},
	{name: "scientific in text", reply: "That is about 1.2 × 10^5 people.", want: 120000, ok: true, method: MethodLastNumber},
	{name: "percent in text", reply: "She scored 45.5% on the test.", want: 45.5, ok: true, method: MethodLastNumber},
	{name: "ordinal skipped", reply: "She had 15 apples on the 3rd day.", want: 15, ok: true, method: MethodLastNumber},
	{name: "unit exponent skipped", reply: "The area is 90 cm^2.", want: 90, ok: true, method: MethodLastNumber},
	{name: "superscript unit", reply: "The area is 90 m².", want: 90, ok: true, method: MethodLastNumber},
	{name: "glued unit digit skipped", reply: "The room has 90 m2 of floor.", want: 90, ok: true, method: MethodLastNumber},
	{name: "model name skipped", reply: "Using a Q4_K_M model, the result is 5.", want: 5, ok: true, method: MethodLastNumber},
	{name: "chemical formula skipped", reply: "The plant emits 40 tonnes of CO2.", want: 40, ok: true, method: MethodLastNumber},
	{name: "date not a fraction", reply: "She bought 3 books on 12/25/2024 and 2 more later, 5 books.", want: 5, ok: true, method: MethodLastNumber},
	{name: "code block", reply: "```\n396\n```", want: 396, ok: true, method: MethodLastNumber},
	{name: "two candidates takes last", reply: "I think it's 12 or 13.", want: 13, ok: true, method: MethodLastNumber},
	{name: "digits beat number words", reply: "One apple costs $2, so five apples cost $10.", want: 10, ok: true, method: MethodLastNumber},
	{name: "number words only", reply: "Marta is forty years old.", want: 40, ok: true, method: MethodLastNumber},
	{name: "number words large", reply: "That comes to two thousand three hundred forty-five people.", want: 2345, ok: true, method: MethodLastNumber},
	{name: "multiplication x", reply: "So 4x3.80 comes to 15.20 in total.", want: 15.2, ok: true, method: MethodLastNumber},
	{name: "mixed hours", reply: "2 hours and 15 minutes is 2.25 hours.", want: 2.25, ok: true, method: MethodLastNumber},
	{name: "just the number", reply: "42", want: 42, ok: true, method: MethodLastNumber},
	{name: "just the number with period", reply: "42.", want: 42, ok: true, method: MethodLastNumber},

	// Text after the reply's own turn.
	{name: "invented next question", reply: "The answer is 4.\n\nQuestion: What is 3 + 6?\nThe answer is 9.", want: 4, ok: true, method: MethodAnswerIs},
	{name: "chat token then more", reply: "The answer is 4.<|im_end|>\n<|im_start|>user\nWhat is 3 + 6? The answer is 9.", want: 4, ok: true, method: MethodAnswerIs},
	{name: "gemma end of turn", reply: "**Answer:** 31<end_of_turn>\n<start_of_turn>user\nAnswer: 7", want: 31, ok: true, method: MethodAnswerIs},
	{name: "restated question at start is kept", reply: "Question: What is 6 × 7?\nAnswer: 42", want: 42, ok: true, method: MethodAnswerIs},

	// No number.
	{name: "refusal", reply: "I'm sorry, but I can't help with that.", method: MethodNone},
	{name: "empty", reply: "", method: MethodNone},
	{name: "no numeric answer", reply: "I cannot determine the answer without more information.", method: MethodNone},
	{name: "placeholder only", reply: "The answer is N.", method: MethodNone},
	{name: "only step labels", reply: "Step 1: read the question.\nStep 2: think.", method: MethodNone},

	// Echoes of the question.
	{name: "echo at end without question", reply: "5 apples cost $10, because 3 apples cost $6.", want: 6, ok: true, method: MethodLastNumber},
	{name: "echo at end dropped", question: "If 3 apples cost $6, how much do 5 apples cost?", reply: "5 apples cost $10, because 3 apples cost $6.", want: 10, ok: true, method: MethodLastNumber},
	{name: "echo of units dropped", question: "How many minutes are there in 3.5 hours?", reply: "There are 210 minutes in 3.5 hours.", want: 210, ok: true, method: MethodLastNumber},
	{name: "echo of duration dropped", question: "A train travels at a steady 72 kilometres per hour. How many kilometres does it cover in 2 hours and 15 minutes?", reply: "To find the distance, multiply speed by time.\n\nTherefore, the train covers 162 kilometres in 2 hours and 15 minutes.", want: 162, ok: true, method: MethodLastNumber},
	{name: "only echoes", question: "How many minutes are there in 3.5 hours?", reply: "You want the minutes in 3.5 hours.", method: MethodNone},
	{name: "same value without shared word is kept", question: "What is 12 + 0?", reply: "12 + 0 = 12", want: 12, ok: true, method: MethodEquals},
	{name: "explicit answer beats echo filter", question: "If 3 apples cost $6, how much do 2 apples cost?", reply: "The answer is 4, since 3 apples cost $6.", want: 4, ok: true, method: MethodAnswerIs},
}

func TestExtract(t *testing.T) {
	assert.GreaterOrEqual(t, len(replies), 80, "the table is the specification; keep it large")
	for _, tc := range replies {
		t.Run(tc.name, func(t *testing.T) {
			got := ExtractFor(tc.question, tc.reply)
			assert.Equal(t, tc.ok, got.OK, "found")
			assert.Equal(t, tc.method, got.Method, "method")
			assertNumber(t, tc.want, got.Value)
			if tc.question == "" {
				v, ok := ExtractAnswer(tc.reply)
				assert.Equal(t, got.OK, ok)
				assert.Equal(t, got.Value, v)
				assert.Equal(t, got, Extract(tc.reply))
			}
		})
	}
}

// assertNumber checks got against want to a relative 1e-12, which the exact answers above
// meet and any misreading misses by far.
func assertNumber(t *testing.T, want, got float64) {
	t.Helper()
	assert.InDelta(t, want, got, 1e-12*math.Max(1, math.Abs(want)), "value")
}
