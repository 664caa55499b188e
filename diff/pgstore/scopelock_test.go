package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestScopeLock: a scope locked through one Store cannot be locked
// through another on the same tables until it is unlocked; other scopes
// and other tables are independent.
func TestScopeLock(t *testing.T) {
	schema := testSchema(t)
	ctx := context.Background()
	s1, s2 := openTestStore(t, schema), openTestStore(t, schema)
	other := openTestStore(t, schema, WithTable("other_state"))
	unlock, err := s1.LockScope(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s2.LockScope(ctx, "users")
	var se *diff.StoreError
	if !errors.Is(err, diff.ErrScopeLocked) || !errors.As(err, &se) || se.Hint == "" {
		t.Fatalf("second LockScope of a held scope = %v; want a *diff.StoreError matching ErrScopeLocked", err)
	}
	// The same Store is another session too: a second plan in the same
	// process is refused as well.
	if _, err := s1.LockScope(ctx, "users"); !errors.Is(err, diff.ErrScopeLocked) {
		t.Fatalf("LockScope of a held scope through the holding Store = %v; want ErrScopeLocked", err)
	}
	u2, err := s2.LockScope(ctx, "events")
	if err != nil {
		t.Fatalf("another scope: %v", err)
	}
	u3, err := other.LockScope(ctx, "users")
	if err != nil {
		t.Fatalf("the same scope on another table: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("second unlock: %v", err)
	}
	u4, err := s2.LockScope(ctx, "users")
	if err != nil {
		t.Fatalf("LockScope after unlock: %v", err)
	}
	for _, u := range []func() error{u2, u3, u4} {
		if err := u(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScopeLockLostWithSession: when the holder's session ends
// (pg_terminate_backend here; a killed process or a broken connection
// alike) the lock is free for another Store, and the holder's unlock
// reports that it had lost it.
func TestScopeLockLostWithSession(t *testing.T) {
	schema := testSchema(t)
	ctx := context.Background()
	s1, s2 := openTestStore(t, schema), openTestStore(t, schema)
	unlock, err := s1.LockScope(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	key := lockKey("scope", s1.lockNS, "users")
	// pg_locks splits a bigint advisory key into classid (high 32 bits)
	// and objid (low 32 bits); objsubid 1 marks a bigint key.
	pgtest.Exec(t, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted
		AND ((classid::bigint << 32) | objid::bigint) = $1`, key)
	deadline := time.Now().Add(10 * time.Second)
	var u2 func() error
	for {
		u2, err = s2.LockScope(ctx, "users")
		if err == nil {
			break
		}
		if !errors.Is(err, diff.ErrScopeLocked) || time.Now().After(deadline) {
			t.Fatalf("LockScope after the holder's session was terminated = %v; want the lock", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer u2()
	if err := unlock(); !errors.Is(err, ErrLockLost) || !errors.Is(err, diff.ErrStoreIO) {
		t.Fatalf("unlock of a lost lock = %v; want ErrLockLost", err)
	}
}

// TestScopeLockReleasedByClose: Close releases the locks still held.
func TestScopeLockReleasedByClose(t *testing.T) {
	schema := testSchema(t)
	ctx := context.Background()
	s1, s2 := openTestStore(t, schema), openTestStore(t, schema)
	if _, err := s1.LockScope(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	u, err := s2.LockScope(ctx, "users")
	if err != nil {
		t.Fatalf("LockScope after the holder's Close: %v", err)
	}
	u()
	// Nothing of the lock is left on the server.
	var n int
	conn, err := pgx.Connect(ctx, needPG(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1", lockKey("scope", s2.lockNS, "users")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d advisory locks left after unlock", n)
	}
}
