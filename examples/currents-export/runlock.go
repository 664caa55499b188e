package main

import (
	"errors"
	"fmt"
	"os"
)

// errLocked reports that another run holds the lock.
var errLocked = errors.New("another currents-export run is using this")

// lockRun takes the lock file path for the life of the run. A run locks
// its checkpoint, so that a second run on it stops at once instead of
// exporting the same files, and its output folder's staging, so that a
// run with another checkpoint into the same folder does not remove the
// first's staged batches (see sweepRuns). what names the thing locked in
// the error. The lock is the kernel's, on an open file: it goes with the
// process, however it ends.
func lockRun(path, what string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w %s (%s)", errLocked, what, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f.Close, nil
}
