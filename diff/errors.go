package diff

import (
	"errors"
	"fmt"
)

var (
	// ErrScopeLocked is returned by Plan when another plan of this process
	// holds the scope, and by a store's open (pebblestore.Open) when
	// another process holds the store.
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
	// ErrIncompleteSnapshot is matched by Summary.RemovalsSkipped when a
	// full-snapshot plan planned no removals because its input was not
	// known to be complete: it reported errors it could not attribute to
	// a key, or its last item was an error (the key of a user who left
	// may have been in the unreadable part).
	ErrIncompleteSnapshot = errors.New("diff: input may be incomplete; removals of vanished keys skipped")
	// ErrInputEnded is matched by Plan.Err when the input ended early: an
	// input error with Fatal() true (see Fatal), or the plan's context
	// cancelled while the input was read. Such a plan plans no removals.
	ErrInputEnded = errors.New("diff: the input ended early")
	// ErrLimitExceeded is matched by a *LimitError.
	ErrLimitExceeded = errors.New("diff: plan exceeds a limit")
	// ErrEmptySnapshot is returned by Plan.Err when a FullSnapshot input
	// had no record while the scope holds keys (see WithAllowEmptySnapshot).
	ErrEmptySnapshot = errors.New("diff: the full snapshot is empty")
)

// Fatal is implemented by input errors after which the input yields
// nothing more (an unreadable file, a truncated stream). A plan whose input
// yields such an error stops reading, plans no removals, yields nothing
// more, and reports the error from Err and Commit (matching
// ErrInputEnded). Any other input error is one bad record: it is yielded
// by Changes and planning goes on.
type Fatal interface {
	Fatal() bool
}

// Rejection is implemented by send errors that say the destination
// refused the values themselves (an invalid value, an object Braze
// rejected): resending the same values fails again. Ack remembers the
// values of a change rejected that way, and the plans that follow do not
// send them again until the input changes them (see WithResendRejected).
// The braze package's *ItemError and *ValidationError implement it.
type Rejection interface {
	Rejected() bool
}

// LimitError reports a plan that would change or remove more stored keys
// than its limit allows (see WithMaxRemovals and WithMaxChanges). Nothing
// of such a plan was yielded.
type LimitError struct {
	What   string // "removals" or "changes"
	Count  int64  // keys the plan would remove (removals) or change or remove (changes); at least Max+1
	Max    int64  // the limit as a count of keys
	Limit  Limit  // the limit as given
	Stored int64  // keys the scope held when the plan began
	// Final is true when Count is the plan's full count, false when the
	// plan stopped counting as soon as it went over the limit.
	Final bool
}

func (e *LimitError) Error() string {
	more := ""
	if !e.Final {
		more = " at least"
	}
	verb := "change or remove"
	if e.What == "removals" {
		verb = "remove"
	}
	pct := 0.0
	if e.Stored > 0 {
		pct = 100 * float64(e.Count) / float64(e.Stored)
	}
	return fmt.Sprintf("diff: the plan would %s%s %d of the %d stored keys (%.1f%%), over the limit of %d (%s): nothing was sent; if this is intended, raise the limit of %s", verb, more, e.Count, e.Stored, pct, e.Max, e.Limit, e.What)
}

// Is reports whether target is ErrLimitExceeded.
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

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

// DuplicateKeyError reports a key seen more than once in one input. The
// first record of the key is planned; every later one is yielded as this
// error and not planned, so one deterministic record wins and a second
// run over the same input plans nothing for the key.
type DuplicateKeyError struct {
	Key   string
	Index int64 // position of the later record
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("diff: duplicate key %q at record %d: an earlier record of the input has the same key; the first one is used", e.Key, e.Index)
}

// Is reports whether target is ErrDuplicateKey.
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

// isFatal reports whether an input error ends the input (see Fatal).
func isFatal(err error) bool {
	var f Fatal
	return errors.As(err, &f) && f.Fatal()
}

// rejected reports whether a send error says the values were refused
// (see Rejection).
func rejected(err error) bool {
	var r Rejection
	return errors.As(err, &r) && r.Rejected()
}

// notApplied reports whether err, or an error it wraps, says the change
// was certainly not applied.
func notApplied(err error) bool {
	var na NotApplied
	return errors.As(err, &na) && na.NotApplied()
}
