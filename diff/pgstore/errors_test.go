package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestClassify: SQLSTATEs map to diff's sentinels.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		code string
		want error
	}{
		{"53100", diff.ErrDiskFull},   // disk_full
		{"42501", diff.ErrPermission}, // insufficient_privilege
		{"28P01", diff.ErrPermission}, // invalid_password
		{"28000", diff.ErrPermission}, // invalid_authorization_specification
		{"25006", diff.ErrPermission}, // read_only_sql_transaction
		{"57P01", diff.ErrStoreIO},    // admin_shutdown
		{"08006", diff.ErrStoreIO},    // connection_failure
		{"53200", diff.ErrStoreIO},    // out_of_memory
		{"XX001", diff.ErrCorrupt},    // data_corrupted
		{"XX002", diff.ErrCorrupt},    // index_corrupted
	} {
		s := &Store{where: "postgres 127.0.0.1:5432/test table \"public\".\"t\""}
		err := s.wrap("apply", fmt.Errorf("sending: %w", &pgconn.PgError{Code: c.code, Message: "m"}))
		var se *diff.StoreError
		if !errors.Is(err, c.want) || !errors.As(err, &se) || se.Kind != c.want || se.Hint == "" {
			t.Errorf("SQLSTATE %s: %v; want a *diff.StoreError of kind %v with a hint", c.code, err, c.want)
		}
		if c.want == diff.ErrDiskFull || c.want == diff.ErrPermission {
			if !errors.Is(err, diff.ErrStoreIO) {
				t.Errorf("SQLSTATE %s: %v does not match ErrStoreIO", c.code, err)
			}
		}
		if !strings.Contains(err.Error(), "127.0.0.1:5432/test") {
			t.Errorf("SQLSTATE %s: %q does not name the server", c.code, err)
		}
	}
}

// TestConnectionRefused: a server that does not answer is an I/O error
// naming its address.
func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2")
	var se *diff.StoreError
	if !errors.Is(err, diff.ErrStoreIO) || !errors.As(err, &se) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Open of a closed port = %v; want a *diff.StoreError matching ErrStoreIO naming %s", err, addr)
	}
	if errors.Is(err, diff.ErrPermission) || errors.Is(err, diff.ErrDiskFull) {
		t.Fatalf("connection refused classified as %v", se.Kind)
	}
}

// TestAdminShutdown: a connection terminated by the server (SQLSTATE
// 57P01) fails the call with ErrStoreIO; the pool reconnects for the next.
func TestAdminShutdown(t *testing.T) {
	app := fmt.Sprintf("pgstore_test_%d", time.Now().UnixNano())
	s := newTestStore(t, WithPoolConfig(func(c *pgxpool.Config) {
		c.MaxConns = 2
		c.ConnConfig.RuntimeParams["application_name"] = app
	}))
	mustApply(t, s, []diff.Op{{Key: []byte("k"), Value: []byte("v")}}, true)
	pgtest.Exec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app)
	time.Sleep(200 * time.Millisecond) // the backend exits asynchronously
	_, _, err := s.Get(context.Background(), []byte("k"), nil)
	if !errors.Is(err, diff.ErrStoreIO) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("Get on a terminated connection = %v; want ErrStoreIO naming the server", err)
	}
	if v, ok := mustGet(t, s, "k"); !ok || v != "v" {
		t.Fatalf("Get after reconnecting = %q, %v", v, ok)
	}
}

// TestPermission: a database user that may read but not write the state
// gets ErrPermission from Apply; one with no privilege at all gets it
// from Open.
func TestPermission(t *testing.T) {
	schema := testSchema(t)
	s := openTestStore(t, schema) // creates the tables as the superuser
	mustApply(t, s, []diff.Op{{Key: []byte("k"), Value: []byte("v")}}, true)
	role := fmt.Sprintf("pgstore_test_ro_%d", time.Now().UnixNano())
	pgtest.Exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		pgtest.Exec(t, "DROP OWNED BY "+role)
		pgtest.Exec(t, "DROP ROLE "+role)
	})
	cfg, err := pgxpool.ParseConfig(needPG(t))
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", role, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	ctx := context.Background()
	_, err = Open(ctx, url, WithSchema(schema))
	if !errors.Is(err, diff.ErrPermission) || !errors.Is(err, diff.ErrStoreIO) {
		t.Fatalf("Open as a user without privileges = %v; want ErrPermission", err)
	}
	pgtest.Exec(t, fmt.Sprintf("GRANT USAGE ON SCHEMA %q TO %s", schema, role))
	pgtest.Exec(t, fmt.Sprintf("GRANT SELECT ON %q.ampbraze_state, %q.ampbraze_state_meta TO %s", schema, schema, role))
	ro, err := Open(ctx, url, WithSchema(schema))
	if err != nil {
		t.Fatalf("Open as a user with SELECT: %v", err)
	}
	defer ro.Close()
	if v, ok := mustGet(t, ro, "k"); !ok || v != "v" {
		t.Fatalf("Get as the reading user = %q, %v", v, ok)
	}
	err = ro.Apply(ctx, []diff.Op{{Key: []byte("k"), Value: []byte("w")}}, true)
	var se *diff.StoreError
	if !errors.Is(err, diff.ErrPermission) || !errors.As(err, &se) || se.Op != "apply" || !strings.Contains(se.Hint, "grant") {
		t.Fatalf("Apply as a user with SELECT only = %v; want ErrPermission with a hint", err)
	}
}

// TestContextCancelled: a cancelled call returns the context's error, not
// a store failure.
func TestContextCancelled(t *testing.T) {
	s := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := s.Get(ctx, []byte("k"), nil)
	if !errors.Is(err, context.Canceled) || errors.Is(err, diff.ErrStoreIO) {
		t.Fatalf("Get with a cancelled context = %v; want context.Canceled, not ErrStoreIO", err)
	}
	err = s.Scan(ctx, nil, func(k, v []byte) error { return nil })
	if !errors.Is(err, context.Canceled) || errors.Is(err, diff.ErrStoreIO) {
		t.Fatalf("Scan with a cancelled context = %v; want context.Canceled", err)
	}
}
