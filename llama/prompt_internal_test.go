package llama

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The split follows llama.cpp's tokenizer_st_partition: longest text first, whitespace dropped
// beside tokens that strip it, user-defined tokens everywhere, and control tokens here only
// within the prompt's special spans.
func TestFragments(t *testing.T) {
	specials := []specialToken{
		{id: 10, text: "<|im_start|>", control: true},
		{id: 11, text: "<|im_end|>", control: true},
		{id: 12, text: "<|end|>", control: true, rstrip: true},
		{id: 13, text: "<mask>", control: true, lstrip: true},
		{id: 14, text: "<td>"}, // user-defined
		{id: 15, text: "<|", control: true},
	}
	type frag struct {
		tok  int32
		text string
	}
	raw := func(s string) frag { return frag{-1, s} }
	for _, tc := range []struct {
		name   string
		prompt Prompt
		want   []frag
	}{
		{"plain text holds no control token", Text("a<|im_start|>b<td>c"),
			[]frag{raw("a<|im_start|>b"), {14, ""}, raw("c")}},
		{"raw text splits at every one", RawPrompt("a<|im_start|>b<|im_end|>"),
			[]frag{raw("a"), {10, ""}, raw("b"), {11, ""}}},
		{"longest first", RawPrompt("<|im_end|><|x"),
			[]frag{{11, ""}, {15, ""}, raw("x")}},
		{"rstrip drops whitespace after, into the next part", Concat(RawPrompt("<|end|>\n"), Text("  hi")),
			[]frag{{12, ""}, raw("hi")}},
		{"lstrip drops whitespace before", RawPrompt("a \n<mask>b"),
			[]frag{raw("a"), {13, ""}, raw("b")}},
		{"content between markers stays whole with its neighbours",
			Concat(RawPrompt("<|im_start|>user\n"), Text("x<|im_end|>y"), RawPrompt("<|im_end|>\n")),
			[]frag{{10, ""}, raw("user\nx<|im_end|>y"), {11, ""}, raw("\n")}},
		{"a marker across the edge of plain text is plain", Concat(RawPrompt("a<|im_"), Text("end|>")),
			[]frag{raw("a"), {15, ""}, raw("im_end|>")}},
		{"touching raw parts join", Concat(RawPrompt("<|im_"), RawPrompt("end|>")),
			[]frag{{11, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []frag
			for _, f := range tc.prompt.fragments(specials) {
				if f.tok >= 0 {
					got = append(got, frag{f.tok, ""})
				} else {
					got = append(got, raw(tc.prompt.text[f.start:f.end]))
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestConcatKeepsEachPartsKind(t *testing.T) {
	p := Concat(RawPrompt("ab"), Text("cd"), RawPrompt("e"), RawPrompt("f"), Text(""), RawPrompt(""), RawPrompt("g"))
	assert.Equal(t, "abcdefg", p.String())
	assert.Equal(t, []span{{0, 2}, {4, 7}}, p.special)
	assert.True(t, p.inSpecial(4, 7))
	assert.False(t, p.inSpecial(1, 3))
	assert.False(t, p.inSpecial(2, 3))
	assert.True(t, Concat(RawPrompt("x")).allSpecial())
	assert.False(t, p.allSpecial())
	assert.Empty(t, Prompt{}.String())
}

// separateContent accepts what templates do to content, trimming or leaving it out, and
// refuses a template that changes it otherwise, rather than recognize control tokens in it.
func TestSeparateContent(t *testing.T) {
	msgs := []Message{{Role: "system", Content: " be brief "}, {Role: "user", Content: "<|im_end|>hi"}}
	chatml := func(trim bool) func([]Message) (string, error) {
		return func(ms []Message) (string, error) {
			var b strings.Builder
			for _, m := range ms {
				c := m.Content
				if trim {
					c = strings.TrimSpace(c)
				}
				b.WriteString("<|im_start|>" + m.Role + "\n" + c + "<|im_end|>\n")
			}
			return b.String(), nil
		}
	}
	for _, tc := range []struct {
		name    string
		render  func([]Message) (string, error)
		content []string
	}{
		{"as it is", chatml(false), []string{" be brief ", "<|im_end|>hi"}},
		{"trimmed", chatml(true), []string{"be brief", "<|im_end|>hi"}},
		{"system left out", func(ms []Message) (string, error) { return chatml(false)(ms[1:]) }, []string{"<|im_end|>hi"}},
		{"content twice", func(ms []Message) (string, error) {
			s, err := chatml(false)(ms)
			return s + s, err
		}, []string{" be brief ", "<|im_end|>hi", " be brief ", "<|im_end|>hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := separateContent(msgs, tc.render)
			require.NoError(t, err)
			want, err := tc.render(msgs)
			require.NoError(t, err)
			assert.Equal(t, want, p.String())
			var plain []string
			pos := 0
			for _, s := range append(p.special, span{len(p.text), len(p.text)}) {
				if s.start > pos {
					plain = append(plain, p.text[pos:s.start])
				}
				pos = s.end
			}
			assert.Equal(t, tc.content, plain)
		})
	}
	for name, render := range map[string]func([]Message) (string, error){
		"escapes": func(ms []Message) (string, error) {
			s, err := chatml(false)(ms)
			return strings.ReplaceAll(s, "<|im_end|>hi", "&lt;|im_end|&gt;hi"), err
		},
		"changes case": func(ms []Message) (string, error) {
			ms = slices.Clone(ms)
			for i := range ms {
				ms[i].Content = strings.ToUpper(ms[i].Content)
			}
			return chatml(false)(ms)
		},
		"cuts content short": func(ms []Message) (string, error) {
			ms = slices.Clone(ms)
			for i := range ms {
				ms[i].Content = ms[i].Content[:min(len(ms[i].Content), 4)]
			}
			return chatml(false)(ms)
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := separateContent(msgs, render)
			require.ErrorIs(t, err, ErrUnsafePrompt)
		})
	}
}
