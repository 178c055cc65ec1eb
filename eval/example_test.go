package eval_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/local-llm-bench/llmbench/eval"
)

func ExampleExtractAnswer() {
	reply := "Four notebooks cost 4 × $2.75 = $11.00 and three pens cost $4.20.\n\n" +
		"**Final answer:** $15.20"
	v, ok := eval.ExtractAnswer(reply)
	fmt.Println(v, ok)

	v, ok = eval.ExtractAnswer("A resposta é 1.234,5.")
	fmt.Println(v, ok)

	_, ok = eval.ExtractAnswer("I'm not sure.")
	fmt.Println(ok)
	// Output:
	// 15.2 true
	// 1234.5 true
	// false
}

func ExampleExtract() {
	for _, reply := range []string{
		"#### 72",
		`So the area is $\boxed{90}$.`,
		"1. Multiply 12 by 7.5.\n2. The area is 90 square centimetres.",
	} {
		e := eval.Extract(reply)
		fmt.Println(e.Value, e.Method)
	}
	// Output:
	// 72 hash
	// 90 boxed
	// 90 last-number
}

func ExampleScore() {
	items := []eval.Item{
		{ID: "a", Question: "What is 6 × 7?", Answer: 42},
		{ID: "b", Question: "What is 10% of 50?", Answer: 5},
		{ID: "c", Question: "How many minutes are in 1.5 hours?", Answer: 90},
	}
	r := eval.Score(items, []string{
		"6 × 7 = 42",
		"10% of 50 is 6, so the answer is 6.",
		"There are **90 minutes** in 1.5 hours.",
	})
	fmt.Printf("%d/%d correct, accuracy %.2f, 95%% CI [%.4f, %.4f]\n",
		r.Correct, r.Total, r.Accuracy, r.CI95Low, r.CI95High)
	for _, row := range r.Rows {
		fmt.Println(row.ID, row.Extracted, row.Method, row.Correct)
	}
	// Output:
	// 2/3 correct, accuracy 0.67, 95% CI [0.2077, 0.9385]
	// a 42 equals true
	// b 6 answer-is false
	// c 90 bold true
}

func ExampleRun() {
	// A Chatter stands for the model; a llama session behind an adapter is the real one.
	model := eval.ChatFunc(func(_ context.Context, msgs []eval.Message, _ int) (string, int, error) {
		question := msgs[len(msgs)-1].Content
		if strings.Contains(question, "6 × 7") {
			return "6 × 7 = 42.\nThe answer is 42.", 12, nil
		}
		return "The answer is 5.", 5, nil
	})
	items := []eval.Item{
		{ID: "a", Question: "What is 6 × 7?", Answer: 42},
		{ID: "b", Question: "What is 10% of 50?", Answer: 5},
	}
	r, err := eval.Run(context.Background(), model, items, eval.RunOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d/%d correct, %.1f tokens per reply\n", r.Correct, r.Total, r.MeanTokens)
	// Output: 2/2 correct, 8.5 tokens per reply
}

func ExampleWriteLogsCSV() {
	items := []eval.Item{{ID: "a", Category: "arithmetic", Question: "What is 6 × 7?", Answer: 42}}
	r := eval.Score(items, []string{"The answer is 42."})
	if err := eval.WriteLogsCSV(os.Stdout, r); err != nil {
		fmt.Println(err)
	}
	if err := eval.WriteQualityCSV(os.Stdout, "toy", r); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id,category,question,expected,response,extracted,found,method,correct,latency_s,tokens
	// a,arithmetic,What is 6 × 7?,42,The answer is 42.,42,true,answer-is,true,0,0
	// model,correct,total,accuracy,ci95_low,ci95_high,found,mean_latency_s,mean_tokens
	// toy,1,1,1,0.206549,1,1,0,0
}
