package diff

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync"
	"testing"
)

// faultyStore fails every Apply once armed, the way a process killed in the
// middle of a commit never finishes writing the batch.
type faultyStore struct {
	Store
	mu      sync.Mutex
	applies int
	failAt  int // the failAt-th Apply and later fail; 0 = never
}

func (s *faultyStore) Apply(ctx context.Context, ops []Op, durable bool) error {
	s.mu.Lock()
	s.applies++
	fail := s.failAt > 0 && s.applies >= s.failAt
	s.mu.Unlock()
	if fail {
		return errors.New("killed during commit")
	}
	return s.Store.Apply(ctx, ops, durable)
}

func numbered(n int, version int) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for i := range n {
			if !yield(rec(fmt.Sprintf("u%04d", i), "a", int64(version), "b", "same"), nil) {
				return
			}
		}
	}
}

// TestPropertyRandomSnapshots plays random sequences of snapshots against a
// model of the destination, with random send failures (half of which the
// destination applied anyway, as after a timeout) and unacknowledged sends
// that were not applied. Whatever happened
// before, after a run in which everything is accepted the destination holds
// exactly the last snapshot, and a further run plans nothing.
func TestPropertyRandomSnapshots(t *testing.T) {
	var skipped, read int64 // records found unchanged by fingerprint, records read
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		mem := NewMemoryStore()
		e := newTestEngine(t, mem, WithAckBatch(1+rng.IntN(8)))
		dest := map[string]map[string]any{} // what the destination holds
		opts := []PlanOption{WithMode(FullSnapshot), WithRemoveAs(false, "aud"), WithMaxChanges(NoLimit), WithMaxRemovals(NoLimit)}
		if rng.IntN(2) == 0 {
			// Limits that never trip: changes are held back until the
			// input is read, then yielded.
			opts = append(opts, WithMaxChanges(MaxFraction(1)), WithMaxRemovals(MaxFraction(1)))
		}
		var last []Record
		runs := 2 + rng.IntN(6)
		for r := range runs {
			prev := last
			last = randomSnapshot(rng)
			// Half the time most records repeat, so that re-syncs take the
			// fingerprint fast path (see stateTable) as well as the lookup.
			if rng.IntN(2) == 0 {
				for i, r := range last {
					for _, q := range prev {
						if q.Key == r.Key && rng.IntN(4) != 0 {
							last[i] = q
						}
					}
				}
			}
			failRate := 0.3
			if r == runs-1 {
				failRate = 0
			}
			p, err := e.Plan(context.Background(), "s", recs(last...), opts...)
			if err != nil {
				t.Fatal(err)
			}
			for ch, err := range p.Changes() {
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				if rng.Float64() < failRate {
					if rng.IntN(2) == 0 {
						applyChange(dest, ch) // a timeout after the destination applied it
					}
					p.Ack(ch, errors.New("rejected"))
					continue
				}
				if failRate > 0 && rng.Float64() < 0.05 {
					continue // never acknowledged
				}
				applyChange(dest, ch)
				p.Ack(ch, nil)
			}
			if err := p.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkKeyCount(t, e, "s", fmt.Sprintf("seed %d run %d", seed, r))
			skipped += p.skipped.Load()
			read += p.Progress().Read
		}
		want := map[string]map[string]any{}
		for _, r := range last {
			m := map[string]any{}
			for _, a := range r.Attrs {
				if !a.Value.IsNull() {
					m[a.Name] = a.Value.Any()
				}
			}
			want[r.Key] = m
		}
		for k, attrs := range dest {
			if attrs["aud"] == false {
				if _, ok := want[k]; !ok {
					want[k] = map[string]any{}
				}
				if _, ok := want[k]["aud"]; !ok {
					want[k]["aud"] = false
				}
			}
			if len(attrs) == 0 {
				delete(dest, k)
			}
		}
		for k, m := range want {
			if len(m) == 0 {
				delete(want, k)
			}
		}
		if !sameState(dest, want) {
			t.Fatalf("seed %d: destination\n%v\nwant\n%v", seed, dest, want)
		}
		got, _, _ := run(t, e, "s", recs(last...), accept, opts...)
		if len(got) != 0 {
			t.Fatalf("seed %d: planned after everything was accepted: %v", seed, got)
		}
	}
	if skipped == 0 || skipped == read {
		t.Errorf("%d of %d records skipped by fingerprint: the fast path and the lookup must both be exercised", skipped, read)
	}
	t.Logf("%d of %d records skipped by fingerprint", skipped, read)
}

func randomSnapshot(rng *rand.Rand) []Record {
	var out []Record
	for k := range 12 {
		if rng.IntN(4) == 0 {
			continue
		}
		r := Record{Key: fmt.Sprint("u", k)}
		for _, name := range []string{"a", "b", "c", "aud"} {
			switch rng.IntN(4) {
			case 0: // absent
			case 1:
				if name == "aud" {
					r.Attrs = append(r.Attrs, Attr{name, AnyValue(true)})
				} else {
					r.Attrs = append(r.Attrs, Attr{name, AnyValue(nil)})
				}
			default:
				if name == "aud" {
					r.Attrs = append(r.Attrs, Attr{name, AnyValue(rng.IntN(2) == 0)})
				} else {
					r.Attrs = append(r.Attrs, Attr{name, AnyValue(int64(rng.IntN(3)))})
				}
			}
		}
		out = append(out, r)
	}
	return out
}

func applyChange(dest map[string]map[string]any, ch Change) {
	m := dest[ch.Key]
	if m == nil {
		m = map[string]any{}
		dest[ch.Key] = m
	}
	for n, v := range ch.All() {
		if v == nil {
			delete(m, n)
		} else {
			m[n] = v
		}
	}
}

func sameState(a, b map[string]map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, am := range a {
		bm, ok := b[k]
		if !ok || len(am) != len(bm) {
			return false
		}
		for n, v := range am {
			w, ok := bm[n]
			if !ok {
				return false
			}
			hv, _ := Hash(v)
			hw, _ := Hash(w)
			if hv != hw {
				return false
			}
		}
	}
	return true
}
