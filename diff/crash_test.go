package diff

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// TestCrashPoints kills a sync at each point between planning, sending,
// acknowledging and committing, reopens the state and checks that every
// change not accepted and committed is planned again, and no other.
func TestCrashPoints(t *testing.T) {
	const n = 300
	type killPoint struct {
		name       string
		stopAfter  int  // stop consuming changes after this many (0 = all)
		ackUpTo    int  // ack only the first ackUpTo changes (-1 = all)
		commit     bool // call Commit
		failApplyN int  // arm the store to fail from this Apply on
	}
	points := []killPoint{
		{name: "after plan, before send", stopAfter: 1, ackUpTo: 0},
		{name: "after send, before ack", stopAfter: 150, ackUpTo: 0},
		{name: "after some acks, before commit", ackUpTo: 200},
		{name: "after all acks, before commit", ackUpTo: -1},
		{name: "during commit", ackUpTo: -1, commit: true, failApplyN: 2},
		{name: "during an incremental batch", ackUpTo: -1, commit: true, failApplyN: 3},
		{name: "after commit", ackUpTo: -1, commit: true},
	}
	for _, kp := range points {
		t.Run(kp.name, func(t *testing.T) {
			ctx := context.Background()
			mem := NewMemoryStore()
			// State from an earlier, completed sync.
			e := newTestEngine(t, mem)
			run(t, e, "s", numbered(n, 1), accept)

			fs := &faultyStore{Store: mem}
			e = newTestEngine(t, fs, WithAckBatch(64))
			p, err := e.Plan(ctx, "s", numbered(n, 2))
			if err != nil {
				t.Fatal(err)
			}
			fs.mu.Lock()
			if kp.failApplyN > 0 {
				fs.failAt = fs.applies + kp.failApplyN
			}
			fs.mu.Unlock()
			acked := map[string]bool{}
			i := 0
			for ch, err := range p.Changes() {
				if err != nil {
					t.Fatal(err)
				}
				i++
				// Odd keys are rejected by the destination.
				var sendErr error
				if k, _ := strconv.Atoi(ch.Key[1:]); k%2 == 1 {
					sendErr = errors.New("rejected")
				}
				if kp.ackUpTo < 0 || i <= kp.ackUpTo {
					p.Ack(ch, sendErr)
					if sendErr == nil {
						acked[ch.Key] = true
					}
				}
				if kp.stopAfter > 0 && i >= kp.stopAfter {
					break
				}
			}
			committedBefore := p.Progress().Committed
			if kp.commit {
				err := p.Commit(ctx)
				if kp.failApplyN > 0 && err == nil {
					t.Fatal("commit succeeded on a failing store")
				}
			}
			committed := p.Progress().Committed
			if kp.commit && kp.failApplyN == 0 && committed != int64(len(acked)) {
				t.Fatalf("committed %d of %d acked", committed, len(acked))
			}
			if committed < committedBefore {
				t.Fatal("committed count went down")
			}
			// The process dies: no Close. A new one opens the same state.
			e2 := newTestEngine(t, mem)
			got, _, _ := run(t, e2, "s", numbered(n, 2), accept)
			replanned := map[string]bool{}
			for _, c := range got {
				replanned[strings.SplitN(c, ":", 2)[0]] = true
			}
			for i := range n {
				k := fmt.Sprintf("u%04d", i)
				if !acked[k] && !replanned[k] {
					t.Errorf("%s was never accepted but is not planned again", k)
				}
			}
			resent := 0
			for k := range acked {
				if replanned[k] {
					resent++
				}
			}
			if int64(len(acked)-resent) < committed {
				t.Errorf("%d accepted changes were not planned again, but %d were committed", len(acked)-resent, committed)
			}
			got, _, _ = run(t, e2, "s", numbered(n, 2), accept)
			wantChanges(t, got)
		})
	}
}

// TestCrashProcess kills a real process in the middle of a sync on the
// pebble store (os.Exit, no Close, batches written without sync) and checks
// the state the next process finds.
func TestCrashProcess(t *testing.T) {
	if dir := os.Getenv("DIFF_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("skipped with -short: it re-executes the test binary and kills it (CI runs it)")
	}
	const n = 2000
	dir := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashProcess$")
	cmd.Env = append(os.Environ(), "DIFF_CRASH_CHILD="+dir)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var committed, acked int
	if _, err := fmt.Sscanf(string(out), "committed %d acked %d", &committed, &acked); err != nil {
		t.Fatalf("child said %q", out)
	}
	e, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, _, _ := run(t, e, "s", numbered(n, 1), accept)
	replanned := map[string]bool{}
	for _, c := range got {
		replanned[strings.SplitN(c, ":", 2)[0]] = true
	}
	for i := range n {
		k := fmt.Sprintf("u%04d", i)
		if (i%2 == 1 || i >= acked) && !replanned[k] {
			t.Errorf("%s was not accepted but is not planned again", k)
		}
	}
	if len(got) > n-committed {
		t.Errorf("%d planned again, more than the %d not committed", len(got), n-committed)
	}
	t.Logf("child acked %d changes, committed %d; %d planned again", acked, committed, len(got))
}

func crashChild(dir string) {
	ctx := context.Background()
	e, err := Open(ctx, dir, WithAckBatch(100))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	p, err := e.Plan(ctx, "s", numbered(2000, 1))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	i := 0
	ok := 0
	for ch, err := range p.Changes() {
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		var sendErr error
		if i%2 == 1 {
			sendErr = errors.New("rejected")
		} else {
			ok++
		}
		p.Ack(ch, sendErr)
		i++
		if i == 1500 {
			fmt.Printf("committed %d acked %d\n", p.Progress().Committed, i)
			os.Exit(3) // killed: no Commit, no Close
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
					r.Attrs = append(r.Attrs, Attr{name, Of(true)})
				} else {
					r.Attrs = append(r.Attrs, Attr{name, Of(nil)})
				}
			default:
				if name == "aud" {
					r.Attrs = append(r.Attrs, Attr{name, Of(rng.IntN(2) == 0)})
				} else {
					r.Attrs = append(r.Attrs, Attr{name, Of(int64(rng.IntN(3)))})
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
