package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/ampbraze/ampbraze/internal/gcstest"
	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/storetest"
)

// countingTransport counts the list requests that reach the server.
type countingTransport struct {
	lists    atomic.Int32
	maxPages atomic.Value // the last list request's maxResults
	next     http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/o") {
		c.lists.Add(1)
		c.maxPages.Store(r.URL.Query().Get("maxResults"))
	}
	return c.next.RoundTrip(r)
}

// fakeGCS is an in-process GCS server with one bucket, and a real client
// for it whose list requests are counted.
type fakeGCS struct {
	*gcstest.Server
	client *storage.Client
	ct     *countingTransport
	bucket string
}

func newFakeGCS(t *testing.T, bucket string) *fakeGCS {
	t.Helper()
	server := gcstest.Start(t, bucket)
	ct := &countingTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
	return &fakeGCS{Server: server, client: server.Client(t, ct), ct: ct, bucket: bucket}
}

func (f *fakeGCS) put(key string, body []byte, updated time.Time) {
	f.Put(f.bucket, key, body, updated)
}

// TestConformance runs the objstore suite on fake-gcs-server, a bucket
// for each store the suite asks for.
func TestConformance(t *testing.T) {
	server := gcstest.Start(t)
	client := server.Client(t, nil)
	buckets := 0
	storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
		buckets++
		name := fmt.Sprintf("bucket%d", buckets)
		server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
		for k, v := range objects {
			server.Put(name, k, v, time.Time{})
		}
		return New(client, name)
	}, storetest.WithPageSize(func(s objstore.Store, n int) objstore.Store {
		return New(s.(*Store).client, s.(*Store).name, WithPageSize(n))
	}))
}

// TestListModTimeAndRequests: ModTime is the object's Updated time; a
// consumer that stops early stops the requests for pages.
func TestListModTimeAndRequests(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	base := time.Date(2025, 4, 1, 17, 0, 0, 0, time.UTC)
	ks := []string{"a", "b", "c", "d", "e"}
	for i, k := range ks {
		f.put(k, []byte("x"), base.Add(time.Duration(i)*time.Minute))
	}
	store := New(f.client, "bucket", WithPageSize(2))
	for i, o := range storetest.List(t, store, "") {
		if want := base.Add(time.Duration(i) * time.Minute); o.Key != ks[i] || !o.ModTime.Equal(want) {
			t.Errorf("object %d: %s at %v, want %s at %v", i, o.Key, o.ModTime, ks[i], want)
		}
	}
	f.ct.lists.Store(0)
	n := 0
	for range store.List(context.Background(), "") {
		n++
		if n == 3 {
			break
		}
	}
	if got := f.ct.lists.Load(); got != 2 {
		t.Errorf("breaking after 3 objects made %d list requests, want 2", got)
	}
}

// TestListPageRequests counts the list requests of a listing over a few
// pages, and checks the page size each asks for: GCS's largest page
// (1000) by default and for larger sizes. (fake-gcs-server scans all its
// objects on every insert, so a corpus past a real full page is slow.)
func TestListPageRequests(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	const n = 25
	var want []string
	for i := range n {
		k := fmt.Sprintf("p/%d.avro", i)
		f.put(k, []byte("x"), time.Time{})
		want = append(want, k)
	}
	slices.Sort(want)
	for _, c := range []struct {
		opts     []Option
		requests int
		max      string
	}{{nil, 1, "1000"}, {[]Option{WithPageSize(5000)}, 1, "1000"}, {[]Option{WithPageSize(7)}, 4, "7"}} {
		store := New(f.client, "bucket", c.opts...)
		f.ct.lists.Store(0)
		if got := storetest.Keys(storetest.List(t, store, "p/")); !slices.Equal(got, want) {
			t.Errorf("%d options: List gave %q, want %q", len(c.opts), got, want)
		}
		if got, max := f.ct.lists.Load(), f.ct.maxPages.Load(); got != int32(c.requests) || max != c.max {
			t.Errorf("%d options: %d list requests of maxResults %v for %d objects, want %d of %s", len(c.opts), got, max, n, c.requests, c.max)
		}
	}
}

// TestFolderMarkers: the empty object the console's "Create folder"
// writes (a name ending in "/") is not a file: List skips it, and ListDir
// lists its folder once, whether or not the folder holds objects.
func TestFolderMarkers(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	for _, k := range []string{"c/a/x", "c/a.avro", "c/b/y"} {
		f.put(k, []byte("xy"), time.Time{})
	}
	f.put("c/a/", nil, time.Time{})     // the marker of a folder that has objects
	f.put("c/empty/", nil, time.Time{}) // and of one that has none
	for _, size := range []int{1, 2, 1000} {
		store := New(f.client, "bucket", WithPageSize(size))
		if got, want := storetest.Keys(storetest.List(t, store, "")), []string{"c/a.avro", "c/a/x", "c/b/y"}; !slices.Equal(got, want) {
			t.Errorf("page size %d: List = %q, want %q", size, got, want)
		}
		want := []string{"c/a.avro", "c/a/", "c/b/", "c/empty/"}
		if top := storetest.DirKeys(t, store, "c/"); !slices.Equal(top, want) {
			t.Errorf("page size %d: ListDir = %q, want %q", size, top, want)
		}
	}
}

// TestOpenMissing: a missing object, or any object of a missing bucket,
// is storage.ErrObjectNotExist, and the message names its gs:// URL.
// (That it matches fs.ErrNotExist is the suite's.)
func TestOpenMissing(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	for _, s := range []*Store{New(f.client, "bucket"), New(f.client, "no-such-bucket")} {
		_, err := s.Open(context.Background(), "currents/missing.avro")
		if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, storage.ErrObjectNotExist) ||
			!strings.Contains(err.Error(), "gs://"+s.Bucket()+"/currents/missing.avro") {
			t.Errorf("missing object in %s: %v", s.Bucket(), err)
		}
	}
}

// TestListErrors: listing a missing bucket is one error, naming it.
func TestListErrors(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	f.put("a", []byte("x"), time.Time{})
	var errs []error
	for _, err := range New(f.client, "no-such-bucket").List(context.Background(), "p/") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || errs[0] == nil || !strings.Contains(errs[0].Error(), "gs://no-such-bucket/p/") {
		t.Errorf("missing bucket: %v", errs)
	}
}
