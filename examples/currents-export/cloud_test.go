package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
	"github.com/ampbraze/ampbraze/internal/azuritetest"
	"github.com/ampbraze/ampbraze/internal/gcstest"
)

// TestExportGCS exports the Currents files of a gs:// folder, from a GCS
// emulator the program finds through STORAGE_EMULATOR_HOST, as a user's
// would through Application Default Credentials; a rerun reads nothing.
func TestExportGCS(t *testing.T) {
	server := gcstest.Start(t, "acme")
	files, err := currentsdemo.Files("currents")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		server.Put("acme", f.Key, f.Data, time.Time{})
	}
	server.SetEnv(t)
	out := t.TempDir()
	code, stdout, stderr := runExport(t, "-input", "gs://acme/currents/", "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := ids(t, out, "users.messages.email.Send"); len(got) != 8 {
		t.Errorf("sends = %v", got)
	}
	if code, stdout, _ = runExport(t, "-input", "gs://acme/currents/", "-out", out); code != exitOK || !strings.Contains(stdout, "Read 0 files") {
		t.Errorf("rerun: exit %d\n%s", code, stdout)
	}
	if code, _, stderr = runExport(t, "-input", "gs://Acme/currents/", "-out", t.TempDir()); code == exitOK || !strings.Contains(stderr, "bucket name") {
		t.Errorf("bad bucket name: exit %d\n%s", code, stderr)
	}
}

// TestExportAzure exports the Currents files of an Azure container folder
// from Azurite: first as azure://container/prefix/ with a connection
// string, then (a rerun, which reads nothing) as the emulator's http URL
// with the account and key in the environment.
func TestExportAzure(t *testing.T) {
	server := azuritetest.Start(t)
	c := server.Container(t, "acme")
	files, err := currentsdemo.Files("currents")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := c.NewBlockBlobClient(f.Key).UploadBuffer(context.Background(), f.Data, &blockblob.UploadBufferOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", server.ConnectionString())
	t.Setenv("AZURE_STORAGE_ACCOUNT", "")
	t.Setenv("AZURE_STORAGE_KEY", "")
	out := t.TempDir()
	code, stdout, stderr := runExport(t, "-input", "azure://acme/currents/", "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := ids(t, out, "users.messages.email.Send"); len(got) != 8 {
		t.Errorf("sends = %v", got)
	}

	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	t.Setenv("AZURE_STORAGE_ACCOUNT", azuritetest.Account)
	t.Setenv("AZURE_STORAGE_KEY", azuritetest.Key)
	if code, stdout, stderr = runExport(t, "-input", server.ServiceURL+"acme/currents/", "-out", out); code != exitOK || !strings.Contains(stdout, "Read 0 files") {
		t.Errorf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
