//go:build unix

package currents_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user+system) the test process has
// used. On a shared, loaded machine it is a steadier measure than wall
// time, since waiting for a core is not counted.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
