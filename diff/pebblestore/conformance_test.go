package pebblestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
)

// TestConformance runs the store conformance suite of diff/storetest on
// pebble: the store contract, persistence across a close and reopen, and
// the plan-level tests (crash points, random snapshots, Close with a plan
// open).
func TestConformance(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T) diff.Store {
		s, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"), WithCacheSize(4<<20))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.WithReopen(func(t *testing.T, closed diff.Store) diff.Store {
		s, err := Open(ctx, closed.(*Store).Dir(), WithCacheSize(4<<20))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}))
}

// TestOpenEngine: the one-call open gives an engine that owns the store
// (its Close releases the directory), passes the store options through
// (read-only: nothing is created), and closes the store again when the
// engine cannot be created, so the directory is not left locked.
func TestOpenEngine(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	e, err := OpenEngine(ctx, dir, nil, diff.WithAckBatch(10))
	if err != nil {
		t.Fatal(err)
	}
	wantChanges(t, run(t, e, "s", storetest.Numbered(3, 1), accept), "u0000: a=1 b=same", "u0001: a=1 b=same", "u0002: a=1 b=same")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = OpenEngine(ctx, dir, []Option{ReadOnly()})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.ScopeKeys(ctx, "s"); n != 3 || err != nil {
		t.Errorf("read-only engine: ScopeKeys = %d, %v; want 3", n, err)
	}
	e.Close()

	// A state this package did not write: the engine refuses it, and the
	// store is closed again.
	other := filepath.Join(t.TempDir(), "other.db")
	s, err := Open(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, []diff.Op{{Key: []byte("\x03not ours"), Value: []byte("x")}}, true); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenEngine(ctx, other, nil); !errors.Is(err, diff.ErrUnsupportedVersion) {
		t.Fatalf("OpenEngine on unversioned data: %v", err)
	}
	s, err = Open(ctx, other)
	if err != nil {
		t.Fatalf("the directory stayed locked after OpenEngine failed: %v", err)
	}
	s.Close()

	// Read-only on a directory that does not exist: an empty store, and
	// nothing created.
	none := filepath.Join(t.TempDir(), "none.db")
	e, err = OpenEngine(ctx, none, []Option{ReadOnly()})
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, e, "s", storetest.Numbered(2, 1), accept, diff.WithDryRun()); len(got) != 2 {
		t.Errorf("dry run on no state planned %d", len(got))
	}
	e.Close()
	if _, err := os.Stat(none); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only open created the directory: %v", err)
	}
}

// TestRegression_ReadOnlyEmptyDirCreatesNoFile: a dry run on a state
// directory that exists but holds no state yet (created by hand, or by a
// deployment) left a pebble LOCK file in it: with no ampbraze.lock to hold,
// pebble's own lock was taken, and taking it creates the file. It now
// plans against an empty state and leaves the directory empty.
func TestRegression_ReadOnlyEmptyDirCreatesNoFile(t *testing.T) {
	ctx := context.Background()
	empty := t.TempDir()
	e, err := OpenEngine(ctx, empty, []Option{ReadOnly()})
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, e, "s", storetest.Numbered(2, 1), accept, diff.WithDryRun()); len(got) != 2 {
		t.Errorf("dry run on an empty directory planned %d", len(got))
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close of an empty read-only store: %v", err)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("a read-only open wrote into an empty directory: %v", ents)
	}
}
