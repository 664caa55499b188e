package input

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/objstore"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func keys(t *testing.T, l *Location) []string {
	t.Helper()
	var ks []string
	for obj, err := range l.Objects(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, obj.Key)
	}
	return ks
}

func TestOpenLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "b.csv"), []byte("bb"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.csv"), []byte("a"), 0o644)

	folder, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys(t, folder), ","); !folder.Folder || got != "a.csv,sub/b.csv" {
		t.Errorf("folder: %v %q", folder.Folder, got)
	}
	if got, want := folder.Name("sub/b.csv"), filepath.Join(dir, "sub", "b.csv"); got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}

	file, err := Open(ctx, filepath.Join(dir, "sub", "b.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if file.Folder || file.Key != "b.csv" || file.Size != 2 || file.Name(file.Key) != filepath.Join(dir, "sub", "b.csv") {
		t.Errorf("file: %+v", file)
	}
	rc, err := file.Open(ctx, file.Key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "bb" {
		t.Errorf("read %q", b)
	}

	if _, err := Open(ctx, filepath.Join(dir, "missing"), Options{}); !os.IsNotExist(err) {
		t.Errorf("missing path: %v", err)
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	_, err := Open(context.Background(), "ftp://host/x", Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown scheme "ftp"`) || !strings.Contains(err.Error(), "s3://") {
		t.Errorf("err = %v", err)
	}
}

func TestOpenS3(t *testing.T) {
	ctx := context.Background()
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(ts.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRETTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	opt := Options{S3Endpoint: ts.URL}
	client, err := newS3(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"exports/a.csv", "exports/b.csv", "other/c.csv"} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme"), Key: aws.String(k), Body: bytes.NewReader([]byte(k))}); err != nil {
			t.Fatal(err)
		}
	}

	folder, err := Open(ctx, "s3://acme/exports/", opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys(t, folder), ","); !folder.Folder || folder.Prefix != "exports/" || got != "exports/a.csv,exports/b.csv" {
		t.Errorf("folder: %+v %q", folder, got)
	}
	if got := folder.Name("exports/a.csv"); got != "s3://acme/exports/a.csv" {
		t.Errorf("Name = %q", got)
	}

	bucket, err := Open(ctx, "S3://acme", opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, bucket); !bucket.Folder || len(got) != 3 {
		t.Errorf("whole bucket: %+v %q", bucket, got)
	}

	one, err := Open(ctx, "s3://acme/other/c.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	if one.Folder || one.Key != "other/c.csv" || one.Name(one.Key) != "s3://acme/other/c.csv" {
		t.Errorf("one object: %+v", one)
	}
	rc, err := one.Open(ctx, one.Key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "other/c.csv" {
		t.Errorf("read %q", b)
	}

	for _, bad := range []string{"s3:///x", "s3://a/x", "s3://acme//x"} {
		if _, err := Open(ctx, bad, opt); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
}

// closingStore is a store with a client to release, as gcsstore's.
type closingStore struct {
	objstore.Store
	closed int
}

func (s *closingStore) Close() error { s.closed++; return nil }

// Close releases a store that has a client (gcsstore's), and is a no-op
// for the others.
func TestLocationClose(t *testing.T) {
	s := &closingStore{Store: objstore.NewFSStore(os.DirFS(t.TempDir()))}
	if err := (&Location{Store: s}).Close(); err != nil || s.closed != 1 {
		t.Errorf("Close = %v, store closed %d times; want nil and 1", err, s.closed)
	}
	local, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := local.Close(); err != nil {
		t.Errorf("Close of a local folder = %v", err)
	}
}
