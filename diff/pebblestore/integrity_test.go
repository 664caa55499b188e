package pebblestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
)

// syncedState writes a state of n users into a new store at dir (three
// runs, so there are sstables, WAL records and several generations) and
// closes it.
func syncedState(t *testing.T, dir string, n int, flush bool) {
	t.Helper()
	e, s, err := openEngine(dir, nil, diff.WithAckBatch(100))
	if err != nil {
		t.Fatal(err)
	}
	run(t, e, "s", storetest.Numbered(n, 1), accept, unlimited...)
	if flush {
		if err := s.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	run(t, e, "s", storetest.Numbered(n, 2), accept, unlimited...)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// replanned opens dir and counts the changes a re-sync of version v
// plans: 0 when the state was kept.
func replanned(t *testing.T, dir string, n, v int, opts ...Option) int {
	t.Helper()
	e, _, err := openEngine(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got := run(t, e, "s", storetest.Numbered(n, v), accept, with(diff.WithDryRun())...)
	return len(got)
}

func removeGlob(t *testing.T, pattern string) {
	t.Helper()
	ms, _ := filepath.Glob(pattern)
	if len(ms) == 0 {
		t.Fatalf("nothing matches %s", pattern)
	}
	for _, m := range ms {
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
}

func wantStateLost(t *testing.T, dir string) {
	t.Helper()
	e, _, err := openEngine(dir, nil)
	if err == nil {
		n := run(t, e, "s", storetest.Numbered(300, 2), accept, with(diff.WithDryRun())...)
		e.Close()
		t.Fatalf("damaged state opened (a re-sync plans %d changes)", len(n))
	}
	if !errors.Is(err, diff.ErrCorrupt) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("damaged state: %v", err)
	}
	t.Logf("refused: %v", err)
}

// TestRegression_Issue14_StateNeverComesBackEmpty: damage that made the
// state open as empty (exit 0, everything sent again as new, removals lost)
// is refused with an error matching diff.ErrCorrupt (diff.ErrStateLost) naming the
// directory and the reset option; WithResetState accepts it.
func TestRegression_Issue14_StateNeverComesBackEmpty(t *testing.T) {
	cases := []struct {
		name   string
		flush  bool
		damage func(t *testing.T, dir string)
	}{
		{"manifest marker deleted", true, func(t *testing.T, dir string) {
			removeGlob(t, filepath.Join(dir, "marker.manifest.*"))
		}},
		{"manifest and marker deleted", true, func(t *testing.T, dir string) {
			removeGlob(t, filepath.Join(dir, "marker.manifest.*"))
			removeGlob(t, filepath.Join(dir, "MANIFEST-*"))
		}},
		{"manifest garbled", true, func(t *testing.T, dir string) {
			ms, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
			for _, m := range ms {
				b, _ := os.ReadFile(m)
				for i := range b {
					b[i] ^= 0x5a
				}
				os.WriteFile(m, b, 0o600)
			}
		}},
		{"state only in deleted WAL files", false, func(t *testing.T, dir string) {
			removeGlob(t, filepath.Join(dir, "*.log"))
		}},
		{"last WAL truncated", true, func(t *testing.T, dir string) {
			logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
			sort.Strings(logs)
			last := logs[len(logs)-1]
			fi, _ := os.Stat(last)
			if fi.Size() < 200 {
				t.Fatalf("last WAL %s holds %d bytes", last, fi.Size())
			}
			if err := os.Truncate(last, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by another state", true, func(t *testing.T, dir string) {
			tmp := t.TempDir()
			other := filepath.Join(tmp, "other.db")
			syncedState(t, other, 10, true)
			keep := filepath.Join(tmp, "sentinel")
			for _, err := range []error{
				os.Rename(filepath.Join(dir, sentinelFileName), keep),
				os.RemoveAll(dir),
				os.Rename(other, dir),
				os.Rename(keep, filepath.Join(dir, sentinelFileName)),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state.db")
			syncedState(t, dir, 300, c.flush)
			c.damage(t, dir)
			wantStateLost(t, dir)
			e, _, err := openEngine(dir, nil)
			if err == nil {
				e.Close()
			}
			if !errors.Is(err, diff.ErrStateLost) || !strings.Contains(err.Error(), "WithResetState") {
				// Garbled data is diff.ErrCorrupt from pebble itself, which no
				// reset can open: restoring a backup is the way out.
				if !errors.Is(err, diff.ErrCorrupt) {
					t.Fatalf("not ErrCorrupt: %v", err)
				}
				return
			}
			// Accepting the loss: the state as pebble has it, and it stays
			// accepted at the next Open.
			e, _, err = openEngine(dir, []Option{WithResetState()})
			if err != nil {
				t.Fatalf("reset: %v", err)
			}
			e.Close()
			e, _, err = openEngine(dir, nil)
			if err != nil {
				t.Fatalf("open after reset: %v", err)
			}
			e.Close()
		})
	}
}

// TestRegression_Issue14_ResetState: WithResetState accepts a lost state
// and records it; the next Open, without the option, opens it.
func TestRegression_Issue14_ResetState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state.db")
	syncedState(t, dir, 300, false)
	removeGlob(t, filepath.Join(dir, "*.log")) // the whole state was there
	wantStateLost(t, dir)
	var logs bytes.Buffer
	if n := replanned(t, dir, 300, 2, WithResetState(), WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))); n != 300 {
		t.Errorf("after reset a re-sync plans %d changes, want all 300", n)
	}
	if n := replanned(t, dir, 300, 2); n != 300 {
		t.Errorf("reopened after reset: %d changes", n)
	}
	if !strings.Contains(logs.String(), "reset") {
		t.Errorf("no log line about the reset: %s", logs.String())
	}
}

// TestSentinelDeletedIsRecreated: a deleted sentinel beside an intact
// state loses nothing: the state opens whole and the sentinel is back.
func TestSentinelDeletedIsRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state.db")
	syncedState(t, dir, 300, true)
	sp := filepath.Join(dir, sentinelFileName)
	if err := os.Remove(sp); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if n := replanned(t, dir, 300, 2, WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))); n != 0 {
		t.Errorf("a re-sync of the same input plans %d changes", n)
	}
	if _, err := os.Stat(sp); err != nil {
		t.Errorf("sentinel not re-created: %v", err)
	}
	if !strings.Contains(logs.String(), "re-created") {
		t.Errorf("no log line: %s", logs.String())
	}
	// And it protects again.
	removeGlob(t, filepath.Join(dir, "marker.manifest.*"))
	wantStateLost(t, dir)
}

// TestRegression_Issue14_LockFileRemoved: deleting the lock files while a
// run goes on used to admit a second writer. The store's lock file is
// never re-created by the store; the first writer's next write fails with
// diff.ErrScopeLocked ("lock file removed") and writes nothing more.
func TestRegression_Issue14_LockFileRemoved(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	e1, s1, err := openEngine(dir, nil, diff.WithAckBatch(10))
	if err != nil {
		t.Fatal(err)
	}
	defer e1.Close()
	if _, err := Open(ctx, dir); !errors.Is(err, diff.ErrScopeLocked) {
		t.Fatalf("second Open while the first holds the lock: %v", err)
	}
	p, err := e1.Plan(ctx, "s", storetest.Numbered(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, name := range []string{lockFileName, "LOCK"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A second writer now gets in (in another process; in this one pebble's
	// own in-process lock still refuses it).
	if s2, err := Open(ctx, dir); err == nil {
		s2.Close()
	} else if !errors.Is(err, diff.ErrScopeLocked) {
		t.Errorf("second writer after the lock file was removed: %v", err)
	}
	var ackErr error
	for ch, err := range p.Changes() {
		if err != nil {
			ackErr = err
			break
		}
		if err := p.Ack(ch, nil); err != nil {
			ackErr = err
			break
		}
	}
	if ackErr == nil {
		ackErr = p.Commit(ctx)
	}
	if !errors.Is(ackErr, diff.ErrScopeLocked) || !strings.Contains(ackErr.Error(), "lock file removed") {
		t.Fatalf("writing after the lock file was removed: %v", ackErr)
	}
	t.Logf("writer stopped: %v", ackErr)
	// It stays stopped.
	if err := s1.Apply(ctx, []diff.Op{{Key: []byte{keyUser, 'x'}, Value: []byte{1}}}, true); !errors.Is(err, diff.ErrScopeLocked) {
		t.Errorf("a later write: %v", err)
	}
}

// hashDir returns the name, size and SHA-256 of every file under dir.
func hashDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %x\n", strings.TrimPrefix(p, dir), len(data), sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRegression_Issue14_DryRunChangesNoFile: a dry run (read-only open,
// scans, a plan, Commit, Close) leaves every file of the state directory
// as it was (pebble used to delete .sst files during a dry run), plans a
// scope that does not exist as empty without creating it, and refuses
// writes with diff.ErrReadOnly.
func TestRegression_Issue14_DryRunChangesNoFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	// A state with sstables, obsolete files pebble would collect, and
	// unflushed WAL records pebble would flush at a writable open.
	e, s, err := openEngine(dir, nil, diff.WithAckBatch(50))
	if err != nil {
		t.Fatal(err)
	}
	run(t, e, "s", storetest.Numbered(500, 1), accept, unlimited...)
	s.db.Flush()
	run(t, e, "s", storetest.Numbered(500, 2), accept, with(diff.WithMode(diff.FullSnapshot))...)
	s.db.Flush()
	run(t, e, "s", storetest.Numbered(300, 3), accept, with(diff.WithMode(diff.FullSnapshot))...)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	before := hashDir(t, dir)

	e, s, err = openEngine(dir, []Option{ReadOnly()})
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, e, "s", storetest.Numbered(300, 4), accept, with(diff.WithDryRun(), diff.WithMode(diff.FullSnapshot))...)
	if len(got) != 300 {
		t.Errorf("dry run planned %d changes, want 300", len(got))
	}
	got = run(t, e, "new scope", storetest.Numbered(10, 1), accept, with(diff.WithDryRun())...)
	if len(got) != 10 {
		t.Errorf("dry run of a new scope planned %d changes, want 10", len(got))
	}
	// The scope's id would be under 0x01 and its name (diff's state.go).
	if _, ok, err := s.Get(ctx, append([]byte{0x01}, "new scope"...), nil); ok || err != nil {
		t.Errorf("a read-only plan created its scope: %v %v", ok, err)
	}
	if err := s.Apply(ctx, []diff.Op{{Key: []byte{keyUser}, Value: []byte{1}}}, true); !errors.Is(err, diff.ErrReadOnly) {
		t.Errorf("write on a read-only engine: %v", err)
	}
	// Two read-only engines may share the state; a writer may not join.
	s2, err := Open(ctx, dir, ReadOnly())
	if err != nil {
		t.Errorf("second read-only Open: %v", err)
	} else {
		s2.Close()
	}
	if _, err := Open(ctx, dir); !errors.Is(err, diff.ErrScopeLocked) {
		t.Errorf("writer while a dry run reads: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if after := hashDir(t, dir); after != before {
		t.Errorf("a dry run changed the state directory:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The state is still whole for a writer.
	if n := replanned(t, dir, 300, 3); n != 0 {
		t.Errorf("after the dry run a re-sync of the last input plans %d changes", n)
	}

	// No state yet: nothing is created.
	none := filepath.Join(t.TempDir(), "none.db")
	e, _, err = openEngine(none, []Option{ReadOnly()})
	if err != nil {
		t.Fatal(err)
	}
	got = run(t, e, "s", storetest.Numbered(5, 1), accept, with(diff.WithDryRun())...)
	e.Close()
	if len(got) != 5 {
		t.Errorf("dry run on no state planned %d", len(got))
	}
	if _, err := os.Stat(none); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run created the state directory: %v", err)
	}
}

// TestSentinelTornSlot: a write of the sentinel torn by a crash damages one
// of its two records; the other, one generation behind, still opens the
// state. Both damaged is refused (diff.ErrStateLost), as a loss cannot be ruled
// out then.
func TestSentinelTornSlot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state.db")
	syncedState(t, dir, 50, false)
	sp := filepath.Join(dir, sentinelFileName)
	b, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseSentinel(b)
	if err != nil || s.gen < 2 {
		t.Fatalf("sentinel %+v: %v", s, err)
	}
	torn := bytes.Clone(b)
	copy(torn[(s.gen%2)*sentinelSlot+40:], "\x00\x00\x00\x00") // the latest record
	if err := os.WriteFile(sp, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := replanned(t, dir, 50, 2); n != 0 {
		t.Errorf("with one record torn a re-sync plans %d changes", n)
	}
	b, _ = os.ReadFile(sp)
	for i := range b {
		b[i] ^= 0x20
	}
	os.WriteFile(sp, b, 0o600)
	_, err = Open(context.Background(), dir)
	if !errors.Is(err, diff.ErrStateLost) || !strings.Contains(err.Error(), sp) {
		t.Fatalf("both records damaged: %v", err)
	}
}
