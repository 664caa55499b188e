package diff

import (
	"errors"
	"fmt"
)

var (
	// ErrScopeLocked is returned by Plan when another plan of this process
	// holds the scope, and by Open when another process holds the store.
	ErrScopeLocked = errors.New("diff: scope is locked by another writer")
	// ErrUnsupportedVersion is returned when a state store was written by a
	// version of this package whose format this version cannot read.
	ErrUnsupportedVersion = errors.New("diff: unsupported state format version")
	// ErrCorrupt is returned when the state store fails its integrity checks.
	ErrCorrupt = errors.New("diff: state store is corrupted")
	// ErrPlanClosed is returned by a plan used after Commit or Close.
	ErrPlanClosed = errors.New("diff: plan is closed")
	// ErrDuplicateKey is matched by a DuplicateKeyError.
	ErrDuplicateKey = errors.New("diff: duplicate key in input")
	// ErrIncompleteSnapshot is yielded at the end of a full-snapshot plan
	// whose input reported errors it could not attribute to a key: removals
	// of vanished keys are then skipped, because the key may have been in the
	// unreadable part of the input.
	ErrIncompleteSnapshot = errors.New("diff: input had unreadable records; removals of vanished keys skipped")
)

// RecordError reports a record that could not be planned: an unsupported
// value, a duplicate attribute name or an empty key. The plan yields it and
// continues with the next record; the key is not treated as vanished.
type RecordError struct {
	Index int64  // 0-based position of the record in the input
	Key   string // the record's key
	Attr  string // the attribute at fault, if any
	Err   error
}

func (e *RecordError) Error() string {
	if e.Attr != "" {
		return fmt.Sprintf("diff: record %d (key %q) attribute %q: %v", e.Index, e.Key, e.Attr, e.Err)
	}
	return fmt.Sprintf("diff: record %d (key %q): %v", e.Index, e.Key, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// DuplicateKeyError reports a key seen more than once in one input.
type DuplicateKeyError struct {
	Key   string
	Index int64 // position of the later record
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("diff: duplicate key %q at record %d", e.Key, e.Index)
}

func (e *DuplicateKeyError) Is(target error) bool { return target == ErrDuplicateKey }

// UnsupportedValueError reports a Go value outside the value model.
type UnsupportedValueError struct {
	Type string
}

func (e *UnsupportedValueError) Error() string {
	return fmt.Sprintf("unsupported value type %s", e.Type)
}

// VersionError reports a state store written in a format this version of
// the package does not read.
type VersionError struct {
	Found, Supported string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("diff: state store has format %q, this version reads only %q; use the matching version of the package or start from an empty store", e.Found, e.Supported)
}

func (e *VersionError) Is(target error) bool { return target == ErrUnsupportedVersion }

// NotApplied is implemented by send errors that know whether the
// destination applied the change. Ack keeps the state exactly as it was
// for an error whose NotApplied reports true (the destination rejected the
// object, or the request failed before it could be processed), instead of
// marking what the change carried as unknown. The braze package's
// rejection errors implement it; diff does not import braze.
type NotApplied interface {
	NotApplied() bool
}

// notApplied reports whether err, or an error it wraps, says the change
// was certainly not applied.
func notApplied(err error) bool {
	var na NotApplied
	return errors.As(err, &na) && na.NotApplied()
}
