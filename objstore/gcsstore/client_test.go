package gcsstore

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/ampbraze/ampbraze/internal/gcstest"
	"github.com/ampbraze/ampbraze/objstore/storetest"
)

// TestOpenURLEmulator builds the client the way a program does, from the
// environment: STORAGE_EMULATOR_HOST points it at the emulator.
func TestOpenURLEmulator(t *testing.T) {
	server := gcstest.Start(t, "bucket")
	server.Put("bucket", "currents/a.avro", []byte("A"), time.Time{})
	server.Put("bucket", "currents-old/b.avro", []byte("B"), time.Time{})
	server.SetEnv(t)

	store, prefix, err := OpenURL(context.Background(), "gs://bucket/currents")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if store.Bucket() != "bucket" || prefix != "currents/" {
		t.Errorf("OpenURL gave bucket %q, prefix %q", store.Bucket(), prefix)
	}
	if got := storetest.Keys(storetest.List(t, store, prefix)); !slices.Equal(got, []string{"currents/a.avro"}) {
		t.Errorf("List = %q", got)
	}
	rc, err := store.Open(context.Background(), "currents/a.avro")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != "A" {
		t.Errorf("read %q, %v", b, err)
	}
}

// TestOpenURLClientOptions points the client at the emulator through
// WithClientOptions instead of the environment.
func TestOpenURLClientOptions(t *testing.T) {
	server := gcstest.Start(t, "bucket")
	server.Put("bucket", "x/1", []byte("1"), time.Time{})
	server.Put("bucket", "x/2", []byte("2"), time.Time{})
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	store, prefix, err := OpenURL(context.Background(), "gs://bucket/x/", WithPageSize(1),
		WithClientOptions(option.WithEndpoint(server.URL()+"/storage/v1/"), option.WithoutAuthentication()))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if got := storetest.Keys(storetest.List(t, store, prefix)); !slices.Equal(got, []string{"x/1", "x/2"}) {
		t.Errorf("List = %q", got)
	}
	if err := store.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestOpenURLBadURL(t *testing.T) {
	// No client is built (so no credentials are looked for) for a URL
	// that does not parse.
	_, _, err := OpenURL(context.Background(), "gs://Bad/x")
	var ue *URLError
	if !errors.As(err, &ue) {
		t.Errorf("OpenURL(bad URL) = %v, want a *URLError", err)
	}
}
