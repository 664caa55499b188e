package pgstore

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testURLEnv overrides the PostgreSQL the tests use (default: the
// machine's service on 127.0.0.1:5432, database test, which .ci/run starts
// when it is down).
const testURLEnv = "AMPBRAZE_TEST_POSTGRES_URL"

func testURL() string {
	if u := os.Getenv(testURLEnv); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// pgVerdict decides what a test that needs PostgreSQL does when it did
// not answer: fail when CI is set (CI must run every test), skip otherwise.
func pgVerdict(url string, err error, ci string) (fail bool, msg string) {
	msg = fmt.Sprintf("PostgreSQL at %s did not answer (%v): this test needs it", redactURL(url), err)
	if ci != "" {
		return true, msg + "; CI is set, so it must run (.ci/run starts PostgreSQL when it is down)"
	}
	return false, msg + "; skipping (start PostgreSQL on 127.0.0.1:5432 with a database test, or set " + testURLEnv + "; with CI set this fails)"
}

// redactURL hides a password in a connection URL for messages.
func redactURL(u string) string {
	if cfg, err := pgx.ParseConfig(u); err == nil {
		return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	}
	return "(unparsable " + testURLEnv + ")"
}

// pgAnswers connects to the test PostgreSQL once per test binary, so that
// a machine without it skips every test that needs it quickly.
var pgAnswers = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
})

// needPG returns the test database's URL, or skips the test when it does
// not answer (fails it when CI is set).
func needPG(t testing.TB) string {
	t.Helper()
	if err := pgAnswers(); err != nil {
		fail, msg := pgVerdict(testURL(), err, os.Getenv("CI"))
		if fail {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return testURL()
}

// adminExec runs SQL on a connection of its own, as the test's superuser.
func adminExec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// testSchema returns a schema name unique to this test; the schema (the
// store creates it) is dropped with everything in it when the test ends.
func testSchema(t testing.TB) string {
	t.Helper()
	needPG(t)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r - 'A' + 'a'
		}
		return '_'
	}, t.Name())
	suffix := fmt.Sprintf("_%x", time.Now().UnixNano())
	name = "pgstore_t_" + name
	if len(name)+len(suffix) > 63 {
		name = name[:63-len(suffix)]
	}
	name += suffix
	t.Cleanup(func() { adminExec(t, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE") })
	return name
}

// openTestStore opens a Store on the test database in schema, closed when
// the test ends (before the schema is dropped).
func openTestStore(t testing.TB, schema string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), needPG(t), append([]Option{WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestStore opens a Store in a schema of its own.
func newTestStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	return openTestStore(t, testSchema(t), opts...)
}
