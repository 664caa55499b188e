package pgclaim

import (
	"errors"
	"fmt"
)

// ErrLeaseLost is matched (with errors.Is) by Commit's error when some of
// its keys are no longer claimed by this worker: its lease ran out and
// another worker claimed them, or they were released. Nothing was
// committed; the keys are another worker's to process.
var ErrLeaseLost = errors.New("pgclaim: claim lost")

// ErrVersion is matched by Open's error for tables written by another
// format version of this package.
var ErrVersion = errors.New("pgclaim: unsupported format version")

// ErrClosed is returned by calls on closed Claims.
var ErrClosed = errors.New("pgclaim: closed")

// LeaseLostError lists the keys Commit found no longer claimed by this
// worker. It matches ErrLeaseLost.
type LeaseLostError struct {
	// Owner is this worker.
	Owner string
	// Keys are the keys not claimed by Owner.
	Keys []string
}

func (e *LeaseLostError) Error() string {
	return fmt.Sprintf("pgclaim: %d key(s) no longer claimed by %s (lease expired and taken over, or released), first %q", len(e.Keys), e.Owner, e.Keys[0])
}

// Is reports ErrLeaseLost.
func (e *LeaseLostError) Is(target error) bool { return target == ErrLeaseLost }

// VersionError reports tables of another format version. It matches
// ErrVersion.
type VersionError struct {
	// Table is the schema-qualified meta table.
	Table string
	// Found is the version found ("" for none).
	Found string
	// Supported is the version this package writes.
	Supported string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("pgclaim: %s holds format version %q; this program reads %q", e.Table, e.Found, e.Supported)
}

// Is reports ErrVersion.
func (e *VersionError) Is(target error) bool { return target == ErrVersion }
