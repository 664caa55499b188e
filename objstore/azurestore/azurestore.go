package azurestore

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/internal/dirmerge"
)

// Store lists and opens the blobs of one Azure Blob Storage container. Keys
// are full blob names in the container. It implements objstore.Store and
// objstore.DirLister, so a currents.Source can walk it and skip the folders
// its filters exclude. It is safe for concurrent use.
type Store struct {
	client     *container.Client
	display    string // the container's URL without its query (a SAS token)
	pageSize   int32
	clientOpts *container.ClientOptions
}

var (
	_ objstore.Store     = (*Store)(nil)
	_ objstore.DirLister = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithPageSize sets how many entries each list request asks for, from 1 to
// 5000 (Azure's maximum and the default). Values out of range are clamped.
func WithPageSize(n int) Option {
	return func(s *Store) { s.pageSize = int32(min(max(n, 1), 5000)) }
}

// New returns a Store over the container client's container. Build the
// client with container.NewClientWithSharedKeyCredential,
// container.NewClientWithNoCredential (a URL with a SAS token, or a public
// container), container.NewClientFromConnectionString, or
// container.NewClient with an Entra ID credential; OpenURL does the first
// three from a URL and the environment.
func New(client *container.Client, opts ...Option) *Store {
	s := &Store{client: client, display: withoutQuery(client.URL()), pageSize: 5000}
	for _, o := range opts {
		o(s)
	}
	return s
}

func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.ForceQuery = "", false
	return u.String()
}

// URL returns the URL of the blob named key, without any SAS token, for
// messages.
func (s *Store) URL(key string) string { return s.display + "/" + key }

// object converts a listed blob. Last-Modified changes when the blob's
// content or metadata is written, the closest Azure has to a file's
// modification time.
func object(b *container.BlobItem) objstore.Object {
	o := objstore.Object{Key: deref(b.Name), Size: -1}
	if p := b.Properties; p != nil {
		if p.ContentLength != nil {
			o.Size = *p.ContentLength
		}
		if p.LastModified != nil {
			o.ModTime = *p.LastModified
		}
	}
	return o
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// isFolder reports a blob that stands for a folder rather than a file: an
// empty name ending in "/" (dirmerge.IsFolderMarker), or, in a storage
// account with a hierarchical namespace (Data Lake Storage), a directory,
// which flat listings return as an empty blob with the metadata
// hdi_isfolder=true.
func isFolder(b *container.BlobItem, o objstore.Object) bool {
	if dirmerge.IsFolderMarker(o.Key, o.Size) {
		return true
	}
	for k, v := range b.Metadata {
		if v != nil && strings.EqualFold(k, "hdi_isfolder") && strings.EqualFold(*v, "true") {
			return true
		}
	}
	return false
}

// include asks for each blob's metadata, which is how a hierarchical
// namespace marks its directories. Blobs without metadata add nothing to
// the response.
var include = container.ListBlobsInclude{Metadata: true}

// List yields the blobs whose names start with prefix, in ascending order
// of their names (Azure lists in that order), following the list pages.
// Folders (markers and Data Lake directories) are left out: they are not
// files. A failed request, after the client's own retries, is yielded as
// an error naming the container and prefix, and ends the listing.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		pager := s.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
			Prefix: nonEmpty(prefix), MaxResults: &s.pageSize, Include: include,
		})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				yield(objstore.Object{}, s.listError(prefix, err))
				return
			}
			if page.Segment == nil {
				continue
			}
			for _, b := range page.Segment.BlobItems {
				o := object(b)
				if isFolder(b, o) {
					continue
				}
				if !yield(o, nil) {
					return
				}
			}
		}
	}
}

// ListDir yields the blobs and the folders (prefixes up to the next "/")
// directly under prefix, merged into ascending order, following the list
// pages. currents.Source uses it to skip the event_type= and date= folders
// its filters exclude.
func (s *Store) ListDir(ctx context.Context, prefix string) iter.Seq2[objstore.DirEntry, error] {
	return func(yield func(objstore.DirEntry, error) bool) {
		pager := s.client.NewListBlobsHierarchyPager("/", &container.ListBlobsHierarchyOptions{
			Prefix: nonEmpty(prefix), MaxResults: &s.pageSize, Include: include,
		})
		var m dirmerge.Merger
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				yield(objstore.DirEntry{}, s.listError(prefix, err))
				return
			}
			var objs []objstore.Object
			var dirs []string
			if seg := page.Segment; seg != nil {
				for _, b := range seg.BlobItems {
					if o := object(b); !isFolder(b, o) {
						objs = append(objs, o)
					}
				}
				for _, p := range seg.BlobPrefixes {
					dirs = append(dirs, deref(p.Name))
				}
			}
			if !m.Page(objs, dirs, !pager.More(), yield) {
				return
			}
		}
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Store) listError(prefix string, err error) error {
	return fmt.Errorf("azurestore: listing %s/%s: %w", s.display, prefix, err)
}

// Open starts downloading the blob and returns its content, which streams
// from Azure as it is read; the caller closes it. ctx bounds the whole
// read, not just the request. A missing blob (or container) gives an error
// that matches fs.ErrNotExist and wraps the *azcore.ResponseError.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	resp, err := s.client.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound, bloberror.ResourceNotFound) {
			return nil, fmt.Errorf("azurestore: reading %s: %w: %w", s.URL(key), fs.ErrNotExist, err)
		}
		return nil, fmt.Errorf("azurestore: reading %s: %w", s.URL(key), err)
	}
	return resp.Body, nil
}
