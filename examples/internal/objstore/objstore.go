// Package objstore opens the inputs the example programs take: a local file
// or directory, an s3://bucket/key object or an s3://bucket/prefix/ folder,
// all behind currents.Store (list and open), which package currents and its
// s3source subpackage already implement.
package objstore

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/s3source"
)

// Location is an opened input: a store and either one object (Key) or a
// folder (Prefix) in it.
type Location struct {
	// Store lists and opens the objects.
	Store currents.Store
	// Folder reports whether the input names a folder (a local directory or
	// an s3:// URL ending in "/") rather than one object.
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
}

// Objects yields the folder's objects in key order, or the single object.
func (l *Location) Objects(ctx context.Context) iter.Seq2[currents.Object, error] {
	if !l.Folder {
		return func(yield func(currents.Object, error) bool) {
			yield(currents.Object{Key: l.Key, Size: l.Size}, nil)
		}
	}
	return l.Store.List(ctx, l.Prefix)
}

// Open opens one object of the location.
func (l *Location) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return l.Store.Open(ctx, key)
}

// Name returns a readable name of an object, for messages and the rejects
// file: the s3:// URL or the local path.
func (l *Location) Name(key string) string {
	if s, ok := l.Store.(*s3source.Store); ok {
		return "s3://" + s.Bucket() + "/" + key
	}
	if l.Folder {
		return filepath.Join(l.Display, filepath.FromSlash(key))
	}
	return l.Display
}

// S3Options configures the S3 client used for s3:// inputs.
type S3Options struct {
	// Endpoint, when set, is an S3-compatible endpoint (MinIO, a test
	// server), addressed path-style.
	Endpoint string
	// HTTPClient, when set, replaces the SDK's HTTP client.
	HTTPClient *http.Client
}

// Open resolves in: "s3://bucket/key", "s3://bucket/prefix/" (a folder,
// because of the trailing slash), a local directory (a folder) or a local
// file. AWS credentials and region come from the SDK's default chain
// (environment, shared config, instance role).
func Open(ctx context.Context, in string, opt S3Options) (*Location, error) {
	if rest, ok := strings.CutPrefix(in, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return nil, fmt.Errorf("%q: no bucket", in)
		}
		client, err := newS3(ctx, opt)
		if err != nil {
			return nil, err
		}
		store := s3source.New(client, bucket)
		if key == "" || strings.HasSuffix(key, "/") {
			_, prefix, err := s3source.ParseURL(in)
			if err != nil {
				return nil, err
			}
			return &Location{Store: store, Folder: true, Prefix: prefix, Display: in}, nil
		}
		return &Location{Store: store, Key: key, Size: -1, Display: in}, nil
	}
	fi, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return &Location{Store: currents.NewFSStore(os.DirFS(in)), Folder: true, Display: in}, nil
	}
	dir, file := filepath.Split(in)
	if dir == "" {
		dir = "."
	}
	return &Location{Store: currents.NewFSStore(os.DirFS(dir)), Key: file, Size: fi.Size(), Display: in}, nil
}

func newS3(ctx context.Context, opt S3Options) (*s3.Client, error) {
	var loadOpts []func(*config.LoadOptions) error
	if opt.HTTPClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(opt.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// S3-compatible servers often send no checksums; the SDK would
		// log a warning for every object read.
		o.DisableLogOutputChecksumValidationSkipped = true
		if opt.Endpoint != "" {
			o.BaseEndpoint = aws.String(opt.Endpoint)
			o.UsePathStyle = true
		}
	}), nil
}
