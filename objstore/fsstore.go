package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"path"
	"slices"
	"strings"
	"syscall"
)

// FSStore is a Store over an fs.FS, such as os.DirFS of a local folder or
// of a local copy of a bucket. Keys are the slash-separated paths inside
// it, and listings come in the order S3 would list the same keys. It is
// safe for concurrent use if fsys is (os.DirFS is).
type FSStore struct {
	fsys fs.FS
}

var (
	_ Store     = (*FSStore)(nil)
	_ DirLister = (*FSStore)(nil)
)

// NewFSStore returns a Store over fsys.
func NewFSStore(fsys fs.FS) *FSStore { return &FSStore{fsys: fsys} }

// List walks fsys recursively and yields the regular files whose path
// starts with prefix, in ascending byte order of their paths: the same
// order S3 lists the same keys in (a directory "a" sorts as "a/", after
// "a-b"). Directories that cannot match the prefix are not read. An
// unreadable directory is yielded as an error and the walk continues with
// the next entry. Symbolic links to files are followed; a link to a
// directory or a dangling link is yielded as an *ObjectError matching
// ErrSymlink (see fileInfo). Each Object carries the file's size and
// modification time.
func (s *FSStore) List(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		s.walk(ctx, ".", prefix, yield)
	}
}

type sortedEntry struct {
	sortKey string // the name, plus "/" for a directory
	e       fs.DirEntry
}

// readDirSorted reads dir in the byte order of the keys below it.
func (s *FSStore) readDirSorted(dir string) ([]sortedEntry, error) {
	entries, err := fs.ReadDir(s.fsys, dir)
	if err != nil {
		return nil, err
	}
	sorted := make([]sortedEntry, 0, len(entries))
	for _, e := range entries {
		k := e.Name()
		if e.IsDir() {
			k += "/"
		}
		sorted = append(sorted, sortedEntry{k, e})
	}
	slices.SortFunc(sorted, func(a, b sortedEntry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return sorted, nil
}

// ListDir yields the files and directories directly under prefix, in
// ascending byte order (a directory as its path plus "/"). Only regular
// files (or symbolic links to them, as in List) and directories are
// listed; a file carries its size and modification time, a directory
// neither (Size -1, zero ModTime), as an S3 common prefix.
func (s *FSStore) ListDir(ctx context.Context, prefix string) iter.Seq2[DirEntry, error] {
	return func(yield func(DirEntry, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(DirEntry{}, err)
			return
		}
		dir := "."
		if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
			dir = prefix[:i]
		}
		sorted, err := s.readDirSorted(dir)
		if err != nil {
			// Like S3, a prefix that names no folder (nothing there, or a
			// file) has nothing under it; other failures are reported.
			if info, serr := fs.Stat(s.fsys, dir); errors.Is(serr, fs.ErrNotExist) || errors.Is(serr, fs.ErrInvalid) ||
				(serr == nil && !info.IsDir()) {
				return
			}
			yield(DirEntry{}, err)
			return
		}
		for _, en := range sorted {
			p := en.sortKey
			if dir != "." {
				p = dir + "/" + p
			}
			if !strings.HasPrefix(p, prefix) {
				continue
			}
			e := DirEntry{Object: Object{Key: p, Size: -1}, IsDir: en.e.IsDir()}
			if !e.IsDir {
				obj, skip, err := s.fileInfo(p, en.e)
				if err != nil {
					if !yield(DirEntry{}, err) {
						return
					}
					continue
				}
				if skip {
					continue
				}
				e.Object = obj
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// walk lists dir (a valid fs path, "." for the root); it returns false when
// the consumer stopped.
func (s *FSStore) walk(ctx context.Context, dir, prefix string, yield func(Object, error) bool) bool {
	if err := ctx.Err(); err != nil {
		yield(Object{}, err)
		return false
	}
	sorted, err := s.readDirSorted(dir)
	if err != nil {
		return yield(Object{}, err)
	}
	for _, en := range sorted {
		p := en.e.Name()
		if dir != "." {
			p = dir + "/" + p
		}
		if en.e.IsDir() {
			// Descend only if a key below can still carry the prefix.
			d := p + "/"
			if !strings.HasPrefix(d, prefix) && !strings.HasPrefix(prefix, d) {
				continue
			}
			if !s.walk(ctx, p, prefix, yield) {
				return false
			}
			continue
		}
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		obj, skip, err := s.fileInfo(p, en.e)
		if err != nil {
			if !yield(Object{}, err) {
				return false
			}
			continue
		}
		if skip {
			continue
		}
		if !yield(obj, nil) {
			return false
		}
	}
	return true
}

// fileInfo returns the regular file at p as an Object, or skip for an
// entry that is neither a file nor a link to one (a device, a socket, a
// pipe). A symbolic link to a regular file is followed (its target's size
// and time): a copy of a bucket assembled with links is read like the
// bucket. A link to a directory is not followed (a link can point to an
// ancestor and make the walk endless) and a dangling link leads nowhere:
// both are reported as an *ObjectError naming the link, and the listing
// goes on.
func (s *FSStore) fileInfo(p string, e fs.DirEntry) (obj Object, skip bool, err error) {
	obj = Object{Key: p, Size: -1}
	if e.Type().IsRegular() {
		if info, err := e.Info(); err == nil {
			obj.Size, obj.ModTime = info.Size(), info.ModTime()
		}
		return obj, false, nil
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return Object{}, true, nil
	}
	info, err := fs.Stat(s.fsys, p)
	switch {
	case err != nil:
		return Object{}, false, &ObjectError{Key: p, Err: fmt.Errorf("%w: %w", ErrSymlink, err)}
	case info.IsDir():
		return Object{}, false, &ObjectError{Key: p, Err: fmt.Errorf("%w: it points to a directory, which is not followed (give that directory itself, or link its files)", ErrSymlink)}
	case !info.Mode().IsRegular():
		return Object{}, true, nil
	}
	obj.Size, obj.ModTime = info.Size(), info.ModTime()
	return obj, false, nil
}

// Open opens the file at key. A missing file is an error matching
// fs.ErrNotExist, as in a bucket: so is a directory (a folder, not an
// object) and a key below a file ("a/x/y" where "a/x" is a file), which
// the operating system reports as "not a directory".
func (s *FSStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !fs.ValidPath(key) {
		return nil, &fs.PathError{Op: "open", Path: key, Err: fs.ErrInvalid}
	}
	f, err := s.fsys.Open(path.Clean(key))
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, fs.ErrNotExist) {
			return nil, &fs.PathError{Op: "open", Path: key, Err: fmt.Errorf("%w: a parent is a file (%w)", fs.ErrNotExist, syscall.ENOTDIR)}
		}
		return nil, err
	}
	if info, err := f.Stat(); err == nil && info.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: key, Err: fmt.Errorf("%w: it is a directory, not a file", fs.ErrNotExist)}
	}
	return f, nil
}
