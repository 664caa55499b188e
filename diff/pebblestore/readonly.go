package pebblestore

import (
	"errors"
	"io"
	"os"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// readOnlyFS is the file system of a read-only store: every operation
// that would create, change or remove a file fails, so a dry run changes
// no file of the state even if pebble tried (pebble's read-only mode alone
// still creates its LOCK file). When the store holds its own lock of the
// directory, or pebble's LOCK file does not exist, pebble's lock is not
// taken at all.
type readOnlyFS struct {
	vfs.FS
	locked bool
}

func (fs readOnlyFS) denied(op, name string) error {
	return &os.PathError{Op: op, Path: name, Err: diff.ErrReadOnly}
}

func (fs readOnlyFS) Create(name string, _ vfs.DiskWriteCategory) (vfs.File, error) {
	return nil, fs.denied("create", name)
}

func (fs readOnlyFS) Link(oldname, newname string) error { return fs.denied("link", newname) }

func (fs readOnlyFS) OpenReadWrite(name string, _ vfs.DiskWriteCategory, _ ...vfs.OpenOption) (vfs.File, error) {
	return nil, fs.denied("open for writing", name)
}

func (fs readOnlyFS) Remove(name string) error    { return fs.denied("remove", name) }
func (fs readOnlyFS) RemoveAll(name string) error { return fs.denied("remove", name) }
func (fs readOnlyFS) Rename(oldname, newname string) error {
	return fs.denied("rename", oldname)
}

func (fs readOnlyFS) ReuseForWrite(oldname, newname string, _ vfs.DiskWriteCategory) (vfs.File, error) {
	return nil, fs.denied("reuse", oldname)
}

func (fs readOnlyFS) MkdirAll(dir string, _ os.FileMode) error { return fs.denied("mkdir", dir) }

func (fs readOnlyFS) Lock(name string) (io.Closer, error) {
	if fs.locked {
		return nopCloser{}, nil
	}
	if _, err := fs.FS.Stat(name); errors.Is(err, os.ErrNotExist) {
		// No LOCK file: no writer has held this directory, and taking
		// pebble's lock would create the file.
		return nopCloser{}, nil
	}
	return fs.FS.Lock(name)
}

func (fs readOnlyFS) Unwrap() vfs.FS { return fs.FS }

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
