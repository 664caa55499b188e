//go:build !unix

package amperity

import "time"

// cpuTime is not measured here (no getrusage): the CPU figures read 0.
func cpuTime() time.Duration { return 0 }
