package pebblestore

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/ampbraze/ampbraze/diff"
)

// lockFileName is the store's own lock file. Unlike pebble's LOCK, which
// pebble re-creates at every Open, this file is created once and never
// deleted or replaced by this package: the lock held on it is the one lock
// of the directory, and a lock file that no longer is the one locked means
// someone removed it, so a second writer may have got in.
const lockFileName = "ampbraze.lock"

// dirLock is an exclusive (or, read-only, shared) lock of a state
// directory, held on lockFileName for the life of a store.
type dirLock struct {
	path string
	f    *os.File
	fi   os.FileInfo // identity of the locked file
}

// lockDir takes the lock of dir, creating the lock file if it does not
// exist (unless readOnly: a read-only open creates nothing, and returns a
// nil lock when there is no lock file to take). Another holder makes it
// fail with diff.ErrScopeLocked.
func lockDir(dir string, readOnly bool) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	flag := os.O_RDWR | os.O_CREATE
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		if readOnly && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, storeErr("open the lock file", path, err)
	}
	if err := flockFile(f, !readOnly); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &diff.StoreError{Op: "lock", Path: dir, Kind: diff.ErrScopeLocked, Err: errors.New("held by another process or engine"), Hint: hintLocked}
		}
		return nil, storeErr("lock", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, storeErr("stat the lock file", path, err)
	}
	return &dirLock{path: path, f: f, fi: fi}, nil
}

// check fails with diff.ErrScopeLocked when the lock file's path no longer
// names the file locked: it was deleted or replaced, and another process
// may have locked the new one and be writing the same state.
func (l *dirLock) check() error {
	if l == nil {
		return nil
	}
	fi, err := os.Stat(l.path)
	if err == nil && os.SameFile(fi, l.fi) {
		return nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return storeErr("check the lock file", l.path, err)
	}
	return &diff.StoreError{Op: "check the lock", Path: l.path, Kind: diff.ErrScopeLocked,
		Err:  errors.New("lock file removed: another writer may be running"),
		Hint: "nothing more is written; stop every other process using this state directory and run again"}
}

func (l *dirLock) release() error {
	if l == nil {
		return nil
	}
	return l.f.Close() // closing the descriptor releases the lock
}
