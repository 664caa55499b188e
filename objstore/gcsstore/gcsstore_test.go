package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"cloud.google.com/go/storage"

	"github.com/ampbraze/ampbraze/internal/gcstest"
	"github.com/ampbraze/ampbraze/objstore"
)

// countingTransport counts the list requests that reach the server.
type countingTransport struct {
	lists atomic.Int32
	next  http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/o") {
		c.lists.Add(1)
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

func list(t *testing.T, s *Store, ctx context.Context, prefix string) []objstore.Object {
	t.Helper()
	var objs []objstore.Object
	for o, err := range s.List(ctx, prefix) {
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs
}

func keys(objs []objstore.Object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

func TestListOrderSizeModTime(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	base := time.Date(2025, 4, 1, 17, 0, 0, 0, time.UTC)
	ks := []string{
		"currents/b/x.avro", "currents/a/x.avro", "currents-old/x.avro", "currents/a-b/y.avro",
		"currents/event_type=users.messages.email.Send/date=2025-04-01-17/f+0+1.avro",
		"currents/with space/and+plus=eq.avro", "currents/ü/unicode.avro", "currents/A/upper.avro",
	}
	for i, k := range ks {
		f.put(k, []byte(strings.Repeat("x", i+1)), base.Add(time.Duration(i)*time.Minute))
	}
	// A folder marker, as the console's "Create folder" writes, is not a file.
	f.put("currents/empty-folder/", nil, base)
	store := New(f.client, "bucket", WithPageSize(2))

	objs := list(t, store, context.Background(), "currents/")
	var want []string
	for _, k := range ks {
		if strings.HasPrefix(k, "currents/") {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	if got := keys(objs); !slices.Equal(got, want) {
		t.Errorf("List =\n%q\nwant\n%q", got, want)
	}
	for _, o := range objs {
		i := slices.Index(ks, o.Key)
		if o.Size != int64(i+1) {
			t.Errorf("size of %q = %d, want %d", o.Key, o.Size, i+1)
		}
		if want := base.Add(time.Duration(i) * time.Minute); !o.ModTime.Equal(want) {
			t.Errorf("ModTime of %q = %v, want %v", o.Key, o.ModTime, want)
		}
	}

	// objstore.FSStore lists the same tree in the same order.
	fsys := fstest.MapFS{}
	for _, k := range ks {
		fsys[k] = &fstest.MapFile{}
	}
	var fsKeys []string
	for o, err := range objstore.NewFSStore(fsys).List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		fsKeys = append(fsKeys, o.Key)
	}
	if got := keys(list(t, store, context.Background(), "")); !slices.Equal(got, fsKeys) || len(got) != len(ks) {
		t.Errorf("FSStore order\n%q\nGCS order\n%q", fsKeys, got)
	}

	// A plain string prefix, as in S3: "currents" also matches currents-old.
	if got := keys(list(t, store, context.Background(), "currents")); len(got) != len(ks) {
		t.Errorf("prefix without slash: %q", got)
	}

	// Stopping early stops requesting pages.
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

// TestListManyPages lists more objects than fit in GCS's largest page, at
// the default page size and at a small one, and counts the requests.
// (fake-gcs-server stores objects in a slice it scans on every insert, so
// the corpus stays just over one full page.)
func TestListManyPages(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	const n = 1100
	var want []string
	for i := range n {
		k := fmt.Sprintf("p/%d.avro", i) // not zero-padded: the order is by bytes, not numbers
		f.put(k, []byte("x"), time.Time{})
		want = append(want, k)
	}
	slices.Sort(want)
	for _, c := range []struct{ pageSize, requests int }{{1000, 2}, {150, 8}} {
		store := New(f.client, "bucket", WithPageSize(c.pageSize))
		f.ct.lists.Store(0)
		if got := keys(list(t, store, context.Background(), "p/")); !slices.Equal(got, want) {
			t.Errorf("page size %d: List gave %d keys, want %d in byte order", c.pageSize, len(got), len(want))
		}
		if got := f.ct.lists.Load(); got != int32(c.requests) {
			t.Errorf("page size %d: %d list requests for %d objects, want %d", c.pageSize, got, n, c.requests)
		}
	}
}

// expand walks ListDir depth-first.
func expand(t *testing.T, s *Store, prefix string) []string {
	t.Helper()
	var ks []string
	for e, err := range s.ListDir(context.Background(), prefix) {
		if err != nil {
			t.Fatal(err)
		}
		if e.IsDir {
			if !strings.HasSuffix(e.Key, "/") || e.Size != -1 {
				t.Errorf("folder entry %+v", e)
			}
			ks = append(ks, expand(t, s, e.Key)...)
		} else {
			ks = append(ks, e.Key)
		}
	}
	return ks
}

func TestListDir(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	updated := time.Date(2025, 4, 1, 17, 0, 0, 0, time.UTC)
	ks := []string{
		"c/a/x", "c/a/y", "c/a/z/1", "c/a-b/x", "c/a.avro", "c/a0", "c/b/c/d", "c/b/c0", "c/b/c/e/f",
		"c/event_type=t/date=2025-04-01-17/f+0+1.avro", "c/event_type=t/date=2025-04-01-18/f+0+2.avro",
	}
	for _, k := range ks {
		f.put(k, []byte("xy"), updated)
	}
	f.put("c/a/", nil, updated) // the marker of a folder that has objects
	for _, size := range []int{1, 2, 3, 1000} {
		store := New(f.client, "bucket", WithPageSize(size))
		var top []string
		for e, err := range store.ListDir(context.Background(), "c/") {
			if err != nil {
				t.Fatal(err)
			}
			if !e.IsDir && (e.Size != 2 || !e.ModTime.Equal(updated)) {
				t.Errorf("object entry %+v", e)
			}
			top = append(top, e.Key)
		}
		if want := []string{"c/a-b/", "c/a.avro", "c/a/", "c/a0", "c/b/", "c/event_type=t/"}; !slices.Equal(top, want) {
			t.Errorf("page size %d: ListDir = %q, want %q", size, top, want)
		}
		flat := keys(list(t, store, context.Background(), ""))
		if got := expand(t, store, ""); !slices.Equal(got, flat) || len(flat) != len(ks) {
			t.Errorf("page size %d: depth-first ListDir\n%q\nList\n%q", size, got, flat)
		}
	}
}

func TestOpen(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	key := "currents/event_type=users.messages.email.Send/date=2025-04-01-17/version=6/us-01/f+0+123.avro"
	f.put(key, []byte("avro bytes"), time.Time{})
	store := New(f.client, "bucket")
	rc, err := store.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != "avro bytes" {
		t.Errorf("read %q, %v", b, err)
	}

	for _, s := range []*Store{store, New(f.client, "no-such-bucket")} {
		_, err = s.Open(context.Background(), "currents/missing.avro")
		if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, storage.ErrObjectNotExist) ||
			!strings.Contains(err.Error(), "gs://"+s.Bucket()+"/currents/missing.avro") {
			t.Errorf("missing object in %s: %v", s.Bucket(), err)
		}
	}
}

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

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	store := New(f.client, "bucket")
	errs = nil
	for _, err := range store.List(ctx, "") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("List, cancelled: %v", errs)
	}
	errs = nil
	for _, err := range store.ListDir(ctx, "") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("ListDir, cancelled: %v", errs)
	}
	if _, err := store.Open(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open, cancelled: %v", err)
	}
}

// TestCancelBetweenPages cancels the context while the listing is going:
// the next page's request fails and ends it.
func TestCancelBetweenPages(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	for i := range 5 {
		f.put(fmt.Sprintf("k%d", i), []byte("x"), time.Time{})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	var errs []error
	for o, err := range New(f.client, "bucket", WithPageSize(2)).List(ctx, "") {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, o.Key)
		if len(got) == 2 {
			cancel()
		}
	}
	if !slices.Equal(got, []string{"k0", "k1"}) || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("got %q, errors %v", got, errs)
	}
}
