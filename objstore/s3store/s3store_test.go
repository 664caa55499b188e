package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/storetest"
)

// countingTransport counts the list requests that reach the server.
type countingTransport struct {
	lists atomic.Int32
	next  http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
		c.lists.Add(1)
	}
	return c.next.RoundTrip(r)
}

// newS3 starts an in-process S3-protocol server (gofakes3 over httptest)
// with one bucket and returns a real SDK client for it: path-style
// addressing, static credentials.
func newS3(t *testing.T, bucket string, opts ...s3mem.Option) (*s3.Client, *countingTransport) {
	t.Helper()
	backend := s3mem.New(opts...)
	faker := gofakes3.New(backend)
	ts := httptest.NewServer(faker.Server())
	t.Cleanup(ts.Close)
	ct := &countingTransport{next: http.DefaultTransport}
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(ts.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
		HTTPClient:   &http.Client{Transport: ct},
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return client, ct
}

func put(t *testing.T, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject %q: %v", key, err)
	}
}

// TestConformance runs the objstore suite on a gofakes3 bucket.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
		client, _ := newS3(t, "bucket")
		for k, v := range objects {
			put(t, client, "bucket", k, v)
		}
		return New(client, "bucket")
	}, storetest.WithPageSize(func(s objstore.Store, n int) objstore.Store {
		return New(s.(*Store).api, s.(*Store).bucket, WithPageSize(n))
	}))
}

// TestListRequests counts the ListObjectsV2 requests: one a page, and none
// after the consumer stops.
func TestListRequests(t *testing.T) {
	client, ct := newS3(t, "bucket")
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		put(t, client, "bucket", k, []byte("x"))
	}
	store := New(client, "bucket", WithPageSize(2))
	n := 0
	for _, err := range store.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	// 6 keys, 2 a page. (gofakes3 marks a page truncated if any key
	// follows it, even outside the prefix, so no key sorts after these.)
	if got := ct.lists.Load(); n != 6 || got != 3 {
		t.Errorf("%d objects in %d list requests, want 6 in 3", n, got)
	}
	ct.lists.Store(0)
	n = 0
	for range store.List(context.Background(), "") {
		n++
		if n == 3 {
			break
		}
	}
	if got := ct.lists.Load(); got != 2 {
		t.Errorf("breaking after 3 objects made %d requests, want 2", got)
	}
}

// TestOpenMissing: a missing object is S3's NoSuchKey, and the message
// names its s3:// URL. (That it matches fs.ErrNotExist is the suite's.)
func TestOpenMissing(t *testing.T) {
	client, _ := newS3(t, "bucket")
	_, err := New(client, "bucket").Open(context.Background(), "currents/missing.avro")
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://bucket/currents/missing.avro") {
		t.Errorf("missing key: %v", err)
	}
}

// TestStoreListErrors: listing a missing bucket is one error, naming it.
func TestStoreListErrors(t *testing.T) {
	client, _ := newS3(t, "bucket")
	var errs []error
	for _, err := range New(client, "no-such-bucket").List(context.Background(), "p/") {
		errs = append(errs, err)
	}
	var nsb *types.NoSuchBucket
	if len(errs) != 1 || !errors.As(errs[0], &nsb) || !strings.Contains(errs[0].Error(), "s3://no-such-bucket/p/") {
		t.Errorf("missing bucket: %v", errs)
	}

}

// TestSourceOverS3 walks a bucket with currents.Source: key parsing,
// filters and order work the same as on a local directory.
func TestSourceOverS3(t *testing.T) {
	client, _ := newS3(t, "bucket")
	k := func(typ, hour string, off int) string {
		return "currents/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=" + typ +
			"/date=" + hour + "/version=6/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+0+" + string(rune('0'+off)) + ".avro"
	}
	keys := []string{
		k("users.messages.email.Send", "2025-04-01-18", 2),
		k("users.messages.email.Send", "2025-04-01-17", 1),
		k("users.messages.email.Open", "2025-04-01-17", 3),
		"currents/readme.txt",
	}
	for _, key := range keys {
		put(t, client, "bucket", key, []byte("x"))
	}
	bucket, prefix, err := ParseURL("s3://bucket/currents")
	if err != nil {
		t.Fatal(err)
	}
	src := currents.NewSource(New(client, bucket, WithPageSize(1)), prefix, currents.WithEventTypes("users.messages.email.Send"))
	var got []string
	for f, err := range src.Files(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Key.Hour.Format("15")+"/"+f.Key.EventType)
	}
	if want := []string{"17/users.messages.email.Send", "18/users.messages.email.Send"}; !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
}

// TestSourceDecodesOverS3 reads synthetic Currents files from the S3
// server, end to end: listing, GetObject streaming, decoding, a broken
// object reported without stopping the others, and a checkpointed rerun.
func TestSourceDecodesOverS3(t *testing.T) {
	client, _ := newS3(t, "bucket")
	const typ = "users.messages.email.Send"
	key := func(hour string, off int) string {
		return fmt.Sprintf("currents/event_type=%s/date=%s/version=6/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+0+%d.avro", typ, hour, off)
	}
	file := func(codec string, ids ...string) []byte {
		var recs []map[string]any
		for _, id := range ids {
			recs = append(recs, map[string]any{"id": id, "user_id": "u", "time": 1743526800})
		}
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, typ, recs, currentstest.WithCodec(codec), currentstest.WithBlockRecords(2)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	put(t, client, "bucket", key("2025-04-01-17", 1), file("deflate", "a", "b", "c"))
	put(t, client, "bucket", key("2025-04-01-17", 2), []byte("Obj\x01 broken"))
	put(t, client, "bucket", key("2025-04-01-18", 3), file("zstandard", "d"))

	bucket, prefix, err := ParseURL("s3://bucket/currents/")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := objstore.OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	if err != nil {
		t.Fatal(err)
	}
	run := func() []string {
		var got []string
		src := currents.NewSource(New(client, bucket, WithPageSize(1)), prefix, currents.WithCheckpoint(cp))
		for ke, err := range src.All(context.Background()) {
			var fe *currents.FileError
			switch {
			case errors.As(err, &fe):
				got = append(got, "ERR "+strconv.FormatInt(must(currents.ParseKey(fe.Key)).Offset, 10))
			case err != nil:
				t.Fatal(err)
			default:
				got = append(got, ke.Event.EventID())
			}
		}
		return got
	}
	if got, want := run(), []string{"a", "b", "c", "ERR 2", "d"}; !slices.Equal(got, want) {
		t.Errorf("first run %q, want %q", got, want)
	}
	put(t, client, "bucket", key("2025-04-01-19", 4), file("snappy", "e"))
	if got, want := run(), []string{"ERR 2", "e"}; !slices.Equal(got, want) {
		t.Errorf("rerun %q, want %q", got, want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSourcePrunesS3Folders: with filters, the Source lists only the
// folders that can hold wanted files, in far fewer requests than a flat
// listing of the whole prefix.
func TestSourcePrunesS3Folders(t *testing.T) {
	client, ct := newS3(t, "bucket")
	types := []string{"users.messages.email.Send", "users.messages.email.Open", "users.behaviors.CustomEvent"}
	for _, typ := range types {
		for h := range 24 {
			for f := range 3 {
				put(t, client, "bucket", fmt.Sprintf("currents/event_type=%s/date=2025-04-01-%02d/version=6/us-01/t+0+%d.avro", typ, h, f), []byte("x"))
			}
		}
	}
	from := time.Date(2025, 4, 1, 20, 0, 0, 0, time.UTC)
	files := func(store objstore.Store) ([]string, int32) {
		ct.lists.Store(0)
		var keys []string
		src := currents.NewSource(store, "currents/", currents.WithEventTypes(types[1]), currents.WithHours(from, time.Time{}))
		for f, err := range src.Files(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, f.Key.Raw)
		}
		return keys, ct.lists.Load()
	}
	pruned, prunedReqs := files(New(client, "bucket", WithPageSize(10)))
	flat, flatReqs := files(flatOnly{New(client, "bucket", WithPageSize(10))})
	if len(pruned) != 12 || !slices.Equal(pruned, flat) {
		t.Fatalf("pruned walk %q\nflat listing %q", pruned, flat)
	}
	// Flat: 216 keys at 10 a page. Pruned: the event type folders (1
	// request), the 24 date folders of one type (3 pages), then for each of
	// the 4 hours wanted its version, environment and file listings (3).
	// Over a bucket holding a year, the flat count grows with every file,
	// the pruned one only with the hours wanted.
	if flatReqs != 22 || prunedReqs != 1+3+4*3 {
		t.Errorf("requests: pruned %d, flat %d", prunedReqs, flatReqs)
	}
}

// flatOnly hides ListDir.
type flatOnly struct{ objstore.Store }
