package pebblestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// faultSwitch injects errno into the file operations it matches, once on.
type faultSwitch struct {
	on    atomic.Bool
	errno syscall.Errno
	match func(errorfs.Op) bool
	hits  atomic.Int64
}

func (f *faultSwitch) String() string { return "faultSwitch(" + f.errno.Error() + ")" }

func (f *faultSwitch) MaybeError(op errorfs.Op) error {
	if f.on.Load() && f.match(op) {
		f.hits.Add(1)
		return &os.PathError{Op: "injected", Path: op.Path, Err: f.errno}
	}
	return nil
}

func writes(op errorfs.Op) bool { return op.Kind.ReadOrWrite() == errorfs.OpIsWrite }

func sstReads(op errorfs.Op) bool {
	return op.Kind == errorfs.OpFileReadAt && strings.HasSuffix(op.Path, ".sst")
}

func sstWrites(op errorfs.Op) bool {
	return writes(op) && strings.HasSuffix(op.Path, ".sst")
}

func openFaulty(t *testing.T, dir string, f *faultSwitch) (*Store, error) {
	t.Helper()
	return Open(context.Background(), dir, WithCacheSize(1<<20), withFS(errorfs.Wrap(vfs.Default, f)))
}

// within fails the test if fn does not return within d: a store failure
// must be an error within seconds, never a hang.
func within[T any](t *testing.T, d time.Duration, what string, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
		panic("unreachable")
	}
}

func userOps(from, n int, val string) []diff.Op {
	ops := make([]diff.Op, 0, n)
	for i := from; i < from+n; i++ {
		ops = append(ops, diff.Op{Key: fmt.Appendf(nil, "\x03k%06d", i), Value: []byte(val)})
	}
	return ops
}

// TestRegression_Issue14_FullDiskWrite: ENOSPC on the WAL write used to
// panic through pebble's Fatalf while pebble held its commit lock, and the
// deferred Close then deadlocked. Now Apply returns an error naming the
// failure (diff.ErrDiskFull; EIO is diff.ErrStoreIO, EACCES diff.ErrPermission), every
// later call fails fast with it, and Close returns.
func TestRegression_Issue14_FullDiskWrite(t *testing.T) {
	for _, c := range []struct {
		errno syscall.Errno
		kind  error
	}{
		{syscall.ENOSPC, diff.ErrDiskFull},
		{syscall.EIO, diff.ErrStoreIO},
		{syscall.EACCES, diff.ErrPermission},
	} {
		t.Run(c.errno.Error(), func(t *testing.T) {
			ctx := context.Background()
			dir := filepath.Join(t.TempDir(), "state.db")
			f := &faultSwitch{errno: c.errno, match: writes}
			s, err := openFaulty(t, dir, f)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Apply(ctx, userOps(0, 100, "v1"), true); err != nil {
				t.Fatal(err)
			}
			f.on.Store(true)
			err = within(t, 10*time.Second, "a failing Apply", func() error { return s.Apply(ctx, userOps(100, 100, "v1"), true) })
			if !errors.Is(err, c.kind) || !errors.Is(err, diff.ErrStoreIO) || !errors.Is(err, c.errno) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("Apply failing with %v: %v", c.errno, err)
			}
			if c.kind != diff.ErrDiskFull && errors.Is(err, diff.ErrDiskFull) {
				t.Errorf("%v reported as a full disk: %v", c.errno, err)
			}
			t.Logf("%v", err)
			for _, call := range []func() error{
				func() error { return s.Apply(ctx, userOps(0, 1, "x"), false) },
				func() error { _, _, err := s.Get(ctx, []byte("\x03k000001"), nil); return err },
				func() error { return s.Scan(ctx, nil, func(k, v []byte) error { return nil }) },
			} {
				if err := within(t, time.Second, "a call on a broken store", call); !errors.Is(err, c.kind) {
					t.Errorf("later call: %v", err)
				}
			}
			within(t, closeWait+5*time.Second, "Close of a broken store", s.Close)
		})
	}
}

// TestRegression_Issue14_FullDiskEngineCommit: the same through an engine:
// a plan's Commit on a full disk ends with an error matching diff.ErrDiskFull.
func TestRegression_Issue14_FullDiskEngineCommit(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	f := &faultSwitch{errno: syscall.ENOSPC, match: writes}
	s, err := openFaulty(t, dir, f)
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, s, diff.WithAckBatch(10))
	p, err := e.Plan(ctx, "s", storetest.Numbered(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	f.on.Store(true)
	err = within(t, 20*time.Second, "a plan on a full disk", func() error {
		for ch, err := range p.Changes() {
			if err != nil {
				return err
			}
			if err := p.Ack(ch, nil); err != nil {
				return err
			}
		}
		return p.Commit(ctx)
	})
	if !errors.Is(err, diff.ErrDiskFull) {
		t.Fatalf("plan on a full disk: %v", err)
	}
	within(t, closeWait+5*time.Second, "Engine.Close", e.Close)
}

// TestRegression_Issue14_FullDiskOpen: a state whose WAL must be flushed
// at Open, on a disk where sstables cannot be written: pebble retries the
// flush forever and Open used to hang with the errors swallowed. Now Open
// fails within seconds with an error matching diff.ErrDiskFull.
func TestRegression_Issue14_FullDiskOpen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	f := &faultSwitch{errno: syscall.ENOSPC, match: sstWrites}
	s, err := openFaulty(t, dir, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, userOps(0, 1000, "v1"), true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f.on.Store(true)
	err = within(t, 20*time.Second, "Open on a full disk", func() error {
		s, err := openFaulty(t, dir, f)
		if err == nil {
			s.Close()
		}
		return err
	})
	if !errors.Is(err, diff.ErrDiskFull) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open on a full disk: %v (%d faults injected)", err, f.hits.Load())
	}
	t.Logf("open on a full disk: %v", err)
}

// TestRegression_Issue14_ReadEIO: EIO reading the state is an error
// matching diff.ErrStoreIO naming the state, not a panic and not a miss.
func TestRegression_Issue14_ReadEIO(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	f := &faultSwitch{errno: syscall.EIO, match: sstReads}
	s, err := openFaulty(t, dir, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, userOps(0, 1000, "v1"), true); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = openFaulty(t, dir, f)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f.on.Store(true)
	_, ok, err := s.Get(ctx, []byte("\x03k000500"), nil)
	if !errors.Is(err, diff.ErrStoreIO) || !errors.Is(err, syscall.EIO) || errors.Is(err, diff.ErrDiskFull) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Get with EIO: ok %v, %v", ok, err)
	}
	t.Logf("read EIO: %v", err)
	if err := s.Scan(ctx, []byte{keyUser}, func(k, v []byte) error { return nil }); !errors.Is(err, diff.ErrStoreIO) {
		t.Errorf("Scan after EIO: %v", err)
	}
}

// TestRegression_Issue14_ChecksumMismatch: a damaged sstable block used to
// panic (pebble's Fatalf through diff's logger). Now reading it is an error
// matching diff.ErrCorrupt that names the file and says what to do.
func TestRegression_Issue14_ChecksumMismatch(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	e, ps, err := openEngine(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, e, "s", storetest.Numbered(2000, 1), accept)
	if err := ps.db.Flush(); err != nil {
		t.Fatal(err)
	}
	e.Close()
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no sstable written")
	}
	for _, p := range ssts {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[100] ^= 0xff // inside the first data block
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e, ps, err = openEngine(dir, nil)
	if err == nil {
		defer e.Close()
		err = within(t, 10*time.Second, "reading a damaged state", func() error {
			return ps.Scan(ctx, nil, func(k, v []byte) error { return nil })
		})
	}
	if !errors.Is(err, diff.ErrCorrupt) || !strings.Contains(err.Error(), ".sst") || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("damaged sstable: %v", err)
	}
	t.Logf("damaged sstable: %v", err)
}

// TestRegression_Issue14_PermissionDenied: a state directory this user
// cannot write used to be reported as "locked by another writer". Now the
// error matches diff.ErrPermission, not diff.ErrScopeLocked. As root (who is never
// denied), the test runs itself as the user nobody.
func TestRegression_Issue14_PermissionDenied(t *testing.T) {
	if dir := os.Getenv("DIFF_PERM_CHILD"); dir != "" {
		_, err := Open(context.Background(), dir)
		fmt.Printf("permission %v locked %v: %v\n", errors.Is(err, diff.ErrPermission), errors.Is(err, diff.ErrScopeLocked), err)
		return
	}
	base, err := os.MkdirTemp("", "pebblestore-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	os.Chmod(base, 0o755)
	dir := filepath.Join(base, "state.db")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	var out string
	if os.Geteuid() != 0 {
		_, err := Open(context.Background(), dir)
		out = fmt.Sprintf("permission %v locked %v: %v", errors.Is(err, diff.ErrPermission), errors.Is(err, diff.ErrScopeLocked), err)
	} else {
		// Copy the test binary where nobody can run it.
		bin := filepath.Join(base, "pebblestore.test")
		b, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestRegression_Issue14_PermissionDenied$", "-test.count=1")
		cmd.Env = append(os.Environ(), "DIFF_PERM_CHILD="+dir)
		asNobody(t, cmd)
		o, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child as nobody: %v\n%s", err, o)
		}
		out = string(o)
	}
	if !strings.Contains(out, "permission true locked false") || !strings.Contains(out, dir) {
		t.Fatalf("unwritable state directory: %s", out)
	}
	t.Log(strings.SplitN(out, "\n", 2)[0])
}

// TestRegression_Issue14_TinyFilesystem syncs on a real 2 MiB tmpfs: the
// sync ends with an error matching diff.ErrDiskFull within 30 s, and Close
// returns. The store refuses writes below WithMinFreeSpace (32 MiB by
// default) before pebble meets the full disk: with the check off, a
// failed rotation of pebble's write-ahead log sometimes ended the test
// process with a Go fatal error ("unlock of unlocked mutex", seen once in
// CI). It needs mount(2) (root); elsewhere it is skipped, saying so.
func TestRegression_Issue14_TinyFilesystem(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot mount a tmpfs (CI is set; CI runs as root): %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (needs root and mount permission): %v %s; the errorfs tests cover the same paths", err, out)
	}
	defer exec.Command("umount", "-l", mnt).Run()
	ctx := context.Background()
	dir := filepath.Join(mnt, "state.db")
	start := time.Now()
	err := within(t, 30*time.Second, "a sync on a full filesystem", func() error {
		e, _, err := openEngine(dir, nil, diff.WithAckBatch(500))
		if err != nil {
			return err
		}
		defer e.Close()
		for round := 1; ; round++ {
			p, err := e.Plan(ctx, "s", storetest.Numbered(20000, round))
			if err != nil {
				return err
			}
			for ch, err := range p.Changes() {
				if err != nil {
					p.Close()
					return err
				}
				if err := p.Ack(ch, nil); err != nil {
					p.Close()
					return err
				}
			}
			if err := p.Commit(ctx); err != nil {
				return err
			}
		}
	})
	if !errors.Is(err, diff.ErrDiskFull) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("full filesystem: %v", err)
	}
	t.Logf("full filesystem after %v: %v", time.Since(start).Round(time.Millisecond), err)
	// The state is still usable once there is room again (here: refused or
	// opened, never a hang or a panic).
	within(t, 30*time.Second, "reopening after the disk filled", func() error {
		s, err := Open(ctx, dir)
		if err == nil {
			s.Close()
		}
		t.Logf("reopen on the full filesystem: %v", err)
		return nil
	})
}

// TestRegression_Issue14_WALWriteFails: a failed write of the WAL makes
// pebble's next commit panic while it holds its commit lock (pebble's own
// Close would then wait for that lock forever). The panic is an error
// matching diff.ErrDiskFull, later calls fail at once, and Close returns.
func TestRegression_Issue14_WALWriteFails(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state.db")
	f := &faultSwitch{errno: syscall.ENOSPC, match: func(op errorfs.Op) bool {
		return op.Kind == errorfs.OpFileWrite && strings.HasSuffix(op.Path, ".log")
	}}
	s, err := openFaulty(t, dir, f)
	if err != nil {
		t.Fatal(err)
	}
	f.on.Store(true)
	err = within(t, 10*time.Second, "writes after the WAL failed", func() error {
		for i := range 1000 {
			if err := s.Apply(ctx, userOps(i*10, 10, "v"), false); err != nil {
				return err
			}
			time.Sleep(time.Millisecond) // let pebble's WAL writer hit the fault
		}
		return nil
	})
	if !errors.Is(err, diff.ErrDiskFull) {
		t.Fatalf("writes after the WAL failed: %v (%d faults)", err, f.hits.Load())
	}
	t.Logf("WAL write failed: %v", err)
	if err := s.Apply(ctx, userOps(0, 1, "x"), true); !errors.Is(err, diff.ErrDiskFull) {
		t.Errorf("a later write: %v", err)
	}
	start := time.Now()
	within(t, closeWait+5*time.Second, "Close after a failed WAL write", s.Close)
	t.Logf("Close returned after %v", time.Since(start).Round(time.Millisecond))
}
