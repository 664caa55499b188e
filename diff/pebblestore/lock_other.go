//go:build !unix

package pebblestore

import (
	"errors"
	"os"
)

// errWouldBlock is never returned where flock does not exist.
var errWouldBlock = errors.New("lock held")

// flockFile does nothing where flock does not exist: pebble's own lock of
// the directory is then the only one, and the lock-file identity check
// still catches a removed lock file.
func flockFile(*os.File, bool) error { return nil }
