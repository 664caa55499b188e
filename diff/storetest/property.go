package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// testRandomSnapshots plays random sequences of full snapshots against a
// model of the destination, with random send failures (half of which the
// destination applied anyway, as after a timeout) and unacknowledged sends
// that were not applied. Whatever happened before, after a run in which
// everything is accepted the destination holds exactly the last snapshot,
// and a further run plans nothing. Every sequence has a scope of its own
// on one store, so scopes must not see each other's state.
func (h *harness) testRandomSnapshots(t *testing.T) {
	s := keepOpen{h.fresh(t)}
	for seed := range uint64(h.cfg.seeds) {
		scope := fmt.Sprintf("seed-%d", seed)
		rng := rand.New(rand.NewPCG(seed, 7))
		e := newEngine(t, s, diff.WithAckBatch(1+rng.IntN(8)))
		dest := map[string]map[string]any{} // what the destination holds
		opts := []diff.PlanOption{diff.WithMode(diff.FullSnapshot), diff.WithRemoveAs(false, "aud"), diff.WithMaxChanges(diff.NoLimit), diff.WithMaxRemovals(diff.NoLimit)}
		if rng.IntN(2) == 0 {
			// Limits that never trip: changes are held back until the
			// input is read, then yielded.
			opts = append(opts, diff.WithMaxChanges(diff.MaxFraction(1)), diff.WithMaxRemovals(diff.MaxFraction(1)))
		}
		var last []diff.Record
		runs := 2 + rng.IntN(6)
		for r := range runs {
			prev := last
			last = randomSnapshot(rng)
			// Half the time most records repeat, so that re-syncs take the
			// fingerprint fast path as well as the lookup.
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
			p, err := e.Plan(context.Background(), scope, records(last), opts...)
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
				t.Fatalf("seed %d run %d: Commit: %v", seed, r, err)
			}
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
		if got := run(t, e, scope, records(last), accept, opts...); len(got) != 0 {
			t.Fatalf("seed %d: planned after everything was accepted: %v", seed, got)
		}
		e.Close()
	}
}

func randomSnapshot(rng *rand.Rand) []diff.Record {
	var out []diff.Record
	for k := range 12 {
		if rng.IntN(4) == 0 {
			continue
		}
		r := diff.Record{Key: fmt.Sprint("u", k)}
		for _, name := range []string{"a", "b", "c", "aud"} {
			switch rng.IntN(4) {
			case 0: // absent
			case 1:
				if name == "aud" {
					r.Attrs = append(r.Attrs, diff.Attr{Name: name, Value: diff.AnyValue(true)})
				} else {
					r.Attrs = append(r.Attrs, diff.Attr{Name: name, Value: diff.AnyValue(nil)})
				}
			default:
				if name == "aud" {
					r.Attrs = append(r.Attrs, diff.Attr{Name: name, Value: diff.AnyValue(rng.IntN(2) == 0)})
				} else {
					r.Attrs = append(r.Attrs, diff.Attr{Name: name, Value: diff.AnyValue(int64(rng.IntN(3)))})
				}
			}
		}
		out = append(out, r)
	}
	return out
}

func applyChange(dest map[string]map[string]any, ch diff.Change) {
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
			hv, _ := diff.Hash(v)
			hw, _ := diff.Hash(w)
			if hv != hw {
				return false
			}
		}
	}
	return true
}
