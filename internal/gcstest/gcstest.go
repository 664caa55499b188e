// Package gcstest starts an in-process Google Cloud Storage server for
// tests (fake-gcs-server's fakestorage, on a loopback port) set up so that
// the real Go client reads from it both with an explicit endpoint and
// through STORAGE_EMULATOR_HOST, as gcsstore.OpenURL does.
package gcstest

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

// Server is a running fake GCS server.
type Server struct {
	*fakestorage.Server
	// Host is the server's host:port, the value of STORAGE_EMULATOR_HOST.
	Host string
}

// Start starts a server holding the given (empty) buckets; it stops when
// the test ends. The server listens on 127.0.0.1 rather than serving
// through fakestorage's in-memory transport, so requests go over HTTP and
// a cancelled context ends them as it does against GCS (the in-memory
// transport ignores it).
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	fs, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatalf("gcstest: starting fake GCS: %v", err)
	}
	t.Cleanup(fs.Stop)
	u, err := url.Parse(fs.URL())
	if err != nil {
		t.Fatalf("gcstest: server URL %q: %v", fs.URL(), err)
	}
	// The Go client reads objects through GCS's XML API, path-style
	// (/bucket/object), which fakestorage serves only on its "public
	// host", storage.googleapis.com unless told otherwise; the port is
	// known only now, so tell it through its configuration endpoint.
	req, err := http.NewRequest(http.MethodPut, fs.URL()+"/_internal/config",
		bytes.NewReader([]byte(`{"publicHost":"`+u.Host+`"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("gcstest: configuring fake GCS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("gcstest: configuring fake GCS: %s", resp.Status)
	}
	for _, b := range buckets {
		fs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	return &Server{Server: fs, Host: u.Host}
}

// Client returns a client for the server that sends its requests through
// transport (nil for a default one), closed when the test ends.
func (s *Server) Client(t testing.TB, transport http.RoundTripper) *storage.Client {
	t.Helper()
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c, err := storage.NewClient(context.Background(), option.WithEndpoint(s.URL()+"/storage/v1/"),
		option.WithHTTPClient(&http.Client{Transport: transport}), option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("gcstest: client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Put stores an object, with its Updated time when updated is not zero.
func (s *Server) Put(bucket, name string, content []byte, updated time.Time) {
	s.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name, Updated: updated},
		Content:     content,
	})
}

// SetEnv points STORAGE_EMULATOR_HOST at the server for the rest of the
// test, so that clients built the usual way (storage.NewClient,
// gcsstore.OpenURL) use it.
func (s *Server) SetEnv(t testing.TB) {
	t.Setenv("STORAGE_EMULATOR_HOST", s.Host)
}
