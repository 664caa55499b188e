package diff

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestStateTable(t *testing.T) {
	tb := newStateTable(1000)
	defer tb.release()
	size := len(tb.slots)
	for i := range uint64(1000) {
		tb.load(mix64(i+1), 100+i)
	}
	tb.load(0, 7) // key hash 0 is stored as 1
	// Two stored keys with one key hash: no fingerprint for either.
	tb.load(mix64(5), 999)
	for i := range uint64(1000) {
		fp, dup := tb.visit(mix64(i + 1))
		want := 100 + i
		if i+1 == 5 {
			want = 0
		}
		if fp != want || dup {
			t.Fatalf("%d: fp %d dup %v, want %d false", i, fp, dup, want)
		}
	}
	if tb.has(0) {
		t.Error("key 0 seen before visit")
	}
	if fp, dup := tb.visit(0); fp != 7 || dup {
		t.Errorf("key 0: fp %d dup %v", fp, dup)
	}
	// Input keys absent from the state make the table grow; nothing is lost.
	for i := range uint64(20_000) {
		if fp, dup := tb.visit(mix64(1_000_000 + i)); fp != 0 || dup {
			t.Fatalf("new key %d: fp %d dup %v", i, fp, dup)
		}
	}
	for i := range uint64(1000) {
		if !tb.has(mix64(i + 1)) {
			t.Fatalf("%d lost after growing", i)
		}
		if fp, dup := tb.visit(mix64(i + 1)); !dup || (i+1 != 5 && fp != 100+i) {
			t.Fatalf("%d after growing: fp %d dup %v", i, fp, dup)
		}
	}
	if len(tb.slots) == size {
		t.Error("table did not grow")
	}
	if !tb.has(mix64(1_000_000+19_999)) || tb.has(mix64(5_000_000)) {
		t.Error("has after growing")
	}
	if 8*tb.n > 7*(len(tb.slots)/2) {
		t.Errorf("n %d, %d slots", tb.n, len(tb.slots)/2)
	}
}

// countingStore counts the point lookups of user states that reach the
// store (not those of the scope's metadata).
type countingStore struct {
	Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	if len(key) > 0 && key[0] == keyUser {
		s.gets.Add(1)
	}
	return s.Store.Get(ctx, key, dst)
}

// A re-sync reads the state once, sequentially, and looks up only the keys
// whose would-be state differs from the stored one.
func TestResyncSkipsLookupsOfUnchangedKeys(t *testing.T) {
	cs := &countingStore{Store: NewMemoryStore()}
	e := newTestEngine(t, cs)
	input := func(changed map[int]bool) []Record {
		var rs []Record
		for i := range 500 {
			v := "v" + strconv.Itoa(i)
			if changed[i] {
				v += "-changed"
			}
			rs = append(rs, rec("u"+strconv.Itoa(i), "a", v, "n", int64(i), "f", float64(i)/3, "nil", nil))
		}
		return rs
	}
	got, _, _ := run(t, e, "s", recs(input(nil)...), accept, WithMode(FullSnapshot))
	if len(got) != 500 || cs.gets.Load() != 0 {
		t.Fatalf("first sync: %d changes, %d gets", len(got), cs.gets.Load())
	}
	cs.gets.Store(0)
	got, _, sum := run(t, e, "s", recs(input(nil)...), accept, WithMode(FullSnapshot))
	wantChanges(t, got)
	if n := cs.gets.Load(); n != 0 {
		t.Errorf("re-sync of unchanged records: %d gets, want 0", n)
	}
	if sum.Unchanged != 500 || sum.Attrs["a"].Unchanged != 500 {
		t.Errorf("summary %+v", sum)
	}
	cs.gets.Store(0)
	got, _, _ = run(t, e, "s", recs(input(map[int]bool{3: true, 400: true})...), accept, WithMode(FullSnapshot))
	wantChanges(t, got, "u3: a=v3-changed", "u400: a=v400-changed")
	if n := cs.gets.Load(); n != 2 {
		t.Errorf("re-sync with 2 changed records: %d gets, want 2", n)
	}
	// A key new to the state is looked up too (the fast path knows only
	// stored keys), and a vanished key is removed.
	cs.gets.Store(0)
	rs := input(map[int]bool{3: true, 400: true})[1:]
	rs = append(rs, rec("new", "a", "x"))
	got, _, _ = run(t, e, "s", recs(rs...), accept, WithMode(FullSnapshot))
	wantChanges(t, got, "new: a=x", "u0: a=<nil> f=<nil> n=<nil>")
	if n := cs.gets.Load(); n != 1 {
		t.Errorf("re-sync with 1 new key: %d gets, want 1", n)
	}
}

// The fast path never hides a change: attributes left unknown by a failed
// send, values within a tolerance or a truncation, removals, duplicates and
// explained keys all go through the full comparison.
func TestFastPathNeverHidesAChange(t *testing.T) {
	cs := &countingStore{Store: NewMemoryStore()}
	e := newTestEngine(t, cs)
	t0 := time.Date(2024, 1, 1, 10, 5, 0, 0, time.UTC)
	opts := []PlanOption{WithCompare(Tolerance(0.05), "clv"), WithCompare(TruncateTime(time.Hour), "at"), WithRemoveAs(false, "aud")}
	base := []Record{
		rec("u1", "a", "1", "clv", 10.0, "at", t0, "aud", true),
		rec("u2", "a", "2"),
		rec("u3", "a", "3"),
	}
	run(t, e, "s", recs(base...), accept, opts...)

	// A failed send leaves u2's "a" unknown: the same input as the state
	// held before must still be sent.
	got, _, _ := run(t, e, "s", recs(rec("u1", "a", "1", "clv", 10.0, "at", t0, "aud", true), rec("u2", "a", "9"), rec("u3", "a", "3")),
		func(c Change) error { return errors.New("timeout") }, opts...)
	wantChanges(t, got, "u2: a=9")
	got, _, _ = run(t, e, "s", recs(base...), accept, opts...)
	wantChanges(t, got, "u2: a=2")

	// Within the tolerance and the truncation: unchanged, found by the
	// full comparison (the would-be state differs from the stored one).
	cs.gets.Store(0)
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "clv", 10.04, "at", t0.Add(30*time.Minute), "aud", true), base[1], base[2]), accept, opts...)
	wantChanges(t, got)
	if n := cs.gets.Load(); n != 1 {
		t.Errorf("tolerance re-sync: %d gets, want 1 (u1 only)", n)
	}
	// Drift still adds up against the value held.
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "clv", 10.06, "at", t0, "aud", true), base[1], base[2]), accept, opts...)
	wantChanges(t, got, "u1: clv=10.06")

	// An attribute dropped from the input is removed (as false for aud).
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "clv", 10.06, "at", t0), base[1], base[2]), accept, opts...)
	wantChanges(t, got, "u1: aud=false")

	// A duplicate key: the first record wins, the later one is an error.
	got, errs, _ := run(t, e, "s", recs(rec("u3", "a", "x"), rec("u3", "a", "3")), accept, opts...)
	wantChanges(t, got, "u3: a=x")
	if len(errs) != 1 || !errors.Is(errs[0], ErrDuplicateKey) {
		t.Errorf("errors %v", errs)
	}

	run(t, e, "s", recs(base[2]), accept, opts...)

	// An explained key takes the full comparison, so it has an explanation.
	p, err := e.Plan(context.Background(), "s", recs(base[2]), WithExplain("u3"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
	}
	ex, ok := p.Explain("u3")
	if !ok || ex.Delta != DeltaUnchanged || len(ex.Attrs) != 1 || !ex.Attrs[0].HasPrevious {
		t.Errorf("explanation %+v %v", ex, ok)
	}
	p.Close()
}

// allStoredSeen lets a full snapshot skip the scan for vanished keys only
// when every loaded key came back, never after a key-hash collision, and
// keys new to the state do not stand in for stored ones.
func TestStateTableAllStoredSeen(t *testing.T) {
	tb := newStateTable(10)
	defer tb.release()
	for i := range uint64(10) {
		tb.load(mix64(i+1), 100+i)
	}
	for i := range uint64(9) {
		tb.visit(mix64(i + 1))
		tb.visit(mix64(i + 1)) // a duplicate counts once
	}
	tb.visit(mix64(1_000)) // new to the state
	if tb.allStoredSeen() {
		t.Fatal("all seen with one stored key missing")
	}
	tb.visit(mix64(10))
	if !tb.allStoredSeen() {
		t.Fatal("not all seen after every stored key was visited")
	}

	coll := newStateTable(10)
	defer coll.release()
	coll.load(mix64(1), 1)
	coll.load(mix64(1), 2) // two stored keys, one key hash
	coll.visit(mix64(1))
	if coll.allStoredSeen() {
		t.Fatal("all seen after a key-hash collision")
	}
}
