//go:build unix

package braze

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used. On a
// shared, loaded machine it is a steadier measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
