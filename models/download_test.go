package models

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in          string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/1000", 100, 1000, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */1000", -1, 1000, true},
		{"bytes 100-199", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"bytes x-1/3", 0, 0, false},
		{"bytes 1-2/y", 0, 0, false},
		{"bytes 12/13", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			start, size, ok := parseContentRange(tt.in)
			assert.Equal(t, tt.ok, ok)
			if ok {
				assert.Equal(t, tt.start, start)
				assert.Equal(t, tt.size, size)
			}
		})
	}
}

func TestMeterThrottles(t *testing.T) {
	var got []Progress
	at := time.Unix(1_700_000_000, 0)
	m := &meter{fn: func(p Progress) { got = append(got, p) }, base: 10, total: 1000,
		now: func() time.Time { return at }}
	step := func(d time.Duration, n int64, force bool) {
		at = at.Add(d)
		m.report(n, force)
	}
	step(0, 0, true)                      // the first report of a file: forced
	step(0, 1, false)                     // at once after it: held back
	step(progressInterval-1, 2, false)    // a nanosecond short of the interval: held back
	step(1, 3, false)                     // the interval since the last report: let through
	step(progressInterval/2, 4, false)    // held back
	step(progressInterval/2, 5, false)    // the interval since the last report again
	step(3*progressInterval, 6, false)    // any time later
	step(0, 990, true)                    // the last report: forced, however soon
	step(progressInterval/10, 991, false) // a forced report restarts the interval
	assert.Equal(t, []Progress{
		{Downloaded: 10, Total: 1000},
		{Downloaded: 13, Total: 1000},
		{Downloaded: 15, Total: 1000},
		{Downloaded: 16, Total: 1000},
		{Downloaded: 1000, Total: 1000},
	}, got)

	(&meter{}).report(1, true) // no callback: nothing to do
}
