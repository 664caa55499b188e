package diff

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// checkKeyCount fails t unless the key count stored for scope equals the
// number of state keys the scope holds.
func checkKeyCount(t *testing.T, e *Engine, scope string, where string) {
	t.Helper()
	ctx := context.Background()
	id, err := e.scopeID(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	real := 0
	if err := e.store.Scan(ctx, userKey(nil, id, ""), func(_, _ []byte) error { real++; return nil }); err != nil {
		t.Fatal(err)
	}
	v, ok, err := e.store.Get(ctx, keyCountKey(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if real != 0 {
			t.Fatalf("%s: no stored key count, %d state keys", where, real)
		}
		return
	}
	n, ok := decodeKeyCount(v)
	if !ok || n != real {
		t.Fatalf("%s: stored key count %d (valid %v), %d state keys", where, n, ok, real)
	}
}

// scanCounter counts the Scan calls that reach the store.
type scanCounter struct {
	Store
	scans atomic.Int64
}

func (s *scanCounter) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	s.scans.Add(1)
	return s.Store.Scan(ctx, prefix, fn)
}

// TestKeyCountRandomSequences plays random runs with new keys, removals
// (whole keys and single attributes), failed sends that leave unknown
// state, NotApplied rejections, unacknowledged changes, duplicate keys,
// Flush checkpoints and plans closed without Commit, and checks after each
// run that the stored key count is exactly the number of state keys.
func TestKeyCountRandomSequences(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 11))
		mem := NewMemoryStore()
		e := newTestEngine(t, mem, WithAckBatch(1+rng.IntN(6)))
		for r := range 3 + rng.IntN(6) {
			snap := randomSnapshot(rng)
			// Duplicates: a later record of a key already in the input.
			for range rng.IntN(3) {
				if len(snap) > 0 {
					d := snap[rng.IntN(len(snap))]
					d.Attrs = append([]Attr(nil), d.Attrs...)
					if rng.IntN(2) == 0 {
						d.Attrs = nil // the duplicate carries nothing: removes the key's state
					}
					snap = append(snap, d)
				}
			}
			mode := FullSnapshot
			if rng.IntN(3) == 0 {
				mode = Incremental
			}
			// Limits that never trip, so that full snapshots take the path
			// that holds changes back until the input is read.
			p, err := e.Plan(ctx, "s", recs(snap...), WithMode(mode), WithRemoveAs(false, "aud"), WithMaxChanges(MaxFraction(1)), WithMaxRemovals(MaxFraction(1)))
			if err != nil {
				t.Fatal(err)
			}
			ack := func(ch Change) {
				var err error
				switch x := rng.IntN(10); {
				case x < 5:
					err = p.Ack(ch, nil)
				case x < 7:
					err = p.Ack(ch, errors.New("timeout")) // unknown state
				case x < 8:
					if rng.IntN(2) == 0 {
						err = p.Ack(ch, rejection{}) // NotApplied: back to the state before
					} else {
						err = p.Ack(ch, refusal{}) // Rejected: remembered as rejected
					}
				case x < 9:
					// never acknowledged
				default:
					err = p.Flush(ctx)
					if err == nil {
						err = p.Ack(ch, nil)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			// Acknowledge as the changes come (so the first record of a
			// duplicate key may be written before the later one is planned)
			// or afterwards in a shuffled order, as concurrent senders would.
			inline := rng.IntN(2) == 0
			var chs []Change
			for ch, err := range p.Changes() {
				if errors.Is(err, ErrDuplicateKey) {
					continue
				}
				if err != nil {
					t.Fatalf("seed %d run %d: %v", seed, r, err)
				}
				if inline {
					ack(ch)
				} else {
					chs = append(chs, ch)
				}
			}
			rng.Shuffle(len(chs), func(i, j int) { chs[i], chs[j] = chs[j], chs[i] })
			for _, ch := range chs {
				ack(ch)
			}
			if rng.IntN(6) == 0 {
				p.Close() // flushed batches stay, the rest is dropped
			} else if err := p.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			checkKeyCount(t, e, "s", fmt.Sprintf("seed %d run %d", seed, r))
		}
	}
}

// A crash between batches leaves the count consistent with the state it
// counts: each batch carries both.
func TestKeyCountCrashBetweenBatches(t *testing.T) {
	for failAt := 1; failAt <= 12; failAt++ {
		mem := NewMemoryStore()
		fs := &faultyStore{Store: mem}
		e := newTestEngine(t, fs, WithAckBatch(7))
		run(t, e, "s", numbered(40, 1), accept)
		checkKeyCount(t, e, "s", "first sync")
		// Second sync: 10 more keys and every value changed, killed
		// after failAt-1 batches; then a third that removes 25 keys.
		syncKilledAt(t, e, fs, failAt, numbered(50, 2))
		checkKeyCount(t, e, "s", fmt.Sprintf("killed at apply %d", failAt))
		// The next run after the crash is correct and the count stays exact.
		run(t, e, "s", numbered(50, 2), accept, WithMode(FullSnapshot), WithMaxChanges(NoLimit), WithMaxRemovals(NoLimit))
		checkKeyCount(t, e, "s", fmt.Sprintf("after recovery from apply %d", failAt))
		if got, _, _ := run(t, e, "s", numbered(50, 2), accept, WithMode(FullSnapshot), WithMaxChanges(NoLimit), WithMaxRemovals(NoLimit)); len(got) != 0 {
			t.Fatalf("killed at apply %d: planned after recovery: %v", failAt, got)
		}
		// Removals (removed as null: the state keys are deleted), killed too.
		syncKilledAt(t, e, fs, failAt/3+1, numbered(25, 2))
		checkKeyCount(t, e, "s", fmt.Sprintf("removals killed at apply %d", failAt/3+1))
		run(t, e, "s", numbered(25, 2), accept, WithMode(FullSnapshot), WithMaxChanges(NoLimit), WithMaxRemovals(NoLimit))
		checkKeyCount(t, e, "s", "after removals")
		if real := mem.Len(); real < 25 {
			t.Fatalf("store holds %d keys", real)
		}
	}
}

// The stored count spares the counting scan; without it (a store written
// before the count was kept) the keys are counted, and a wrong count (too
// small or too large) changes nothing but the table's size.
func TestKeyCountSizesTable(t *testing.T) {
	ctx := context.Background()
	const n = 5000 // above the table's minimum size, so a small hint must grow it
	setCount := func(t *testing.T, e *Engine, v []byte) {
		id, err := e.scopeID(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		op := Op{Key: keyCountKey(id), Value: v, Delete: v == nil}
		if err := e.store.Apply(ctx, []Op{op}, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		count []byte // nil: no count, as a legacy store
		// Scans by the re-sync: attribute names, scope emptiness,
		// (counting), loading. No scan for vanished keys: the input
		// carries every stored key.
		wantScans int64
	}{
		{"stored", nil, 3},
		{"legacy", nil, 4},
		{"too small", []byte{1}, 3},
		{"too large", []byte{0x80, 0x80, 0x10}, 3}, // 262144
		{"corrupt", []byte{0xff}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scanCounter{Store: NewMemoryStore()}
			e := newTestEngine(t, sc)
			run(t, e, "s", numbered(n, 1), accept)
			checkKeyCount(t, e, "s", "first sync")
			if tc.name != "stored" {
				setCount(t, e, tc.count)
			}
			input := func(yield func(Record, error) bool) {
				for i := range n + n/2 { // a third of new keys: grows a table sized for n
					v := 1
					if i%10 == 0 {
						v = 2
					}
					if !yield(rec(fmt.Sprintf("u%04d", i), "a", int64(v), "b", "same"), nil) {
						return
					}
				}
			}
			before := sc.scans.Load()
			got, errs, _ := run(t, e, "s", input, accept, WithMode(FullSnapshot), WithMaxChanges(NoLimit), WithMaxRemovals(NoLimit))
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			if scans := sc.scans.Load() - before; scans != tc.wantScans {
				t.Errorf("re-sync scanned the store %d times, want %d", scans, tc.wantScans)
			}
			if want := n/10 + n/2; len(got) != want {
				t.Fatalf("planned %d changes, want %d", len(got), want)
			}
			checkKeyCount(t, e, "s", "re-sync")
			if got, _, _ := run(t, e, "s", input, accept, WithMode(FullSnapshot), WithMaxChanges(NoLimit), WithMaxRemovals(NoLimit)); len(got) != 0 {
				t.Fatalf("planned %d changes after everything was accepted", len(got))
			}
			checkKeyCount(t, e, "s", "second re-sync")
		})
	}
}

// syncKilledAt runs a full-snapshot sync of input that accepts everything,
// with the store failing from its failAt-th batch on (a crash mid-commit);
// the commit's error is the point, so it is not checked.
func syncKilledAt(t *testing.T, e *Engine, fs *faultyStore, failAt int, input iter.Seq2[Record, error]) {
	t.Helper()
	ctx := context.Background()
	fs.mu.Lock()
	fs.failAt, fs.applies = failAt, 0
	fs.mu.Unlock()
	p, err := e.Plan(ctx, "s", input, WithMode(FullSnapshot), WithMaxChanges(NoLimit), WithMaxRemovals(NoLimit))
	if err != nil {
		t.Fatal(err)
	}
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		p.Ack(ch, nil)
	}
	p.Commit(ctx)
	fs.mu.Lock()
	fs.failAt = 0
	fs.mu.Unlock()
}
