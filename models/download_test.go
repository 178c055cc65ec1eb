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
	m := &meter{fn: func(p Progress) { got = append(got, p) }, base: 10, total: 1000}
	m.report(0, true)
	for i := range 1000 {
		m.report(int64(i), false)
	}
	m.report(990, true)
	assert.LessOrEqual(t, len(got), 4, "a fast loop reports about ten times a second")
	assert.Equal(t, Progress{Downloaded: 1000, Total: 1000}, got[len(got)-1])

	time.Sleep(progressInterval)
	m.report(500, false)
	assert.Equal(t, int64(510), got[len(got)-1].Downloaded, "reports again after the interval")

	(&meter{}).report(1, true) // no callback: nothing to do
}
