package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/internal/dirmerge"
)

// Store lists and opens the objects of one GCS bucket. Keys are full object
// names in the bucket. It implements objstore.Store and objstore.DirLister,
// so a currents.Source can walk it and skip the folders its filters
// exclude. It is safe for concurrent use.
type Store struct {
	client     *storage.Client
	bucket     *storage.BucketHandle
	name       string
	pageSize   int
	clientOpts []option.ClientOption
	ownsClient bool
}

var (
	_ objstore.Store     = (*Store)(nil)
	_ objstore.DirLister = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithPageSize sets how many entries each list request asks for, from 1 to
// 1000 (GCS's maximum and the default). Values out of range are clamped.
func WithPageSize(n int) Option {
	return func(s *Store) { s.pageSize = min(max(n, 1), 1000) }
}

// New returns a Store over bucket, using client. The caller keeps
// ownership of client: Close does not close it.
func New(client *storage.Client, bucket string, opts ...Option) *Store {
	s := &Store{client: client, bucket: client.Bucket(bucket), name: bucket, pageSize: 1000}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.name }

// URL returns the gs:// URL of key, for messages.
func (s *Store) URL(key string) string { return "gs://" + s.name + "/" + key }

// Close closes the client if OpenURL made it; a Store made by New leaves
// its client to the caller.
func (s *Store) Close() error {
	if s.ownsClient {
		return s.client.Close()
	}
	return nil
}

// attrs are the only object fields a listing needs; asking for them alone
// keeps each page's response small (GCS sends some thirty fields by
// default).
var attrs = []string{"Name", "Size", "Updated"}

func (s *Store) query(prefix, delim string) *storage.Query {
	q := &storage.Query{Prefix: prefix, Delimiter: delim}
	// The names are valid attributes, so this cannot fail.
	_ = q.SetAttrSelection(attrs)
	return q
}

// object converts a listed object. Updated is when the object's current
// version was written (or its metadata last changed), the closest GCS has
// to a file's modification time.
func object(a *storage.ObjectAttrs) objstore.Object {
	return objstore.Object{Key: a.Name, Size: a.Size, ModTime: a.Updated}
}

// List yields the objects whose keys start with prefix, in ascending byte
// order of their names (GCS lists in that order), following the list
// pages. Folder markers (empty objects whose names end in "/") are left
// out: they are not files. A failed request, after the client's own
// retries, is yielded as an error naming the bucket and prefix, and ends
// the listing.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		pager := iterator.NewPager(s.bucket.Objects(ctx, s.query(prefix, "")), s.pageSize, "")
		for {
			var page []*storage.ObjectAttrs
			next, err := pager.NextPage(&page)
			if err != nil {
				yield(objstore.Object{}, s.listError(prefix, err))
				return
			}
			for _, a := range page {
				if dirmerge.IsFolderMarker(a.Name, a.Size) {
					continue
				}
				if !yield(object(a), nil) {
					return
				}
			}
			if next == "" {
				return
			}
		}
	}
}

// ListDir yields the objects and the folders (prefixes up to the next "/")
// directly under prefix, merged into ascending byte order, following the
// list pages. currents.Source uses it to skip the event_type= and date=
// folders its filters exclude. The folder's own marker object (named
// prefix, empty) is left out.
func (s *Store) ListDir(ctx context.Context, prefix string) iter.Seq2[objstore.DirEntry, error] {
	return func(yield func(objstore.DirEntry, error) bool) {
		pager := iterator.NewPager(s.bucket.Objects(ctx, s.query(prefix, "/")), s.pageSize, "")
		var m dirmerge.Merger
		for {
			var page []*storage.ObjectAttrs
			next, err := pager.NextPage(&page)
			if err != nil {
				yield(objstore.DirEntry{}, s.listError(prefix, err))
				return
			}
			// The client puts a page's objects first, then its prefixes
			// as attributes with only Prefix set.
			var objs []objstore.Object
			var dirs []string
			for _, a := range page {
				switch {
				case a.Prefix != "":
					dirs = append(dirs, a.Prefix)
				case !dirmerge.IsFolderMarker(a.Name, a.Size):
					objs = append(objs, object(a))
				}
			}
			if !m.Page(objs, dirs, next == "", yield) || next == "" {
				return
			}
		}
	}
}

func (s *Store) listError(prefix string, err error) error {
	return fmt.Errorf("gcsstore: listing gs://%s/%s: %w", s.name, prefix, err)
}

// Open starts reading the object and returns its content, which streams
// from GCS as it is read; the caller closes it. ctx bounds the whole read,
// not just the request. A missing object (or bucket) gives an error that
// matches both fs.ErrNotExist and storage.ErrObjectNotExist.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := s.bucket.Object(key).NewReader(ctx)
	if err != nil {
		if errors.Is(err, storage.ErrObjectNotExist) || errors.Is(err, storage.ErrBucketNotExist) {
			return nil, fmt.Errorf("gcsstore: reading %s: %w (%w)", s.URL(key), fs.ErrNotExist, err)
		}
		return nil, fmt.Errorf("gcsstore: reading %s: %w", s.URL(key), err)
	}
	return r, nil
}
