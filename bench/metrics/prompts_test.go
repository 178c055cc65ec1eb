package metrics

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBaselinePrompts(t *testing.T) {
	p, err := BaselinePrompts()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(p), 10)
	langs := map[string]int{}
	for _, x := range p {
		langs[x.Lang]++
		assert.NotEmpty(t, x.Text)
	}
	assert.Positive(t, langs["en"])
	assert.Positive(t, langs["pt"])
}
