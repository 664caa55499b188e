package gcsstore

import (
	"context"
	"fmt"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"
)

// WithClientOptions passes options to the client that OpenURL builds: an
// explicit credentials file (option.WithAuthCredentialsFile), no
// authentication for a public bucket (option.WithoutAuthentication), an
// endpoint, an HTTP client. A Store made by New ignores them.
func WithClientOptions(opts ...option.ClientOption) Option {
	return func(s *Store) { s.clientOpts = append(s.clientOpts, opts...) }
}

// OpenURL parses a gs://bucket/prefix URL (see ParseURL), builds a GCS
// client and returns a Store over the bucket with the prefix to list. The
// caller closes the Store, which closes the client.
//
// Credentials are Google's Application Default Credentials, in this order:
// the JSON key file named by GOOGLE_APPLICATION_CREDENTIALS, the file that
// "gcloud auth application-default login" writes, then the service
// account of the GCE, GKE, Cloud Run or Cloud Functions host. When
// STORAGE_EMULATOR_HOST is set (host:port, or a URL), the client talks to
// that emulator without authentication instead, as every Google Cloud
// client library does. WithClientOptions overrides any of this.
func OpenURL(ctx context.Context, rawURL string, opts ...Option) (store *Store, prefix string, err error) {
	bucket, prefix, err := ParseURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	var cfg Store
	for _, o := range opts {
		o(&cfg)
	}
	client, err := storage.NewClient(ctx, cfg.clientOpts...)
	if err != nil {
		return nil, "", fmt.Errorf("gcsstore: client for %s: %w", rawURL, err)
	}
	s := New(client, bucket, opts...)
	s.ownsClient = true
	return s, prefix, nil
}
