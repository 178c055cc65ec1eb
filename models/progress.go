package models

import "time"

// Progress reports how far a download has come.
type Progress struct {
	// Downloaded counts the bytes on disk so far, including those kept from an earlier attempt.
	Downloaded int64
	// Total is the size of the whole download; 0 when the server did not say.
	Total int64
	// Resumed is true when this download continues from bytes an earlier attempt left.
	Resumed bool
}

// progressInterval keeps progress callbacks to about ten a second.
const progressInterval = 100 * time.Millisecond

// meter throttles progress callbacks. A nil fn reports nothing.
type meter struct {
	fn      func(Progress)
	base    int64 // bytes of earlier files of the same fetch (the wheels of a PyPI model)
	total   int64
	resumed bool
	last    time.Time
	// now reads the clock; time.Now when nil. Tests set it to decide what the throttle lets
	// through on times they choose.
	now func() time.Time
}

// report tells fn that n bytes of the current file are done, unless it did less than
// progressInterval ago; force reports anyway (the first and last reports of a file).
func (m *meter) report(n int64, force bool) {
	if m.fn == nil {
		return
	}
	now := time.Now()
	if m.now != nil {
		now = m.now()
	}
	if !force && now.Sub(m.last) < progressInterval {
		return
	}
	m.last = now
	m.fn(Progress{Downloaded: m.base + n, Total: m.total, Resumed: m.resumed})
}
