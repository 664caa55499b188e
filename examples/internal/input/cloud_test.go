package input

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/ampbraze/ampbraze/internal/azuritetest"
	"github.com/ampbraze/ampbraze/internal/gcstest"
)

func readAll(t *testing.T, l *Location, key string) string {
	t.Helper()
	rc, err := l.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenGCS(t *testing.T) {
	ctx := context.Background()
	server := gcstest.Start(t, "acme")
	for _, k := range []string{"exports/a.csv", "exports/b.csv", "other/c.csv"} {
		server.Put("acme", k, []byte(k), time.Time{})
	}
	server.SetEnv(t)
	folder, err := Open(ctx, "gs://acme/exports/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys(t, folder), ","); !folder.Folder || folder.Prefix != "exports/" || got != "exports/a.csv,exports/b.csv" {
		t.Errorf("folder: %+v %q", folder, got)
	}
	if got := folder.Name("exports/a.csv"); got != "gs://acme/exports/a.csv" {
		t.Errorf("Name = %q", got)
	}
	bucket, err := Open(ctx, "GS://acme", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, bucket); !bucket.Folder || len(got) != 3 {
		t.Errorf("whole bucket: %+v %q", bucket, got)
	}
	one, err := Open(ctx, "gs://acme/other/c.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if one.Folder || one.Key != "other/c.csv" || one.Name(one.Key) != "gs://acme/other/c.csv" || readAll(t, one, one.Key) != "other/c.csv" {
		t.Errorf("one object: %+v", one)
	}
	for _, bad := range []string{"gs:///x", "gs://a/x", "gs://acme//x", "gs://Acme/x"} {
		if _, err := Open(ctx, bad, Options{}); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
}

func TestOpenAzureNotBlobURL(t *testing.T) {
	_, err := Open(context.Background(), "https://example.com/files/x.csv?sig=s3cr3t", Options{})
	if err == nil || !strings.Contains(err.Error(), "an http(s):// input is an Azure Blob URL") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("err = %v", err)
	}
}

func TestOpenAzure(t *testing.T) {
	ctx := context.Background()
	server := azuritetest.Start(t)
	c := server.Container(t, "acme")
	for _, k := range []string{"exports/a.csv", "exports/b.csv", "other/c.csv"} {
		if _, err := c.NewBlockBlobClient(k).UploadBuffer(ctx, []byte(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", server.ConnectionString())
	t.Setenv("AZURE_STORAGE_ACCOUNT", "")
	t.Setenv("AZURE_STORAGE_KEY", "")
	folder, err := Open(ctx, "azure://acme/exports/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys(t, folder), ","); !folder.Folder || folder.Prefix != "exports/" || got != "exports/a.csv,exports/b.csv" {
		t.Errorf("folder: %+v %q", folder, got)
	}
	if got, want := folder.Name("exports/a.csv"), server.ServiceURL+"acme/exports/a.csv"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}

	// One blob by a SAS URL, with no other credentials: the signature
	// never shows in the names used in messages.
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	sasURL, err := c.NewBlobClient("other/c.csv").GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	one, err := Open(ctx, sasURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if one.Folder || one.Key != "other/c.csv" || readAll(t, one, one.Key) != "other/c.csv" {
		t.Errorf("one blob: %+v", one)
	}
	if name := one.Name(one.Key); strings.Contains(name, "sig=") && !strings.Contains(name, "sig=REDACTED") {
		t.Errorf("Name shows the SAS signature: %s", name)
	}
}
func TestRedactHidesSASSignature(t *testing.T) {
	in := "https://acct.blob.core.windows.net/c/exports/?sv=2024-01-01&sig=SECRETSIG&sp=rl"
	got := Redact(in)
	if strings.Contains(got, "SECRETSIG") {
		t.Fatalf("Redact(%q) = %q: the signature is shown", in, got)
	}
	if !strings.Contains(got, "sv=2024-01-01") || !strings.Contains(got, "acct.blob.core.windows.net/c/exports/") {
		t.Fatalf("Redact(%q) = %q: more than the signature was changed", in, got)
	}
	if local := "/data/exports/customers.csv"; Redact(local) != local {
		t.Fatalf("Redact(%q) = %q, want it unchanged", local, Redact(local))
	}
}
