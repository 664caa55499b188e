package diff

import (
	"errors"
	"fmt"
	"syscall"
)

// Errors of the state store. Every error of a store operation that the
// operating system or the store itself reported is a *StoreError whose Kind
// is one of these (or ErrCorrupt, ErrScopeLocked), so errors.Is tells a
// full disk from a permission problem from a damaged state.
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
	// ErrCorrupt. Open with WithResetState accepts the state as it is.
	ErrStateLost = &kindError{msg: "diff: the state store lost data it had durably written", parent: ErrCorrupt}
	// ErrClosed is returned by every store access of an engine after
	// Engine.Close, including the Ack and Commit of plans still open.
	ErrClosed = errors.New("diff: engine is closed")
	// ErrReadOnly is returned by a write to the state of an engine opened
	// with ReadOnly.
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
// done (Op), where (Path: the state directory or one of its files), the
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

// Hints appended to store errors: what the operator can do.
const (
	hintCorrupt = "the state is damaged: restore the directory from a backup, or move it aside to start from an empty state (every value is then sent again, and removals of users gone since are not sent)"
	hintLost    = "if the loss is known and accepted, open with the reset option (diff.WithResetState, -reset-state) to continue from the state as it is now; otherwise restore the directory from a backup"
	hintFull    = "free space on that filesystem, then run again (acknowledgements not yet committed are planned again)"
	hintPerm    = "make the directory and its files readable and writable by this user"
	hintLocked  = "wait for it to end, or stop it"
)

// errnoKind classifies an operating-system error, or returns nil when err
// carries no errno this package names.
func errnoKind(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return ErrDiskFull
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS):
		return ErrPermission
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return ErrStoreIO
	}
	return nil
}

// storeErr builds the StoreError of a failed operation, classifying err by
// its errno. Errors already classified are returned as they are.
func storeErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var se *StoreError
	if errors.As(err, &se) || errors.Is(err, ErrClosed) || errors.Is(err, ErrReadOnly) {
		return err
	}
	kind := errnoKind(err)
	if kind == nil {
		kind = ErrStoreIO
	}
	return &StoreError{Op: op, Path: path, Kind: kind, Err: err, Hint: hintFor(kind)}
}

func hintFor(kind error) string {
	switch kind {
	case ErrDiskFull:
		return hintFull
	case ErrPermission:
		return hintPerm
	case ErrCorrupt:
		return hintCorrupt
	case ErrStateLost:
		return hintLost
	case ErrScopeLocked:
		return hintLocked
	}
	return ""
}
