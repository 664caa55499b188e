package main

import (
	"errors"
	"fmt"
	"os"
)

// errLocked reports that another run holds the lock.
var errLocked = errors.New("another currents-export run is using this checkpoint")

// lockRun takes the lock file path beside the checkpoint for the life of
// the run, so that a second run on the same checkpoint stops at once
// instead of exporting the same files and removing the first's staged
// batches (see sweepRuns). The lock is the kernel's, on an open file: it
// goes with the process, however it ends.
func lockRun(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w (%s)", errLocked, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f.Close, nil
}
