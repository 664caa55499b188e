package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// The plan-level tests: an engine on the store under test, driven as a
// sync drives it.

func newEngine(t *testing.T, s diff.Store, opts ...diff.Option) *diff.Engine {
	t.Helper()
	e, err := diff.NewEngine(context.Background(), s, opts...)
	if err != nil {
		t.Fatalf("diff.NewEngine: %v", err)
	}
	return e
}

func records(rs []diff.Record) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func accept(diff.Change) error { return nil }

// changeString renders a change as "key: a=1 b=<nil>", attributes sorted.
func changeString(c diff.Change) string {
	var parts []string
	for n, v := range c.All() {
		parts = append(parts, fmt.Sprintf("%s=%v", n, v))
	}
	sort.Strings(parts)
	return c.Key + ": " + strings.Join(parts, " ")
}

// run plans input, acknowledges each change with ack and commits; it
// returns the changes rendered by changeString, sorted.
func run(t *testing.T, e *diff.Engine, scope string, input iter.Seq2[diff.Record, error], ack func(diff.Change) error, opts ...diff.PlanOption) []string {
	t.Helper()
	ctx := context.Background()
	p, err := e.Plan(ctx, scope, input, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var out []string
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatalf("scope %s: %v", scope, err)
		}
		out = append(out, changeString(ch))
		if err := p.Ack(ch, ack(ch)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatalf("scope %s: Commit: %v", scope, err)
	}
	sort.Strings(out)
	return out
}

func wantChanges(t *testing.T, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
}

var unlimited = []diff.PlanOption{diff.WithMaxChanges(diff.NoLimit), diff.WithMaxRemovals(diff.NoLimit)}

func with(opts ...diff.PlanOption) []diff.PlanOption { return append(opts, unlimited...) }

// testVersionRecorded: an engine claims an empty store (its format
// version), a second engine on the same store accepts it, and a store
// holding data the engine did not write is refused.
func (h *harness) testVersionRecorded(t *testing.T) {
	ctx := context.Background()
	s := h.fresh(t)
	newEngine(t, keepOpen{s})
	keys, _, err := scanAll(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("a new engine on an empty store wrote nothing (its format version)")
	}
	newEngine(t, keepOpen{s})

	other := h.fresh(t)
	if err := other.Apply(ctx, []diff.Op{put("\x03somebody else's key", "x")}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := diff.NewEngine(ctx, keepOpen{other}); !errors.Is(err, diff.ErrUnsupportedVersion) {
		t.Errorf("an engine on a store holding unversioned data: %v, want ErrUnsupportedVersion", err)
	}
}

// testCloseWithPlanOpen (issue 14): Engine.Close with a plan open made a
// later Ack/Commit panic with "pebble: closed". They return an error
// matching diff.ErrClosed, on every store.
func (h *harness) testCloseWithPlanOpen(t *testing.T) {
	ctx := context.Background()
	s := h.open(t) // closed by Engine.Close
	e, err := diff.NewEngine(ctx, s, diff.WithAckBatch(10))
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	p, err := e.Plan(ctx, "s", Numbered(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var errs []error
	i := 0
	for ch, err := range p.Changes() {
		if err != nil {
			errs = append(errs, err)
			break
		}
		if i == 50 {
			if err := e.Close(); err != nil {
				t.Fatalf("Engine.Close with a plan open: %v", err)
			}
		}
		i++
		if err := p.Ack(ch, nil); err != nil {
			errs = append(errs, err)
			break
		}
	}
	errs = append(errs, p.Commit(ctx))
	found := false
	for _, err := range errs {
		if err != nil && !errors.Is(err, diff.ErrClosed) {
			t.Errorf("after Close: %v", err)
		}
		found = found || errors.Is(err, diff.ErrClosed)
	}
	if !found {
		t.Errorf("no error matching ErrClosed after Close: %v", errs)
	}
	if _, err := e.ScopeKeys(ctx, "s"); !errors.Is(err, diff.ErrClosed) {
		t.Errorf("a read after Close: %v", err)
	}
}

// faultyStore fails every Apply once armed, the way a process killed in the
// middle of a commit never finishes writing the batch.
type faultyStore struct {
	diff.Store
	mu      sync.Mutex
	applies int
	failAt  int // the failAt-th Apply and later fail; 0 = never
}

func (s *faultyStore) Apply(ctx context.Context, ops []diff.Op, durable bool) error {
	s.mu.Lock()
	s.applies++
	fail := s.failAt > 0 && s.applies >= s.failAt
	s.mu.Unlock()
	if fail {
		return errors.New("killed during commit")
	}
	return s.Store.Apply(ctx, ops, durable)
}

// testCrashPoints kills a sync at each point between planning, sending,
// acknowledging and committing, opens a new engine on the same state and
// checks that every change not accepted and committed is planned again,
// and no other.
func (h *harness) testCrashPoints(t *testing.T) {
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
			s := keepOpen{h.fresh(t)}
			// State from an earlier, completed sync.
			e := newEngine(t, s)
			run(t, e, "s", Numbered(n, 1), accept)

			fs := &faultyStore{Store: s}
			e = newEngine(t, fs, diff.WithAckBatch(64))
			p, err := e.Plan(ctx, "s", Numbered(n, 2))
			if err != nil {
				t.Fatal(err)
			}
			// The dead process's plan does nothing more once the checks
			// are done (before the store is closed).
			t.Cleanup(func() { p.Close() })
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
				// Odd keys fail to send.
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
			e2 := newEngine(t, s)
			got := run(t, e2, "s", Numbered(n, 2), accept)
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
			wantChanges(t, run(t, e2, "s", Numbered(n, 2), accept))
		})
	}
}

// testDurableAfterReopen: what durable Applies wrote (puts and deletes,
// after non-durable ones) is there after Close and a reopen.
func (h *harness) testDurableAfterReopen(t *testing.T) {
	ctx := context.Background()
	s := h.open(t)
	ops := make([]diff.Op, 500)
	for i := range ops {
		ops[i] = put(fmt.Sprintf("\x03k%04d", i), fmt.Sprintf("v%d", i))
	}
	steps := []struct {
		ops     []diff.Op
		durable bool
	}{
		{ops[:250], false},
		{ops[250:], true},
		{[]diff.Op{del("\x03k0000"), put("\x03k0001", "changed")}, false},
		{[]diff.Op{del("\x03k0499")}, true},
	}
	for _, st := range steps {
		if err := s.Apply(ctx, st.ops, st.durable); err != nil {
			s.Close()
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = h.cfg.reopen(t, s)
	t.Cleanup(func() { s.Close() })
	keys, values, err := scanAll(ctx, s, []byte("\x03"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 498 || keys[0] != "\x03k0001" || values[0] != "changed" || keys[len(keys)-1] != "\x03k0498" {
		t.Fatalf("after reopen: %d keys, first %q=%q, last %q", len(keys), keys[0], values[0], keys[len(keys)-1])
	}
	if err := wantValue(ctx, s, "\x03k0300", "v300", false); err != nil {
		t.Fatal(err)
	}
}

// testEnginePersists: an engine's committed state is there for the next
// engine after Engine.Close and a reopen; removals of a full snapshot
// too.
func (h *harness) testEnginePersists(t *testing.T) {
	ctx := context.Background()
	s := h.open(t)
	e, err := diff.NewEngine(ctx, s)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	u := func(key string, a int64) diff.Record {
		return diff.Record{Key: key, Attrs: []diff.Attr{{Name: "a", Value: diff.IntValue(a)}}}
	}
	got := run(t, e, "s", records([]diff.Record{u("u1", 1), u("u2", 2)}), accept)
	wantChanges(t, got, "u1: a=1", "u2: a=2")
	if err := e.Close(); err != nil {
		t.Fatalf("Engine.Close: %v", err)
	}
	s = h.cfg.reopen(t, s)
	e, err = diff.NewEngine(ctx, s)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	if n, err := e.ScopeKeys(ctx, "s"); n != 2 || err != nil {
		t.Errorf("ScopeKeys after reopen = %d, %v; want 2", n, err)
	}
	full := diff.WithMode(diff.FullSnapshot)
	wantChanges(t, run(t, e, "s", records([]diff.Record{u("u1", 1), u("u2", 3)}), accept, with(full)...), "u2: a=3")
	wantChanges(t, run(t, e, "s", records([]diff.Record{u("u1", 1)}), accept, with(full)...), "u2: a=<nil>")
	if err := e.Close(); err != nil {
		t.Fatalf("Engine.Close: %v", err)
	}
	s = h.cfg.reopen(t, s)
	e, err = diff.NewEngine(ctx, s)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	wantChanges(t, run(t, e, "s", records([]diff.Record{u("u1", 1)}), accept, with(full)...))
}
