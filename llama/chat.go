package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// ErrUnsafePrompt means a chat prompt could not be built with its messages' content kept apart
// from the template's own markers: a role is not a plain name, or the template changes content
// in a way that hides where it lies. A prompt built anyway would let content act as template
// structure, so none is returned.
var ErrUnsafePrompt = errors.New("unsafe prompt")

// Message is one turn of a chat. Content is plain text: control tokens written in it are not
// recognized. Role is template structure ("system", "user", "assistant"): templates write it
// as it is, some inside their markers (phi3's "<|" + role + "|>"), so it must be a plain name
// and the application's choice, never a client's unchecked.
type Message struct {
	Role    string
	Content string
}

// ChatPrompt renders messages with the model's chat template (tokenizer.chat_template in the
// GGUF, or the one given with WithChatTemplate) and ends with the start of the assistant's
// turn, as ApplyTemplate does. It returns ErrNoChatTemplate when the model has no template and
// none was given.
func (m *Model) ChatPrompt(messages []Message) (Prompt, error) {
	tmpl := m.info.ChatTemplate
	if tmpl == "" {
		return Prompt{}, fmt.Errorf("chat prompt for %s: %w", m.info.Name, ErrNoChatTemplate)
	}
	p, err := ApplyTemplate(tmpl, messages, true)
	if err != nil {
		return Prompt{}, fmt.Errorf("chat prompt for %s: %w", m.info.Name, err)
	}
	return p, nil
}

// ApplyTemplate renders messages with a chat template through llama_chat_apply_template. The
// template is a Jinja template as found in GGUF files, or the name of one of llama.cpp's
// built-in templates ("chatml", "gemma", "phi3", "mistral-v7", ...); llama.cpp recognizes a
// template by its markers rather than running Jinja, so a template it does not know is an
// error. addAssistant ends the prompt with the start of the assistant's turn.
//
// In the Prompt returned, control tokens are recognized in the template's own text only: each
// message's content is plain text, so that content holding "<|im_start|>" or "[INST]" cannot
// open a turn. The content is found by rendering the messages a second time with each content
// replaced by a marker, and checking that putting the contents (or, where the template trims
// them, their trimmed text) in place of the markers gives the rendering exactly. Where it does
// not, or where a role is not a plain name of letters, digits, '_' or '-', the error is
// ErrUnsafePrompt. Content that is only whitespace holds no token's text and is rendered as
// it is.
func ApplyTemplate(template string, messages []Message, addAssistant bool) (Prompt, error) {
	if template == "" {
		return Prompt{}, ErrNoChatTemplate
	}
	if len(messages) == 0 {
		return Prompt{}, fmt.Errorf("apply chat template: no messages")
	}
	for _, msg := range messages {
		if !plainName(msg.Role) {
			return Prompt{}, fmt.Errorf("apply chat template: %w: role %q is not a plain name", ErrUnsafePrompt, msg.Role)
		}
		if strings.IndexByte(msg.Content, 0) >= 0 {
			return Prompt{}, fmt.Errorf("apply chat template: content holds a NUL byte, where llama.cpp would cut it")
		}
	}
	p, err := separateContent(messages, func(msgs []Message) (string, error) {
		return renderTemplate(template, msgs, addAssistant)
	})
	if err != nil {
		return Prompt{}, fmt.Errorf("apply chat template: %w", err)
	}
	return p, nil
}

// plainName reports whether a role is a non-empty name of ASCII letters, digits, '_' and '-':
// templates write roles into their own markers ("<|" + role + "|>"), where a role of any other
// text could write markers of its own.
func plainName(role string) bool {
	if role == "" {
		return false
	}
	for _, c := range []byte(role) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// separateContent renders messages with render and returns the rendering as a Prompt whose
// message content is plain text and whose template text recognizes control tokens.
func separateContent(messages []Message, render func([]Message) (string, error)) (Prompt, error) {
	text, err := render(messages)
	if err != nil {
		return Prompt{}, err
	}
	delim, err := markerRune(text, messages)
	if err != nil {
		return Prompt{}, err
	}
	marked := make([]Message, len(messages))
	candidates := make([][]string, len(messages))
	for i, msg := range messages {
		marked[i] = msg
		trimmed := strings.TrimFunc(msg.Content, func(r rune) bool { return r < utf8.RuneSelf && isSpace(byte(r)) })
		if trimmed == "" {
			continue // whitespace holds no token text; a template may drop it, or branch on it
		}
		marked[i].Content = string(delim) + strconv.Itoa(i) + string(delim)
		candidates[i] = []string{msg.Content}
		if trimmed != msg.Content {
			candidates[i] = append(candidates[i], trimmed)
		}
	}
	withMarkers, err := render(marked)
	if err != nil {
		return Prompt{}, err
	}
	// Split gives the template's text at even indices and the markers' message indices at odd.
	parts := strings.Split(withMarkers, string(delim))
	if len(parts)%2 == 0 {
		return Prompt{}, fmt.Errorf("%w: the template splits a content marker", ErrUnsafePrompt)
	}
	sm := spanMatcher{text: text, parts: parts, candidates: candidates, failed: map[[2]int]bool{}}
	sm.content = make([]span, len(parts)/2)
	if !sm.match(0, 0) {
		return Prompt{}, fmt.Errorf("%w: the template changes message content", ErrUnsafePrompt)
	}
	pieces := make([]Prompt, 0, len(parts))
	pos := 0
	for _, c := range sm.content {
		pieces = append(pieces, RawPrompt(text[pos:c.start]), Text(text[c.start:c.end]))
		pos = c.end
	}
	return Concat(append(pieces, RawPrompt(text[pos:]))...), nil
}

// markerRune returns a private-use character found in neither the rendering nor any message,
// to delimit content markers with.
func markerRune(text string, messages []Message) (rune, error) {
	const first, last = 0xE000, 0xF8FF
	var seen [last - first + 1]bool
	note := func(s string) {
		for _, r := range s {
			if first <= r && r <= last {
				seen[r-first] = true
			}
		}
	}
	note(text)
	for _, msg := range messages {
		note(msg.Role)
		note(msg.Content)
	}
	for i, used := range seen {
		if !used {
			return rune(first + i), nil
		}
	}
	return 0, fmt.Errorf("%w: the messages use every private-use character", ErrUnsafePrompt)
}

// spanMatcher finds where each marker's content lies in the real rendering: parts alternate
// template text and message indices, and each marker may stand for its message's content or,
// where the template trims it, its trimmed text.
type spanMatcher struct {
	text       string
	parts      []string
	candidates [][]string
	content    []span
	failed     map[[2]int]bool // (marker, position) pairs known not to lead to a match
}

// match reports whether text[pos:] is the template text parts[2k] followed by the rest.
func (sm *spanMatcher) match(k, pos int) bool {
	lit := sm.parts[2*k]
	if !strings.HasPrefix(sm.text[pos:], lit) {
		return false
	}
	pos += len(lit)
	if 2*k+1 == len(sm.parts) {
		return pos == len(sm.text)
	}
	key := [2]int{k, pos}
	if sm.failed[key] {
		return false
	}
	i, err := strconv.Atoi(sm.parts[2*k+1])
	if err == nil && i >= 0 && i < len(sm.candidates) {
		for _, c := range sm.candidates[i] {
			if strings.HasPrefix(sm.text[pos:], c) && sm.match(k+1, pos+len(c)) {
				sm.content[k] = span{pos, pos + len(c)}
				return true
			}
		}
	}
	sm.failed[key] = true
	return false
}

// renderTemplate is llama_chat_apply_template on messages.
func renderTemplate(template string, messages []Message, addAssistant bool) (string, error) {
	ctmpl := C.CString(template)
	defer C.free(unsafe.Pointer(ctmpl))

	// One C array holds the messages; its strings are freed with it.
	cmsgs := (*C.struct_llama_chat_message)(C.calloc(C.size_t(len(messages)), C.size_t(unsafe.Sizeof(C.struct_llama_chat_message{}))))
	defer C.free(unsafe.Pointer(cmsgs))
	msgs := unsafe.Slice(cmsgs, len(messages))
	total := 0
	for i, msg := range messages {
		msgs[i].role = C.CString(msg.Role)
		msgs[i].content = C.CString(msg.Content)
		total += len(msg.Role) + len(msg.Content)
	}
	defer func() {
		for i := range msgs {
			C.free(unsafe.Pointer(msgs[i].role))
			C.free(unsafe.Pointer(msgs[i].content))
		}
	}()

	size := 2*total + 256
	for {
		buf := (*C.char)(C.malloc(C.size_t(size)))
		n := int(C.llama_chat_apply_template(ctmpl, cmsgs, C.size_t(len(messages)), C.bool(addAssistant), buf, C.int32_t(size)))
		if n < 0 {
			C.free(unsafe.Pointer(buf))
			return "", fmt.Errorf("llama.cpp does not support this template")
		}
		if n <= size {
			out := C.GoStringN(buf, C.int(n))
			C.free(unsafe.Pointer(buf))
			return out, nil
		}
		C.free(unsafe.Pointer(buf))
		size = n
	}
}

// BuiltinTemplates returns the names of llama.cpp's built-in chat templates, which
// WithChatTemplate and ApplyTemplate take besides the Jinja templates they recognize.
func BuiltinTemplates() []string {
	n := int(C.llama_chat_builtin_templates(nil, 0))
	if n <= 0 {
		return nil
	}
	names := make([]*C.char, n)
	n = min(n, int(C.llama_chat_builtin_templates(&names[0], C.size_t(n))))
	out := make([]string, n)
	for i := range out {
		out[i] = C.GoString(names[i])
	}
	return out
}
