package llama

// #include "helpers.h"
import "C"

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
)

// logState assembles llama.cpp's log output into lines (it arrives in pieces, continuations
// marked GGML_LOG_LEVEL_CONT, and from several threads at once) and hands each line to slog at
// debug level, so the library is silent by default. While a capture is active the error and
// warning lines of the capturing thread are also kept, so that a failed call can say why
// without taking in what other sessions log meanwhile; the last few warning and error lines of
// any thread are kept at all times, so that an abort can say what led to it.
var logState struct {
	mu      sync.Mutex
	threads map[int64]*threadLog
	capture *[]string
	tid     int64    // the thread whose lines capture keeps
	recent  []string // the last recentLines warning and error lines
}

// threadLog is the line a thread is writing and the level it was begun at.
type threadLog struct {
	level   int
	partial strings.Builder
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
func llmbLog(level C.int, text *C.char, tid C.int64_t) {
	logLine(int(level), C.GoString(text), int64(tid))
}

// logLine takes one piece of a thread's log output.
func logLine(level int, s string, tid int64) {
	logState.mu.Lock()
	defer logState.mu.Unlock()
	if logState.threads == nil {
		logState.threads = map[int64]*threadLog{}
	}
	th := logState.threads[tid]
	if th == nil {
		th = &threadLog{}
		logState.threads[tid] = th
	}
	if level != logCont {
		th.level = level
	}
	th.partial.WriteString(s)
	if !strings.HasSuffix(s, "\n") {
		return
	}
	line := strings.TrimRight(th.partial.String(), "\n")
	delete(logState.threads, tid)
	if line == "" {
		return
	}
	if th.level >= logWarn {
		if logState.capture != nil && tid == logState.tid {
			*logState.capture = append(*logState.capture, line)
		}
		if len(logState.recent) == recentLines {
			logState.recent = append(logState.recent[:0], logState.recent[1:]...)
		}
		logState.recent = append(logState.recent, line)
	}
	slog.Log(context.Background(), slog.LevelDebug, line, "source", "llama.cpp", "level", th.level)
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

// captureLog collects the warning and error lines that llama.cpp logs on the calling thread
// until the returned function is called, which gives them back. It locks the goroutine to its
// thread meanwhile, so that the C calls made between the two run on that thread. Captures do
// not nest: callers hold loadMu.
func captureLog() func() []string {
	runtime.LockOSThread()
	lines := []string{}
	logState.mu.Lock()
	logState.capture = &lines
	logState.tid = int64(C.llmb_tid())
	logState.mu.Unlock()
	return func() []string {
		logState.mu.Lock()
		defer logState.mu.Unlock()
		logState.capture = nil
		runtime.UnlockOSThread()
		return lines
	}
}
