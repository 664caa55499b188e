//go:build unix

package cputime

import "testing"

// Process counts CPU time the process spends.
func TestProcessCounts(t *testing.T) {
	before := Process()
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	if after := Process(); after <= before || x == 0 {
		t.Errorf("Process went from %v to %v over a busy loop", before, after)
	}
}
