package diff

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPebbleStorePersists(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	e, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := run(t, e, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "2")), accept)
	wantChanges(t, got, "u1: a=1", "u2: a=2")

	// A second engine on the same directory is refused while the first is open.
	if _, err := Open(ctx, dir); !errors.Is(err, ErrScopeLocked) {
		t.Errorf("second Open: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "3")), accept, WithMode(FullSnapshot))
	wantChanges(t, got, "u2: a=3")
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1")), accept, WithMode(FullSnapshot))
	wantChanges(t, got, "u2: a=<nil>")
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1")), accept, WithMode(FullSnapshot))
	wantChanges(t, got)
}

func TestVersionRefused(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	store.Apply(ctx, []Op{{Key: metaVersionKey, Value: []byte("ampbraze-diff-state/99")}}, true)
	_, err := NewEngine(ctx, store)
	var ve *VersionError
	if !errors.Is(err, ErrUnsupportedVersion) || !errors.As(err, &ve) || ve.Found != "ampbraze-diff-state/99" {
		t.Errorf("future version: %v", err)
	}

	store = NewMemoryStore()
	store.Apply(ctx, []Op{{Key: []byte("somebody else's key"), Value: []byte("x")}}, true)
	if _, err := NewEngine(ctx, store); !errors.Is(err, ErrUnsupportedVersion) || !strings.Contains(err.Error(), "unversioned") {
		t.Errorf("unversioned data: %v", err)
	}

	// A state value of an unknown format is reported, not misread.
	store = NewMemoryStore()
	e := newTestEngine(t, store)
	run(t, e, "s", recs(rec("u1", "a", "1")), accept)
	store.Apply(ctx, []Op{{Key: userKey(nil, 1, "u1"), Value: []byte{9, 0}}}, true)
	_, errs, _ := run(t, e, "s", recs(rec("u1", "a", "1")), accept)
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnsupportedVersion) {
		t.Errorf("value of version 9: %v", errs)
	}
	store.Apply(ctx, []Op{{Key: userKey(nil, 1, "u1"), Value: []byte{1, 5, 1}}}, true)
	_, errs, _ = run(t, e, "s", recs(rec("u1", "a", "1")), accept)
	if len(errs) != 1 || !errors.Is(errs[0], ErrCorrupt) || !strings.Contains(errs[0].Error(), `"u1"`) {
		t.Errorf("truncated value: %v", errs)
	}
}

func TestPebbleCorruptedFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	e, err := Open(ctx, dir)
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
	e, err = Open(ctx, dir)
	if err == nil {
		e.Close()
		t.Fatal("corrupted store opened")
	}
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), dir) {
		t.Errorf("error does not name the store: %v", err)
	}
	t.Logf("corrupted store: %v", err)
}

func TestPebbleStoreNotADatabase(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.db")
	os.WriteFile(p, []byte("not a database"), 0o600)
	if _, err := Open(context.Background(), p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("file instead of directory: %v", err)
	}
}
