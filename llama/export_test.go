package llama

// What the external tests need of the package's insides (see hooks.go).

var (
	LiveContexts         = liveContexts
	DeferredBackendFrees = deferredBackendFrees
)

// SetStepHook sets the hook each Server step calls before it decodes; nil removes it.
func SetStepHook(f func(seqs []int32, gen int)) { testHookStep = f }

// SplitArgmax shares every Server step's greedy picks out among workers goroutines, however
// few logits the step holds, until the function it returns restores the defaults.
func SplitArgmax(workers int) (restore func()) {
	least, w := argmaxSplitMin.Swap(0), argmaxWorkers.Swap(int64(workers))
	return func() { argmaxSplitMin.Store(least); argmaxWorkers.Store(w) }
}

// ArgmaxSplits counts the Server steps whose greedy picks were shared out.
func ArgmaxSplits() int64 { return argmaxSplits.Load() }

// SetAfterBeginHook sets the hook Generate runs once its call has begun; nil removes it.
func SetAfterBeginHook(f func(*Session)) { testHookAfterBegin = f }

func (s *Session) TripAt(n int64, fn func()) func() { return s.tripAt(n, fn) }
func (s *Session) AbortPolls() int64                { return s.abortPolls() }
func (s *Session) CancelRaised() bool               { return s.cancelRaised() }
func (s *Session) Closing() bool                    { return s.closed.Load() }
func (s *Session) LastMargin() float32              { return s.lastMargin() }

// StopCleanup keeps the session's cleanup from running: dropped, it stays unreachable and
// unfreed, as one is between being found unreachable and its cleanup running.
func (s *Session) StopCleanup() { s.cleanup.Stop() }

// Closing reports whether Close has begun on the model.
func (m *Model) Closing() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closing
}
