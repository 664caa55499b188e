package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ampbraze/ampbraze/braze/brazetest"
)

var update = flag.Bool("update", false, "rewrite testdata/output.golden")

// TestQuickstart runs the whole quickstart against the in-process fake and
// compares its output, which the README shows, with the golden file.
func TestQuickstart(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d, stderr:\n%s", code, stderr.String())
	}
	golden := filepath.Join("testdata", "output.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update if intended):\n%s", golden, stdout.String())
	}
}

// TestLive runs -live against a Braze endpoint given by the environment (a
// fake one here), as a user with a real workspace would.
func TestLive(t *testing.T) {
	srv := brazetest.NewServer(t)
	t.Setenv("BRAZE_API_KEY", srv.APIKey())
	t.Setenv("BRAZE_REST_ENDPOINT", srv.URL)
	t.Setenv("BRAZE_INSTANCE", "")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-live"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run -live = %d, stderr:\n%s", code, stderr.String())
	}
	if got := len(srv.Users()); got != 9 {
		t.Errorf("the endpoint has %d users, want 9", got)
	}
	for _, want := range []string{"Braze: braze", "sent 8 users", "sent 3 users"} {
		if !bytes.Contains(stdout.Bytes(), []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	if bytes.Contains(stdout.Bytes(), []byte(srv.APIKey())) {
		t.Error("the API key appears in the output")
	}
}

func TestLiveNeedsCredentials(t *testing.T) {
	t.Setenv("BRAZE_API_KEY", "")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-live"}, &stdout, &stderr); code != 1 {
		t.Fatalf("run -live without a key = %d, want 1", code)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("BRAZE_API_KEY")) {
		t.Errorf("stderr does not name the missing variable: %s", stderr.String())
	}
}

func TestBadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-nope"}, &stdout, &stderr); code != 2 {
		t.Fatalf("run -nope = %d, want 2", code)
	}
}
