//go:build unix

package pebblestore

import (
	"os"
	"syscall"
)

// errWouldBlock is what flock reports when another holder has the lock.
var errWouldBlock = syscall.EWOULDBLOCK

// flockFile takes a non-blocking flock of f, exclusive or shared. A flock
// belongs to the open file description, so a second Open in the same
// process conflicts just as another process does.
func flockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}
