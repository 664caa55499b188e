package pebblestore

import (
	"errors"
	"syscall"

	"github.com/ampbraze/ampbraze/diff"
)

// Hints appended to store errors: what the operator can do.
const (
	hintCorrupt = "the state is damaged: restore the directory from a backup, or move it aside to start from an empty state (every value is then sent again, and removals of users gone since are not sent)"
	hintLost    = "if the loss is known and accepted, open with the reset option (pebblestore.WithResetState, -reset-state) to continue from the state as it is now; otherwise restore the directory from a backup"
	hintFull    = "free space on that filesystem, then run again (acknowledgements not yet committed are planned again)"
	hintPerm    = "make the directory and its files readable and writable by this user"
	hintLocked  = "wait for it to end, or stop it"
)

// errnoKind classifies an operating-system error, or returns nil when err
// carries no errno diff names.
func errnoKind(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return diff.ErrDiskFull
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS):
		return diff.ErrPermission
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return diff.ErrStoreIO
	}
	return nil
}

// storeErr builds the StoreError of a failed operation, classifying err by
// its errno. Errors already classified are returned as they are.
func storeErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var se *diff.StoreError
	if errors.As(err, &se) || errors.Is(err, diff.ErrClosed) || errors.Is(err, diff.ErrReadOnly) {
		return err
	}
	kind := errnoKind(err)
	if kind == nil {
		kind = diff.ErrStoreIO
	}
	return &diff.StoreError{Op: op, Path: path, Kind: kind, Err: err, Hint: hintFor(kind)}
}

func hintFor(kind error) string {
	switch kind {
	case diff.ErrDiskFull:
		return hintFull
	case diff.ErrPermission:
		return hintPerm
	case diff.ErrCorrupt:
		return hintCorrupt
	case diff.ErrStateLost:
		return hintLost
	case diff.ErrScopeLocked:
		return hintLocked
	}
	return ""
}
