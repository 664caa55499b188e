package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
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
