package pebblestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

func TestStorePersists(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	e, _, err := openEngine(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, e, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "2")), accept)
	wantChanges(t, got, "u1: a=1", "u2: a=2")

	// A second engine on the same directory is refused while the first is open.
	if _, err := Open(ctx, dir); !errors.Is(err, diff.ErrScopeLocked) {
		t.Errorf("second Open: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e, _, err = openEngine(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got = run(t, e, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "3")), accept, diff.WithMode(diff.FullSnapshot))
	wantChanges(t, got, "u2: a=3")
	got = run(t, e, "s", recs(rec("u1", "a", "1")), accept, diff.WithMode(diff.FullSnapshot))
	wantChanges(t, got, "u2: a=<nil>")
	got = run(t, e, "s", recs(rec("u1", "a", "1")), accept, diff.WithMode(diff.FullSnapshot))
	wantChanges(t, got)
}

func TestCorruptedFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state.db")
	e, _, err := openEngine(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, e, "s", recs(rec("u1", "a", "1")), accept)
	e.Close()
	// Damage every file of the store, the way a bad disk or a stray write would.
	entries, _ := os.ReadDir(dir)
	for _, ent := range entries {
		if ent.IsDir() || ent.Name() == "LOCK" {
			continue
		}
		p := filepath.Join(dir, ent.Name())
		b, _ := os.ReadFile(p)
		for i := range b {
			b[i] ^= 0x5a
		}
		os.WriteFile(p, b, 0o600)
	}
	e, _, err = openEngine(dir, nil)
	if err == nil {
		e.Close()
		t.Fatal("corrupted store opened")
	}
	if !errors.Is(err, diff.ErrCorrupt) || !strings.Contains(err.Error(), dir) {
		t.Errorf("error does not name the store: %v", err)
	}
	t.Logf("corrupted store: %v", err)
}

func TestNotADatabase(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.db")
	os.WriteFile(p, []byte("not a database"), 0o600)
	if _, err := Open(context.Background(), p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("file instead of directory: %v", err)
	}
}
