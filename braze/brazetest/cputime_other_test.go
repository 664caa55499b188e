//go:build !unix

package brazetest

import "time"

// processCPU is not available here; the per-CPU-second metric is omitted.
func processCPU() time.Duration { return 0 }
