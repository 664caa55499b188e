package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ampbraze/ampbraze/objstore"
)

// API is the part of the S3 client that Store uses; *s3.Client implements
// it. It is an interface so that callers can wrap the client (metrics,
// per-call options), not so that tests can fake S3: this package's tests
// run against an S3-protocol server.
type API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Store lists and opens the objects of one S3 bucket. It implements
// objstore.Store and objstore.DirLister, so a currents.Source or an
// example program's input can walk it. It is safe for
// concurrent use if the API is (*s3.Client is).
type Store struct {
	api      API
	bucket   string
	pageSize int32
}

var (
	_ objstore.Store     = (*Store)(nil)
	_ objstore.DirLister = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithPageSize sets how many keys each ListObjectsV2 request asks for, from
// 1 to 1000 (S3's maximum and the default). Values out of range are
// clamped.
func WithPageSize(n int) Option {
	return func(s *Store) { s.pageSize = int32(min(max(n, 1), 1000)) }
}

// New returns a Store over bucket, using api (usually an *s3.Client; for
// S3-compatible servers configure its BaseEndpoint and UsePathStyle).
func New(api API, bucket string, opts ...Option) *Store {
	s := &Store{api: api, bucket: bucket, pageSize: 1000}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.bucket }

// List yields the objects whose keys start with prefix, following
// ListObjectsV2 pages. S3 general purpose buckets return keys in ascending
// UTF-8 byte order, which gives readers (currents.Source) their
// deterministic order. Each Object carries LastModified as its ModTime.
// (S3 Express directory buckets do not sort their listings; do not use them
// where the order matters.) A failed request, after the client's own
// retries, is yielded as an error naming the bucket and prefix, and ends
// the listing.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(s.pageSize)}
		if prefix != "" {
			in.Prefix = aws.String(prefix)
		}
		pages := s3.NewListObjectsV2Paginator(s.api, in, func(o *s3.ListObjectsV2PaginatorOptions) {
			o.Limit = s.pageSize
			o.StopOnDuplicateToken = true // a server that repeats a token would loop forever
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(objstore.Object{}, fmt.Errorf("s3store: listing s3://%s/%s: %w", s.bucket, prefix, err))
				return
			}
			for _, obj := range page.Contents {
				o := object(obj)
				if !yield(o, nil) {
					return
				}
			}
		}
	}
}

// ListDir yields the objects and the folders (common prefixes, with the
// "/" delimiter) directly under prefix, merged into ascending byte order,
// following ListObjectsV2 pages. currents.Source uses it to skip the
// event_type= and date= folders its filters exclude. Objects carry
// LastModified as their ModTime; folders carry none.
func (s *Store) ListDir(ctx context.Context, prefix string) iter.Seq2[objstore.DirEntry, error] {
	return func(yield func(objstore.DirEntry, error) bool) {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(s.pageSize), Delimiter: aws.String("/")}
		if prefix != "" {
			in.Prefix = aws.String(prefix)
		}
		pages := s3.NewListObjectsV2Paginator(s.api, in, func(o *s3.ListObjectsV2PaginatorOptions) {
			o.Limit = s.pageSize
			o.StopOnDuplicateToken = true
		})
		var last string
		started := false
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(objstore.DirEntry{}, fmt.Errorf("s3store: listing s3://%s/%s: %w", s.bucket, prefix, err))
				return
			}
			// Each list is sorted; a page holds a run of the merged order.
			// An entry that does not sort after the last one yielded is
			// skipped: S3 never sends one, but some S3-compatible servers
			// repeat a common prefix on the next page (gofakes3 does).
			objs, dirs := page.Contents, page.CommonPrefixes
			for len(objs) > 0 || len(dirs) > 0 {
				var e objstore.DirEntry
				if len(dirs) == 0 || (len(objs) > 0 && aws.ToString(objs[0].Key) < aws.ToString(dirs[0].Prefix)) {
					e.Object = object(objs[0])
					objs = objs[1:]
				} else {
					e.Key, e.Size, e.IsDir = aws.ToString(dirs[0].Prefix), -1, true
					dirs = dirs[1:]
				}
				if started && e.Key <= last {
					continue
				}
				started, last = true, e.Key
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// object converts a listed S3 object.
func object(obj types.Object) objstore.Object {
	o := objstore.Object{Key: aws.ToString(obj.Key), Size: -1, ModTime: aws.ToTime(obj.LastModified)}
	if obj.Size != nil {
		o.Size = *obj.Size
	}
	return o
}

// Open starts a GetObject request and returns the object's body, which
// streams from S3 as it is read; the caller closes it. ctx bounds the whole
// read, not just the request. A missing object is an error matching
// fs.ErrNotExist.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("s3store: getting s3://%s/%s: %w: %w", s.bucket, key, fs.ErrNotExist, err)
		}
		return nil, fmt.Errorf("s3store: getting s3://%s/%s: %w", s.bucket, key, err)
	}
	return out.Body, nil
}

// notFound reports S3's answer for a missing object: NoSuchKey, or a bare
// 404 (S3-compatible servers do not all send the error code).
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
