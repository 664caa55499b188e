package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// Object is one object (file) found by a Lister.
type Object struct {
	// Key is the object's key: its path relative to the store's root, with
	// forward slashes, as it appears in the bucket.
	Key string
	// Size is the object's size in bytes, or -1 when the store does not know.
	Size int64
	// ModTime is when the object was last written, as the store reports it
	// (S3's LastModified, GCS's Updated, Azure's Last-Modified, a file's
	// modification time); the zero time when the store does not say.
	ModTime time.Time
}

// Lister lists the objects of a store.
type Lister interface {
	// List yields the objects whose keys start with prefix (a plain string
	// prefix, as in S3: "a/b" matches "a/b/c" and "a/bc"), in ascending
	// byte order of their keys, so that every run over unchanged data sees
	// the same order. An error may be followed by more objects; a Lister
	// that cannot go on stops after yielding it. An error about one object
	// only (such as a dangling link) is an *ObjectError, and the listing
	// goes on after it.
	List(ctx context.Context, prefix string) iter.Seq2[Object, error]
}

// Opener opens one object for reading.
type Opener interface {
	// Open returns the object's content. The caller closes it. A missing
	// object is an error matching fs.ErrNotExist.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// DirLister is implemented by stores that can also list one level of the
// key hierarchy, as S3 does with a "/" delimiter. A reader with filters on
// the folder names uses it to skip whole folders instead of listing every
// key under the prefix, which for a bucket holding years of files saves
// most of the listing requests.
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

// Store is where objects are read from: a local directory (FSStore), an S3,
// GCS or Azure Blob prefix (the subpackages), or anything else that can
// list and open.
type Store interface {
	Lister
	Opener
}

// ObjectError reports a failure that concerns one object of a listing (a
// dangling link, a link to a directory): that object is not listed, and
// the listing goes on.
type ObjectError struct {
	// Key is the object's key.
	Key string
	// Err is what went wrong.
	Err error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("%s: %v", e.Key, e.Err) }

// Unwrap returns Err.
func (e *ObjectError) Unwrap() error { return e.Err }

// ErrSymlink is matched (with errors.Is) by the error FSStore reports for a
// symbolic link it cannot follow: a dangling link or a link to a directory.
var ErrSymlink = errors.New("symbolic link not followed")
