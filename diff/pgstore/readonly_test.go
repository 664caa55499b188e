package pgstore

import (
	"context"
	"errors"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
	"github.com/jackc/pgx/v5"
)

// schemaTables counts the tables of schema, and whether the schema exists.
func schemaTables(t *testing.T, schema string) (tables int, exists bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, needPG(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT count(*) > 0 FROM pg_namespace WHERE nspname = $1", schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	return tables, exists
}

// A dry run (the ReadOnly store, and WithDryRun, as amperity-to-braze's
// -dry-run with a postgres:// state) on a database without state creates
// nothing: no schema, no table, no row; the plan sees an empty state. On
// a database with state it reads it, and writes nothing.
func TestReadOnlyDryRunCreatesNothing(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	ro := openTestStore(t, schema, ReadOnly())
	e, err := diff.NewEngine(ctx, ro)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]diff.PlanOption{{diff.WithDryRun()}, {diff.WithDryRun(), diff.WithPartition(1, 2)}} {
		n, err := storetest.SyncAll(ctx, e, "users", users(0, 100, 1), opts...)
		if err != nil || n == 0 {
			t.Fatalf("dry run on an empty database: %d changes, %v; want some, nil", n, err)
		}
	}
	if n, err := e.ScopeKeys(ctx, "users"); err != nil || n != 0 {
		t.Errorf("ScopeKeys = %d, %v; want 0, nil", n, err)
	}
	if err := ro.Apply(ctx, []diff.Op{{Key: []byte{3}, Value: []byte{1}}}, true); !errors.Is(err, diff.ErrReadOnly) {
		t.Errorf("Apply on a read-only store: %v, want ErrReadOnly", err)
	}
	e.Close()
	if tables, exists := schemaTables(t, schema); exists || tables != 0 {
		t.Fatalf("after the dry run: schema exists %v, %d tables; want nothing created", exists, tables)
	}

	// With state: a dry run reads it (only the changed users), and
	// writes no row.
	rw, err := diff.NewEngine(ctx, openTestStore(t, schema))
	if err != nil {
		t.Fatal(err)
	}
	syncAll(t, rw, users(0, 100, 1))
	rw.Close()
	rows := func() (n int) {
		adminCount(t, "SELECT count(*) FROM "+pgx.Identifier{schema, "ampbraze_state"}.Sanitize(), &n)
		return n
	}
	before := rows()
	e, err = diff.NewEngine(ctx, openTestStore(t, schema, ReadOnly()))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	n, err := storetest.SyncAll(ctx, e, "users", users(0, 100, 2), diff.WithDryRun())
	if err != nil || n != 10 {
		t.Errorf("dry run on a synced state: %d changes, %v; want 10 (one user in ten changed)", n, err)
	}
	if after := rows(); after != before {
		t.Errorf("the dry run changed the table: %d rows before, %d after", before, after)
	}
}

// adminCount runs a query returning one integer on a connection of its own.
func adminCount(t *testing.T, sql string, dst *int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, needPG(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dst); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
