// Package input opens the inputs the example programs take: a local file
// or directory, or a URL naming one object or a folder in a bucket
// (s3://bucket/key, s3://bucket/prefix/), all behind objstore.Store (list
// and open). Each URL scheme is one entry of the schemes table, with its
// opener in a file of its own.
package input

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ampbraze/ampbraze/objstore"
)

// Location is an opened input: a store and either one object (Key) or a
// folder (Prefix) in it.
type Location struct {
	// Store lists and opens the objects.
	Store objstore.Store
	// Folder reports whether the input names a folder (a local directory or
	// a URL ending in "/") rather than one object.
	Folder bool
	// Key is the object, when Folder is false.
	Key string
	// Size is the object's size when Folder is false, -1 when unknown.
	Size int64
	// Prefix is the folder, when Folder is true ("" for a whole directory
	// or bucket).
	Prefix string
	// Display is the input as given, for messages.
	Display string

	// base, for a URL input, is the URL of the bucket ("s3://bucket/"):
	// an object's name is base + key.
	base string
}

// Close releases the store's client when the store has one to release
// (gcsstore's, built by its OpenURL); the other stores hold nothing open.
func (l *Location) Close() error {
	if c, ok := l.Store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Objects yields the folder's objects in key order, or the single object.
func (l *Location) Objects(ctx context.Context) iter.Seq2[objstore.Object, error] {
	if !l.Folder {
		return func(yield func(objstore.Object, error) bool) {
			yield(objstore.Object{Key: l.Key, Size: l.Size}, nil)
		}
	}
	return l.Store.List(ctx, l.Prefix)
}

// Open opens one object of the location.
func (l *Location) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return l.Store.Open(ctx, key)
}

// Name returns a readable name of an object, for messages and the rejects
// file: its URL or its local path.
func (l *Location) Name(key string) string {
	switch {
	case l.base != "":
		return l.base + key
	case l.Folder:
		return filepath.Join(l.Display, filepath.FromSlash(key))
	}
	return l.Display
}

// Options configures the clients used for URL inputs.
type Options struct {
	// S3Endpoint, when set, is an S3-compatible endpoint (MinIO, a test
	// server) for s3:// inputs, addressed path-style.
	S3Endpoint string
	// HTTPClient, when set, replaces the cloud SDK's HTTP client.
	HTTPClient *http.Client
}

// opener opens a URL input of one scheme; in is the whole input, with its
// scheme.
type opener func(ctx context.Context, in string, opt Options) (*Location, error)

// schemes maps each URL scheme an input may use (lower case, without
// "://") to its opener. It is never written.
var schemes = map[string]opener{
	"s3":    openS3,
	"gs":    openGCS,
	"azure": openAzure,
	"https": openAzure,
	"http":  openAzure,
}

// Open resolves in: a URL of a scheme in the schemes table (a folder when
// it ends in "/" or names only the bucket), a local directory (a folder)
// or a local file. Cloud credentials come from each SDK's default chain
// (environment, shared config, instance role).
func Open(ctx context.Context, in string, opt Options) (*Location, error) {
	if scheme, _, ok := strings.Cut(in, "://"); ok && !strings.ContainsAny(scheme, `/\`) {
		open, known := schemes[strings.ToLower(scheme)]
		if !known {
			return nil, fmt.Errorf("%q: unknown scheme %q (known: %s, or a local path)", in, scheme, knownSchemes())
		}
		return open(ctx, in, opt)
	}
	fi, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return &Location{Store: objstore.NewFSStore(os.DirFS(in)), Folder: true, Display: in}, nil
	}
	dir, file := filepath.Split(in)
	if dir == "" {
		dir = "."
	}
	return &Location{Store: objstore.NewFSStore(os.DirFS(dir)), Key: file, Size: fi.Size(), Display: in}, nil
}

func knownSchemes() string {
	var names []string
	for s := range schemes {
		names = append(names, s+"://")
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// bucketLocation is the Location of a URL whose path after the bucket (or
// container) is the object's key, or, when it is empty or ends in "/", the
// prefix of a folder. base is the bucket's URL, ending in "/".
func bucketLocation(in, base string, store objstore.Store, key string) *Location {
	if key == "" || strings.HasSuffix(key, "/") {
		return &Location{Store: store, Folder: true, Prefix: key, Display: in, base: base}
	}
	return &Location{Store: store, Key: key, Size: -1, Display: in, base: base}
}
