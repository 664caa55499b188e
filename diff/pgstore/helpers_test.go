package pgstore

import (
	"context"
	"testing"

	"github.com/ampbraze/ampbraze/internal/pgtest"
)

// The test database and its skip-or-fail verdict are internal/pgtest's
// (AMPBRAZE_TEST_POSTGRES_URL overrides the machine's service on
// 127.0.0.1:5432, database test, which .ci/run starts when it is down).

// needPG returns the test database's URL, or skips the test when it does
// not answer (fails it when CI is set).
func needPG(t testing.TB) string { return pgtest.Need(t) }

// testSchema returns a schema name unique to this test; the schema (the
// store creates it) is dropped with everything in it when the test ends.
func testSchema(t testing.TB) string { return pgtest.Schema(t, "pgstore_t_") }

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
