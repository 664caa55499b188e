package diff

import (
	"errors"
	"fmt"
)

// Errors of the state store, shared by every Store (pebblestore's, a
// server-backed one): every error of a store operation that the operating
// system, the server or the store itself reported should be a *StoreError
// whose Kind is one of these (or ErrCorrupt, ErrScopeLocked), so errors.Is
// tells a full disk from a permission problem from a damaged state
// whichever store is used.
var (
	// ErrStoreIO is matched by every failure of the state store's disk:
	// EIO and other errors of the operating system, and also by ErrDiskFull
	// and ErrPermission, which are I/O failures with a known cause.
	ErrStoreIO = errors.New("diff: state store I/O error")
	// ErrDiskFull is matched when the disk of the state store is full
	// (ENOSPC, EDQUOT). It also matches ErrStoreIO.
	ErrDiskFull = &kindError{msg: "diff: state store disk is full", parent: ErrStoreIO}
	// ErrPermission is matched when the state store's directory or files
	// cannot be read or written by this process (EACCES, EPERM, EROFS). It
	// also matches ErrStoreIO.
	ErrPermission = &kindError{msg: "diff: no permission to use the state store", parent: ErrStoreIO}
	// ErrStateLost is matched when the state store opens but holds less
	// than it durably held before: its files were deleted, truncated or
	// replaced, so an empty or older state would make everything look new
	// (and, in full-snapshot mode, lose removals). It also matches
	// ErrCorrupt. pebblestore.WithResetState accepts the state as it is.
	ErrStateLost = &kindError{msg: "diff: the state store lost data it had durably written", parent: ErrCorrupt}
	// ErrClosed is returned by every store access of an engine after
	// Engine.Close, including the Ack and Commit of plans still open.
	ErrClosed = errors.New("diff: engine is closed")
	// ErrReadOnly is returned by a write to a store opened read-only (see
	// ReadOnlyStore), and by an engine's writes on such a store.
	ErrReadOnly = errors.New("diff: state store is open read-only")
)

// kindError is a sentinel that also matches a broader one, so a full disk
// is an I/O error without its message saying so twice.
type kindError struct {
	msg    string
	parent error
}

func (k *kindError) Error() string { return k.msg }
func (k *kindError) Unwrap() error { return k.parent }

// StoreError reports a failed operation of the state store: what was being
// done (Op), where (Path: the state directory or one of its files, or
// what names a server-backed store's state), the
// class of failure (Kind: ErrStoreIO, ErrDiskFull, ErrPermission,
// ErrCorrupt, ErrStateLost or ErrScopeLocked) and the underlying error,
// which keeps the operating system's errno for errors.Is(err,
// syscall.ENOSPC). Hint, when set, says what to do about it.
type StoreError struct {
	Op   string
	Path string
	Kind error
	Err  error
	Hint string
}

func (e *StoreError) Error() string {
	s := fmt.Sprintf("%v: %s %s", e.Kind, e.Op, e.Path)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap returns the kind and the underlying error, so errors.Is matches
// both.
func (e *StoreError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}
