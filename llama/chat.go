package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// Message is one turn of a chat.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// ChatPrompt renders messages with the model's chat template (tokenizer.chat_template in the
// GGUF, or the one given with WithChatTemplate) and ends with the start of the assistant's
// turn. It returns ErrNoChatTemplate when the model has no template and none was given.
func (m *Model) ChatPrompt(messages []Message) (string, error) {
	tmpl := m.info.ChatTemplate
	if tmpl == "" {
		return "", fmt.Errorf("chat prompt for %s: %w", m.info.Name, ErrNoChatTemplate)
	}
	return ApplyTemplate(tmpl, messages, true)
}

// ApplyTemplate renders messages with a chat template through llama_chat_apply_template. The
// template is a Jinja template as found in GGUF files, or the name of one of llama.cpp's
// built-in templates ("chatml", "gemma", "phi3", "mistral-v7", ...); llama.cpp recognizes a
// template by its markers rather than running Jinja, so a template it does not know is an
// error. addAssistant ends the prompt with the start of the assistant's turn.
func ApplyTemplate(template string, messages []Message, addAssistant bool) (string, error) {
	if template == "" {
		return "", ErrNoChatTemplate
	}
	if len(messages) == 0 {
		return "", fmt.Errorf("apply chat template: no messages")
	}
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
			return "", fmt.Errorf("apply chat template: llama.cpp does not support this template")
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
