package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"

	"github.com/local-llm-bench/llmbench/nvml"
)

// render writes one table of snaps to w: a row per GPU with its memory, its compute processes
// (only pid's when pid is not 0) and its power.
func render(w io.Writer, snaps []nvml.Snapshot, pid int) error {
	t := tablewriter.NewTable(w)
	t.Header("GPU", "Name", "Memory", "Processes", "Power")
	for _, s := range snaps {
		err := t.Append(
			fmt.Sprint(s.Index),
			s.Name,
			fmt.Sprintf("%d / %d MiB", s.UsedBytes>>20, s.TotalBytes>>20),
			processes(s, pid),
			power(s),
		)
		if err != nil {
			return err
		}
	}
	return t.Render()
}

// processes lists the processes of s, one a line.
func processes(s nvml.Snapshot, pid int) string {
	if !s.ProcessesKnown {
		return "n/a"
	}
	var lines []string
	for _, p := range s.Processes {
		switch {
		case pid != 0 && p.PID != pid:
		case p.UsedKnown:
			lines = append(lines, fmt.Sprintf("%d: %d MiB", p.PID, p.UsedBytes>>20))
		default:
			lines = append(lines, fmt.Sprintf("%d: n/a", p.PID))
		}
	}
	if len(lines) == 0 {
		return "-"
	}
	return strings.Join(lines, "\n")
}

// power formats the power draw of s.
func power(s nvml.Snapshot) string {
	if !s.PowerKnown {
		return "n/a"
	}
	return fmt.Sprintf("%.0f W", s.PowerW)
}
