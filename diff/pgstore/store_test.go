package pgstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func mustApply(t testing.TB, s diff.Store, ops []diff.Op, durable bool) {
	t.Helper()
	if err := s.Apply(context.Background(), ops, durable); err != nil {
		t.Fatal(err)
	}
}

func mustGet(t testing.TB, s diff.Store, key string) (string, bool) {
	t.Helper()
	v, ok, err := s.Get(context.Background(), []byte(key), nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

type kv struct{ k, v string }

func scanAll(t testing.TB, s diff.Store, prefix []byte) []kv {
	t.Helper()
	var out []kv
	err := s.Scan(context.Background(), prefix, func(k, v []byte) error {
		out = append(out, kv{string(k), string(v)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGetApply(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	mustApply(t, s, []diff.Op{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: nil}, {Key: []byte{0, 0xff}, Value: []byte{0, 1, 2}}}, true)
	if v, ok := mustGet(t, s, "a"); !ok || v != "1" {
		t.Fatalf("a = %q, %v", v, ok)
	}
	if v, ok := mustGet(t, s, "b"); !ok || v != "" {
		t.Fatalf("b (empty value) = %q, %v; want present and empty", v, ok)
	}
	if v, ok := mustGet(t, s, "\x00\xff"); !ok || v != "\x00\x01\x02" {
		t.Fatalf("binary key = %q, %v", v, ok)
	}
	if _, ok := mustGet(t, s, "missing"); ok {
		t.Fatal("a missing key was found")
	}
	// Overwrite and delete, not durable.
	mustApply(t, s, []diff.Op{{Key: []byte("a"), Value: []byte("2")}, {Key: []byte("b"), Delete: true}, {Key: []byte("never"), Delete: true}}, false)
	if v, _ := mustGet(t, s, "a"); v != "2" {
		t.Fatalf("a = %q after overwrite", v)
	}
	if _, ok := mustGet(t, s, "b"); ok {
		t.Fatal("b still there after delete")
	}
	// Get appends to dst[:0] and reuses its memory.
	dst := make([]byte, 3, 64)
	v, ok, err := s.Get(ctx, []byte("a"), dst)
	if err != nil || !ok || string(v) != "2" || &v[0] != &dst[:1][0] {
		t.Fatalf("Get into dst = %q, %v, %v (reused: %v)", v, ok, err, err == nil && len(v) > 0 && &v[0] == &dst[:1][0])
	}
	v, ok, err = s.Get(ctx, []byte("missing"), dst)
	if err != nil || ok || len(v) != 0 {
		t.Fatalf("Get of a missing key into dst = %q, %v, %v; want empty", v, ok, err)
	}
	if err := s.Apply(ctx, nil, true); err != nil {
		t.Fatalf("empty Apply: %v", err)
	}
}

// TestApplyLastOpWins: a batch that names a key twice leaves what its last
// op says, as a pebble batch does (one upsert may not touch a row twice).
func TestApplyLastOpWins(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, []diff.Op{{Key: []byte("k1"), Value: []byte("old")}, {Key: []byte("k2"), Value: []byte("old")}}, true)
	mustApply(t, s, []diff.Op{
		{Key: []byte("k1"), Value: []byte("x")}, {Key: []byte("k1"), Delete: true},
		{Key: []byte("k2"), Delete: true}, {Key: []byte("k2"), Value: []byte("y")},
		{Key: []byte("k3"), Value: []byte("a")}, {Key: []byte("k3"), Value: []byte("b")},
	}, true)
	if _, ok := mustGet(t, s, "k1"); ok {
		t.Error("k1: put then delete left the key")
	}
	if v, ok := mustGet(t, s, "k2"); !ok || v != "y" {
		t.Errorf("k2 = %q, %v; want y (delete then put)", v, ok)
	}
	if v, ok := mustGet(t, s, "k3"); !ok || v != "b" {
		t.Errorf("k3 = %q, %v; want b (last put)", v, ok)
	}
}

// TestApplyAtomic: a batch that fails on its last op leaves none of its
// ops, deletes included. The failing op is a key too large for the
// primary key's index (PostgreSQL refuses index rows over about 2.7 kB).
func TestApplyAtomic(t *testing.T) {
	s := newTestStore(t)
	mustApply(t, s, []diff.Op{{Key: []byte("keep"), Value: []byte("v")}}, true)
	huge := make([]byte, 16<<10)
	rand.Read(huge) // incompressible, so the index row cannot be shrunk
	huge[0] = 'z'
	for _, c := range []struct {
		durable bool
		puts    int
	}{{true, 100}, {false, 100}, {true, copyMin + 10}, {false, copyMin + 10}} { // both write paths
		durable := c.durable
		ops := []diff.Op{{Key: []byte("keep"), Delete: true}}
		for i := range c.puts {
			ops = append(ops, diff.Op{Key: fmt.Appendf(nil, "new%04d", i), Value: []byte("v")})
		}
		ops = append(ops, diff.Op{Key: huge, Value: []byte("v")})
		err := s.Apply(context.Background(), ops, durable)
		if !errors.Is(err, diff.ErrStoreIO) {
			t.Fatalf("durable=%v, %d puts: Apply with an oversized key = %v; want an error matching ErrStoreIO", durable, c.puts, err)
		}
		got := scanAll(t, s, nil)
		if len(got) != 1 || got[0] != (kv{"keep", "v"}) {
			t.Fatalf("durable=%v, %d puts: after a failed batch the store holds %d keys; want only the key it held before", durable, c.puts, len(got))
		}
	}
}

// TestScanOrderAndPrefix compares Scan with the in-memory store after the
// same random ops, for prefixes that include 0x00 and 0xff bytes (bytea
// orders by bytes; a collation would not), the empty prefix and
// prefixes with no upper bound.
func TestScanOrderAndPrefix(t *testing.T) {
	s := newTestStore(t, WithScanBatch(7)) // several pages per scan
	m := diff.NewMemoryStore()
	r := mrand.New(mrand.NewPCG(1, 2))
	alphabet := []byte{0x00, 0x01, 'A', 'a', 0x7f, 0x80, 0xc3, 0xfe, 0xff}
	randKey := func() []byte {
		k := make([]byte, 1+r.IntN(4))
		for i := range k {
			k[i] = alphabet[r.IntN(len(alphabet))]
		}
		return k
	}
	for range 20 {
		var ops []diff.Op
		for range 1 + r.IntN(40) {
			op := diff.Op{Key: randKey(), Value: []byte(fmt.Sprint(r.Int()))}
			if r.IntN(4) == 0 {
				op = diff.Op{Key: op.Key, Delete: true}
			}
			ops = append(ops, op)
		}
		mustApply(t, s, ops, r.IntN(2) == 0)
		mustApply(t, m, ops, true)
	}
	prefixes := [][]byte{nil, {}, {0x00}, {0xff}, {0xff, 0xff}, {0xff, 0xff, 0xff, 0xff, 0xff}, {0x7f}, {0x80}, {'a', 0xff}, {0xfe, 0xff}, {0x00, 0x00}}
	for range 20 {
		k := randKey()
		prefixes = append(prefixes, k[:min(len(k), 1+r.IntN(2))])
	}
	total := 0
	for _, p := range prefixes {
		got, want := scanAll(t, s, p), scanAll(t, m, p)
		if !slices.Equal(got, want) {
			t.Fatalf("prefix %x: pgstore scanned %d keys %x, memory store %d keys %x", p, len(got), got, len(want), want)
		}
		if !slices.IsSortedFunc(got, func(a, b kv) int { return bytes.Compare([]byte(a.k), []byte(b.k)) }) {
			t.Fatalf("prefix %x: keys not in byte order: %x", p, got)
		}
		total += len(got)
	}
	if total == 0 {
		t.Fatal("no scan found anything: the test proves nothing")
	}
}

// TestScanSnapshot: writes made while a scan runs are not seen by it.
func TestScanSnapshot(t *testing.T) {
	s := newTestStore(t, WithScanBatch(2))
	var ops []diff.Op
	for i := range 10 {
		ops = append(ops, diff.Op{Key: fmt.Appendf(nil, "k%02d", i), Value: []byte("before")})
	}
	mustApply(t, s, ops, true)
	var got []kv
	first := true
	err := s.Scan(context.Background(), []byte("k"), func(k, v []byte) error {
		if first {
			first = false
			// Change every later key, delete one, add one: from inside the
			// callback, through the same Store.
			mustApply(t, s, []diff.Op{
				{Key: []byte("k05"), Delete: true}, {Key: []byte("k07"), Value: []byte("after")},
				{Key: []byte("k055"), Value: []byte("new")},
			}, true)
		}
		got = append(got, kv{string(k), string(v)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("scan saw %d keys, want the 10 of its snapshot: %v", len(got), got)
	}
	for i, e := range got {
		if e != (kv{fmt.Sprintf("k%02d", i), "before"}) {
			t.Fatalf("scan saw %v at %d: a write made during the scan leaked into its snapshot", e, i)
		}
	}
	after := scanAll(t, s, []byte("k"))
	if len(after) != 10 || after[5] != (kv{"k055", "new"}) {
		t.Fatalf("after the scan: %v; want the writes made during it", after)
	}
}

// TestScanStopsEarly: fn's error ends the scan and is returned as is, and
// the connection is usable again.
func TestScanStopsEarly(t *testing.T) {
	s := newTestStore(t, WithScanBatch(100), WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 2 }))
	var ops []diff.Op
	for i := range 1000 {
		ops = append(ops, diff.Op{Key: fmt.Appendf(nil, "k%04d", i), Value: []byte("v")})
	}
	mustApply(t, s, ops, false)
	stop := errors.New("stop")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 { // more stopped scans than the pool has connections: none is leaked
		n := 0
		err := s.Scan(ctx, nil, func(k, v []byte) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if err != stop || n != 3 {
			t.Fatalf("Scan = %v after %d keys; want the callback's error after 3", err, n)
		}
	}
	if got := scanAll(t, s, nil); len(got) != 1000 {
		t.Fatalf("a scan after the stopped one found %d keys, want 1000", len(got))
	}
}

// TestReopen: what was written is there after Close and a new Open, and a
// second Store on the same tables sees it at once.
func TestReopen(t *testing.T) {
	schema := testSchema(t)
	s1 := openTestStore(t, schema)
	mustApply(t, s1, []diff.Op{{Key: []byte("a"), Value: []byte("1")}}, true)
	s2 := openTestStore(t, schema)
	if v, ok := mustGet(t, s2, "a"); !ok || v != "1" {
		t.Fatalf("second store: a = %q, %v", v, ok)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := openTestStore(t, schema)
	if got := scanAll(t, s3, nil); !slices.Equal(got, []kv{{"a", "1"}}) {
		t.Fatalf("after reopen: %v", got)
	}
}

// TestClosed: every call after Close fails with diff.ErrClosed; Close
// twice is fine.
func TestClosed(t *testing.T) {
	s := newTestStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := s.Get(ctx, []byte("a"), nil); !errors.Is(err, diff.ErrClosed) {
		t.Errorf("Get after Close = %v", err)
	}
	if err := s.Apply(ctx, []diff.Op{{Key: []byte("a")}}, true); !errors.Is(err, diff.ErrClosed) {
		t.Errorf("Apply after Close = %v", err)
	}
	if err := s.Scan(ctx, nil, func(k, v []byte) error { return nil }); !errors.Is(err, diff.ErrClosed) {
		t.Errorf("Scan after Close = %v", err)
	}
	if _, err := s.LockScope(ctx, "x"); !errors.Is(err, diff.ErrClosed) {
		t.Errorf("LockScope after Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestVersionRefused: tables of another format version are refused with
// diff's version error, and nothing is written to them.
func TestVersionRefused(t *testing.T) {
	schema := testSchema(t)
	s := openTestStore(t, schema)
	mustApply(t, s, []diff.Op{{Key: []byte("a"), Value: []byte("1")}}, true)
	s.Close()
	pgtest.Exec(t, fmt.Sprintf("UPDATE %q.ampbraze_state_meta SET value = 'ampbraze-pgstore/99' WHERE name = 'format'", schema))
	_, err := Open(context.Background(), needPG(t), WithSchema(schema))
	var ve *diff.VersionError
	if !errors.Is(err, diff.ErrUnsupportedVersion) || !errors.As(err, &ve) || ve.Found != "ampbraze-pgstore/99" {
		t.Fatalf("Open of a table of format 99 = %v; want a *diff.VersionError naming it", err)
	}
	pgtest.Exec(t, fmt.Sprintf("DELETE FROM %q.ampbraze_state_meta", schema))
	if _, err := Open(context.Background(), needPG(t), WithSchema(schema)); !errors.Is(err, diff.ErrUnsupportedVersion) {
		t.Fatalf("Open of a table without a format row = %v; want ErrUnsupportedVersion", err)
	}
}

// TestTablesIndependent: two tables in one schema are two stores.
func TestTablesIndependent(t *testing.T) {
	schema := testSchema(t)
	a := openTestStore(t, schema, WithTable("state_a"))
	b := openTestStore(t, schema, WithTable("state_b"))
	mustApply(t, a, []diff.Op{{Key: []byte("k"), Value: []byte("a")}}, true)
	if _, ok := mustGet(t, b, "k"); ok {
		t.Fatal("a key written to table state_a is visible in state_b")
	}
}

// TestNewKeepsPool: a Store made by New leaves the caller's pool open.
func TestNewKeepsPool(t *testing.T) {
	schema := testSchema(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, needPG(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := New(ctx, pool, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, []diff.Op{{Key: []byte("k"), Value: []byte("v")}}, true)
	s.Close()
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("the caller's pool after Store.Close: %v", err)
	}
}

// TestPoolTooSmall: a pool of one connection is refused at open, with a
// clear error, instead of hanging at the first removal planned inside a
// Scan.
func TestPoolTooSmall(t *testing.T) {
	schema := testSchema(t)
	_, err := Open(context.Background(), needPG(t), WithSchema(schema), WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 1 }))
	if err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Fatalf("Open with MaxConns 1 = %v; want an error saying 2 are needed", err)
	}
}
