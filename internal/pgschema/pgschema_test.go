package pgschema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func testSpec(t *testing.T, pool *pgxpool.Pool) Spec {
	t.Helper()
	schema := pgtest.Schema(t, "pgschema_")
	table := pgx.Identifier{schema, "t"}.Sanitize()
	return Spec{
		Schema:   schema,
		Meta:     pgx.Identifier{schema, "t_meta"}.Sanitize(),
		Tables:   []string{table},
		Format:   "ampbraze-pgschema-test/1",
		Create:   []string{"CREATE TABLE IF NOT EXISTS " + table + " (k text PRIMARY KEY)"},
		LockArgs: []any{"ampbraze-pgschema-test " + table},
		What:     "the test tables",
	}
}

func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.Need(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestEnsure: the first call creates the tables and records the format,
// the second only checks it; another version, or none, is refused.
func TestEnsure(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := testSpec(t, pool)
	var log strings.Builder
	s.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.Ready = "test tables ready"
	if err := Ensure(ctx, pool, s); err != nil || !strings.Contains(log.String(), "test tables ready") {
		t.Fatalf("first Ensure = %v, log %q; want the tables created", err, &log)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO "+s.Tables[0]+" VALUES ('x')"); err != nil {
		t.Fatalf("the created table: %v", err)
	}
	log.Reset()
	if err := Ensure(ctx, pool, s); err != nil || log.Len() != 0 {
		t.Fatalf("second Ensure = %v, log %q; want existing tables accepted, nothing created", err, &log)
	}

	if _, err := pool.Exec(ctx, "UPDATE "+s.Meta+" SET value = 'ampbraze-pgschema-test/99'"); err != nil {
		t.Fatal(err)
	}
	err := Ensure(ctx, pool, s)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Missing || ve.Found != "ampbraze-pgschema-test/99" || ve.Supported != s.Format || ve.Meta != s.Meta {
		t.Fatalf("Ensure on version 99 = %v; want a *VersionError naming it", err)
	}

	if _, err := pool.Exec(ctx, "DELETE FROM "+s.Meta); err != nil {
		t.Fatal(err)
	}
	err = Ensure(ctx, pool, s)
	if !errors.As(err, &ve) || !ve.Missing {
		t.Fatalf("Ensure without a version = %v; want a *VersionError with Missing", err)
	}
}

// TestEnsureReadOnly: read-only, missing tables are reported and nothing
// is created.
func TestEnsureReadOnly(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := testSpec(t, pool)
	s.ReadOnly = true
	if err := Ensure(ctx, pool, s); !errors.Is(err, ErrNoTables) {
		t.Fatalf("read-only Ensure = %v; want ErrNoTables", err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", s.Schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema count = %d, %v; want nothing created", n, err)
	}
}

// TestEnsureConcurrent: processes opening new tables at once are
// serialized by the lock: none fails.
func TestEnsureConcurrent(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := testSpec(t, pool)
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- Ensure(ctx, pool, s) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Ensure: %v", err)
		}
	}
}

// TestEnsureServerError: a failing step names itself and keeps the
// server's error.
func TestEnsureServerError(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := testSpec(t, pool)
	s.Create = []string{"CREATE TABLE syntax error"}
	err := Ensure(ctx, pool, s)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "create the test tables" || oe.Unwrap() == nil {
		t.Fatalf("Ensure with a bad statement = %v; want an *OpError naming the step", err)
	}
	s.Wrap = func(op string, err error) error { return fmt.Errorf("store: %s (here): %w", op, err) }
	err = Ensure(ctx, pool, s)
	if err == nil || !strings.HasPrefix(err.Error(), "store: create the test tables (here): ") || errors.As(err, &oe) {
		t.Fatalf("Ensure with Wrap = %v; want the store's wrapping", err)
	}
}
