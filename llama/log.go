package llama

import "C"

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// logState assembles llama.cpp's log output into lines (it arrives in pieces, continuations
// marked GGML_LOG_LEVEL_CONT) and hands each line to slog at debug level, so the library is
// silent by default. While a capture is active the error and warning lines are also kept, so
// that a failed load can say why; the last few of them are kept at all times, so that an
// abort can say what led to it.
var logState struct {
	mu      sync.Mutex
	level   int
	partial strings.Builder
	capture *[]string
	recent  []string // the last recentLines warning and error lines
}

const recentLines = 8

// Log levels of ggml.h's enum ggml_log_level.
const (
	logNone  = 0
	logDebug = 1
	logInfo  = 2
	logWarn  = 3
	logError = 4
	logCont  = 5
)

//export llmbLog
func llmbLog(level C.int, text *C.char) {
	s := C.GoString(text)
	logState.mu.Lock()
	defer logState.mu.Unlock()
	if int(level) != logCont {
		logState.level = int(level)
	}
	logState.partial.WriteString(s)
	if !strings.HasSuffix(s, "\n") {
		return
	}
	line := strings.TrimRight(logState.partial.String(), "\n")
	logState.partial.Reset()
	if line == "" {
		return
	}
	if logState.level >= logWarn {
		if logState.capture != nil {
			*logState.capture = append(*logState.capture, line)
		}
		if len(logState.recent) == recentLines {
			logState.recent = append(logState.recent[:0], logState.recent[1:]...)
		}
		logState.recent = append(logState.recent, line)
	}
	slog.Log(context.Background(), slog.LevelDebug, line, "source", "llama.cpp", "level", logState.level)
}

//export llmbAbortMessage
func llmbAbortMessage(text *C.char) {
	// ggml calls abort() right after this returns: say what happened where a user will see it,
	// with the warnings and errors that came before (CUDA prints its error there).
	logState.mu.Lock()
	recent := strings.Join(logState.recent, "\n")
	logState.mu.Unlock()
	slog.Error("llama.cpp aborted the process: "+C.GoString(text), "source", "llama.cpp", "last_errors", recent)
}

// captureLog collects llama.cpp's warning and error lines until the returned function is
// called, which gives them back. Captures do not nest: callers hold loadMu.
func captureLog() func() []string {
	lines := []string{}
	logState.mu.Lock()
	logState.capture = &lines
	logState.mu.Unlock()
	return func() []string {
		logState.mu.Lock()
		defer logState.mu.Unlock()
		logState.capture = nil
		return lines
	}
}
