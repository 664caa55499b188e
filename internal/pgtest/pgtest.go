// Package pgtest gives tests the PostgreSQL they need: its URL, a skip
// (a failure when CI is set) when it does not answer, and a schema of
// their own, dropped when the test ends, so that tests of several packages
// share one database in parallel.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/servicetest"
	"github.com/jackc/pgx/v5"
)

// URLEnv overrides the PostgreSQL the tests use (default: the machine's
// service on 127.0.0.1:5432, database test).
const URLEnv = "AMPBRAZE_TEST_POSTGRES_URL"

// URL returns the test database's URL.
func URL() string {
	if u := os.Getenv(URLEnv); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// start says how to bring PostgreSQL up for the tests.
const start = "start PostgreSQL on 127.0.0.1:5432 with a database test, or set " + URLEnv

// Verdict decides what a test does when PostgreSQL did not answer, as
// servicetest.Verdict does; the URL's password is left out of msg.
func Verdict(url string, err error, ci string) (fail bool, msg string) {
	return servicetest.Verdict("PostgreSQL", redact(url), err, ci, start)
}

func redact(u string) string {
	if cfg, err := pgx.ParseConfig(u); err == nil {
		return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	}
	return "(unparsable " + URLEnv + ")"
}

// Need returns the test database's URL, or skips the test when it does not
// answer within 3 seconds (fails it when CI is set).
func Need(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	servicetest.Need(t, "PostgreSQL", redact(URL()), err, start)
	return URL()
}

// Exec runs SQL on a connection of its own.
func Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Schema returns a schema name unique to the test, starting with prefix;
// the code under test creates it, and it is dropped with everything in it
// when the test ends. It skips the test as Need does.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	Need(t)
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, t.Name())
	suffix := fmt.Sprintf("_%x", time.Now().UnixNano())
	name = prefix + name
	if len(name)+len(suffix) > 63 {
		name = name[:63-len(suffix)]
	}
	name += suffix
	t.Cleanup(func() { Exec(t, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE") })
	return name
}
