package currents

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
)

// Object is one object (file) found by a Lister.
type Object struct {
	// Key is the object's key: its path relative to the store's root, with
	// forward slashes, as it appears in S3.
	Key string
	// Size is the object's size in bytes, or -1 when the store does not know.
	Size int64
}

// Lister lists the objects of a store. The S3 adapter in package s3source
// and FSStore implement it.
type Lister interface {
	// List yields the objects whose keys start with prefix (a plain string
	// prefix, as in S3: "a/b" matches "a/b/c" and "a/bc"), in ascending
	// byte order of their keys, so that every run over unchanged data sees
	// the same order. An error may be followed by more objects; a Lister
	// that cannot go on stops after yielding it.
	List(ctx context.Context, prefix string) iter.Seq2[Object, error]
}

// Opener opens one object for reading.
type Opener interface {
	// Open returns the object's content. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// DirLister is implemented by stores that can also list one level of the
// key hierarchy, as S3 does with a "/" delimiter. A Source with event type
// or hour filters uses it to skip whole event_type= and date= folders
// instead of listing every key under the prefix, which for a bucket holding
// years of files saves most of the listing requests.
type DirLister interface {
	// ListDir yields what lies directly under prefix: the objects whose
	// keys start with prefix and have no "/" after it, and once each, as an
	// entry with IsDir set, every longer prefix that ends at the next "/"
	// (prefix + "name/"). Entries come in ascending byte order of their
	// keys, so that walking the folders depth-first gives List's order.
	ListDir(ctx context.Context, prefix string) iter.Seq2[DirEntry, error]
}

// DirEntry is an object or a folder listed by a DirLister.
type DirEntry struct {
	// Object is the object, or for a folder its prefix (ending in "/")
	// with Size -1.
	Object
	// IsDir reports a folder.
	IsDir bool
}

// Store is where Currents files are read from: a local directory (FSStore),
// an S3 prefix (package s3source), or anything else that can list and open.
type Store interface {
	Lister
	Opener
}

// FSStore reads Currents files from an fs.FS, such as os.DirFS of a local
// copy of the bucket. Keys are the slash-separated paths inside it.
type FSStore struct {
	fsys fs.FS
}

// NewFSStore returns a Store over fsys.
func NewFSStore(fsys fs.FS) *FSStore { return &FSStore{fsys: fsys} }

// List walks fsys recursively and yields the regular files whose path
// starts with prefix, in ascending byte order of their paths: the same
// order S3 lists the same keys in (a directory "a" sorts as "a/", after
// "a-b"). Directories that cannot match the prefix are not read. An
// unreadable directory is yielded as an error and the walk continues with
// the next entry. Symbolic links to files are followed; a link to a
// directory or a dangling link is yielded as a *FileError matching
// ErrSymlink (see fileSize).
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
// listed.
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
				size, err := s.fileSize(p, en.e)
				if err != nil {
					if !yield(DirEntry{}, err) {
						return
					}
					continue
				}
				if size == skipEntry {
					continue
				}
				e.Size = size
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
		size, err := s.fileSize(p, en.e)
		if err != nil {
			if !yield(Object{}, err) {
				return false
			}
			continue
		}
		if size == skipEntry {
			continue
		}
		if !yield(Object{Key: p, Size: size}, nil) {
			return false
		}
	}
	return true
}

// skipEntry is fileSize's answer for an entry that is neither a file nor a
// link to one (a device, a socket, a pipe).
const skipEntry = -2

// fileSize returns the size of the regular file at p (-1 when unknown), or
// skipEntry. A symbolic link to a regular file is followed: a copy of a
// bucket assembled with links is read like the bucket. A link to a
// directory is not followed (a link can point to an ancestor and make the
// walk endless) and a dangling link leads nowhere: both are reported as a
// *FileError naming the link, and the listing goes on.
func (s *FSStore) fileSize(p string, e fs.DirEntry) (int64, error) {
	if e.Type().IsRegular() {
		if info, err := e.Info(); err == nil {
			return info.Size(), nil
		}
		return -1, nil
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return skipEntry, nil
	}
	info, err := fs.Stat(s.fsys, p)
	switch {
	case err != nil:
		return 0, &FileError{Key: p, Err: fmt.Errorf("%w: %w", ErrSymlink, err)}
	case info.IsDir():
		return 0, &FileError{Key: p, Err: fmt.Errorf("%w: it points to a directory, which is not followed (give that directory itself, or link its files)", ErrSymlink)}
	case !info.Mode().IsRegular():
		return skipEntry, nil
	}
	return info.Size(), nil
}

// ErrSymlink is matched (with errors.Is) by the error FSStore reports for
// a symbolic link it cannot follow: a dangling link or a link to a
// directory.
var ErrSymlink = errors.New("symbolic link not followed")

// Open opens the file at key.
func (s *FSStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !fs.ValidPath(key) {
		return nil, &fs.PathError{Op: "open", Path: key, Err: fs.ErrInvalid}
	}
	return s.fsys.Open(path.Clean(key))
}
