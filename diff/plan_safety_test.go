package diff

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// seed syncs n users u000..u(n-1) with a=1, b=x and accepts everything.
func seed(t *testing.T, e *Engine, scope string, n int) {
	t.Helper()
	var rs []Record
	for i := range n {
		rs = append(rs, rec(fmt.Sprintf("u%03d", i), "a", "1", "b", "x"))
	}
	run(t, e, scope, recs(rs...), accept)
}

// planAll is drive returning the keys of the changes.
func planAll(t *testing.T, e *Engine, scope string, input iter.Seq2[Record, error], ack func(Change) error, opts ...PlanOption) (keys []string, errs []error, sum Summary, commitErr error) {
	t.Helper()
	chs, errs, sum, commitErr := drive(t, e, scope, input, ack, opts...)
	for _, ch := range chs {
		keys = append(keys, ch.Key)
	}
	return keys, errs, sum, commitErr
}

type fatalErr struct{ msg string }

func (e fatalErr) Error() string { return e.msg }
func (fatalErr) Fatal() bool     { return true }

// Issue 13, item 1: a bad row ended the input (the mapper stopped at the
// first error) and the plan took the early end for a complete snapshot:
// every later user was planned as removed.
func TestRegression_Issue13_BadRowThenEndPlansNoRemovals(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	seed(t, e, "s", 50)
	// The input stops after a keyed error (the amperity mapper used to stop at the first bad row by default).
	input := func(yield func(Record, error) bool) {
		if !yield(rec("u000", "a", "1", "b", "x"), nil) {
			return
		}
		yield(Record{Key: "u001"}, errors.New(`row 2, column "order_count": not an Integer`))
	}
	keys, errs, sum, err := planAll(t, e, "s", input, nil, WithMode(FullSnapshot), WithMaxRemovals(NoLimit), WithMaxChanges(NoLimit))
	if len(keys) != 0 || len(errs) != 1 || err != nil {
		t.Fatalf("keys %v, errors %v, commit %v", keys, errs, err)
	}
	if !errors.Is(sum.RemovalsSkipped, ErrIncompleteSnapshot) || sum.Removed != 0 {
		t.Errorf("summary %+v", sum)
	}

	// An input that says it cannot go on (Fatal) ends the plan: no
	// removals, Err and Commit report it.
	input = func(yield func(Record, error) bool) {
		if !yield(rec("u000", "a", "2", "b", "x"), nil) {
			return
		}
		if yield(Record{}, fatalErr{"line 3: unterminated quote"}) {
			t.Error("the plan asked for more after a fatal error")
		}
	}
	keys, errs, sum, err = planAll(t, e, "s", input, nil, WithMode(FullSnapshot), WithMaxRemovals(NoLimit), WithMaxChanges(NoLimit))
	if !errors.Is(err, ErrInputEnded) || !strings.Contains(err.Error(), "unterminated quote") || len(errs) != 0 || sum.Removed != 0 {
		t.Fatalf("keys %v, errors %v, commit %v, summary %+v", keys, errs, err, sum)
	}
}

// Issue 13, item 2: an empty full snapshot (a header-only export) planned
// every stored user as removed.
func TestRegression_Issue13_EmptySnapshotRefused(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	seed(t, e, "s", 5)
	keys, errs, _, err := planAll(t, e, "s", recs(), nil, WithMode(FullSnapshot))
	if !errors.Is(err, ErrEmptySnapshot) || len(keys) != 0 || len(errs) != 0 {
		t.Fatalf("keys %v, errors %v, commit %v", keys, errs, err)
	}
	// Allowed explicitly, it removes them (5 is within the default floor).
	keys, _, _, err = planAll(t, e, "s", recs(), nil, WithMode(FullSnapshot), WithAllowEmptySnapshot())
	if err != nil || len(keys) != 5 {
		t.Fatalf("keys %v, commit %v", keys, err)
	}
}

// The guardrails: a full snapshot that would remove or change more stored
// keys than its limits yields nothing at all, and says how many.
func TestFullSnapshotLimits(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	seed(t, e, "s", 200)
	half := func(v string) iter.Seq2[Record, error] {
		var rs []Record
		for i := range 100 {
			rs = append(rs, rec(fmt.Sprintf("u%03d", i), "a", v, "b", "x"))
		}
		return recs(rs...)
	}
	keys, _, sum, err := planAll(t, e, "s", half("1"), nil, WithMode(FullSnapshot))
	var le *LimitError
	if !errors.As(err, &le) || le.What != "removals" || le.Max != 20 || le.Stored != 200 || len(keys) != 0 || !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("keys %d, commit %v, summary %+v", len(keys), err, sum)
	}
	if !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("message %q", err)
	}
	// A dry run yields every change and reports the limit it would exceed.
	keys, _, sum, err = planAll(t, e, "s", half("1"), nil, WithMode(FullSnapshot), WithDryRun())
	if !errors.As(err, &le) || !le.Final || le.Count != 100 || len(keys) != 100 || sum.MaxRemovals != 20 {
		t.Fatalf("dry run: keys %d, commit %v, summary %+v", len(keys), err, sum)
	}
	// Changing every stored key exceeds the changes limit (50%) even with
	// removals allowed.
	all := func(yield func(Record, error) bool) {
		for i := range 200 {
			if !yield(rec(fmt.Sprintf("u%03d", i), "a", "2", "b", "x"), nil) {
				return
			}
		}
	}
	keys, _, _, err = planAll(t, e, "s", all, nil, WithMode(FullSnapshot))
	if !errors.As(err, &le) || le.What != "changes" || le.Final || len(keys) != 0 {
		t.Fatalf("keys %d, commit %v", len(keys), err)
	}
	// Lifted, the same plans go through, and nothing was recorded before.
	keys, _, _, err = planAll(t, e, "s", all, nil, WithMode(FullSnapshot), WithMaxChanges(MaxFraction(1)))
	if err != nil || len(keys) != 200 {
		t.Fatalf("keys %d, commit %v", len(keys), err)
	}
	keys, _, _, err = planAll(t, e, "s", half("2"), nil, WithMode(FullSnapshot), WithMaxRemovals(MaxCount(100)))
	if err != nil || len(keys) != 100 {
		t.Fatalf("keys %d, commit %v", len(keys), err)
	}
	// Incremental plans have no limit unless one is set.
	keys, _, _, err = planAll(t, e, "s", half("3"), nil, WithMaxChanges(MaxCount(10)))
	if !errors.As(err, &le) || le.What != "changes" || len(keys) != 0 {
		t.Fatalf("keys %d, commit %v", len(keys), err)
	}
}

type refusal struct{}

func (refusal) Error() string    { return "braze: object rejected: invalid email" }
func (refusal) Rejected() bool   { return true }
func (refusal) NotApplied() bool { return true }

// Issue 13, item 8: values the destination rejected were sent again on
// every run until the data changed.
func TestRegression_Issue13_RejectedValuesNotResent(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	run(t, e, "s", recs(rec("u1", "email", "a@x.com", "tier", "gold")), accept)
	reject := func(Change) error { return refusal{} }
	got, _, _ := run(t, e, "s", recs(rec("u1", "email", "not-an-email", "tier", "gold")), reject)
	wantChanges(t, got, "u1: email=not-an-email")

	got, _, sum := run(t, e, "s", recs(rec("u1", "email", "not-an-email", "tier", "gold")), accept)
	wantChanges(t, got)
	if sum.StillRejected != 1 {
		t.Errorf("summary %+v", sum)
	}
	// Another attribute changes: the user's data changed, so what Braze
	// rejected with it goes again (which value was at fault is not known).
	got, _, _ = run(t, e, "s", recs(rec("u1", "email", "not-an-email", "tier", "silver")), reject)
	wantChanges(t, got, "u1: email=not-an-email tier=silver")
	got, _, sum = run(t, e, "s", recs(rec("u1", "email", "not-an-email", "tier", "silver")), accept)
	wantChanges(t, got)
	if sum.StillRejected != 1 {
		t.Errorf("summary %+v", sum)
	}
	// An option sends rejected values again.
	got, _, _ = run(t, e, "s", recs(rec("u1", "email", "not-an-email", "tier", "silver")), reject, WithResendRejected())
	wantChanges(t, got, "u1: email=not-an-email tier=silver")
	// The data changes: sent.
	got, _, _ = run(t, e, "s", recs(rec("u1", "email", "b@x.com", "tier", "silver")), accept)
	wantChanges(t, got, "u1: email=b@x.com tier=silver")
	got, _, _ = run(t, e, "s", recs(rec("u1", "email", "b@x.com", "tier", "silver")), accept)
	wantChanges(t, got)
	// A rejected value that disappears is removed (the destination may hold
	// the value accepted before the rejected one).
	run(t, e, "s", recs(rec("u1", "email", "bad", "tier", "silver")), reject)
	got, _, _ = run(t, e, "s", recs(rec("u1", "tier", "silver")), accept)
	wantChanges(t, got, "u1: email=<nil>")
	// A user whose first values were all rejected holds nothing at the
	// destination: leaving a snapshot plans no removal (it would create an
	// empty profile), and neither does dropping the attribute.
	run(t, e, "s", recs(rec("u1", "tier", "silver"), rec("u2", "email", "bad", "tier", "x")), reject)
	got, _, _ = run(t, e, "s", recs(rec("u1", "tier", "silver"), rec("u2", "tier", "x", "city", "Oslo")), accept)
	wantChanges(t, got, "u2: city=Oslo tier=x")
	run(t, e, "s", recs(rec("u1", "tier", "silver"), rec("u3", "email", "bad")), reject)
	got, _, _ = run(t, e, "s", recs(rec("u1", "tier", "silver"), rec("u2", "tier", "x", "city", "Oslo")), accept, WithMode(FullSnapshot))
	wantChanges(t, got) // u3 left: it holds nothing at the destination
}

// Issue 14, item 1: after Ctrl-C the first acknowledgement write failed on
// the cancelled context, and Commit failed with it: accepted work was lost.
func TestRegression_Issue14_AcksAfterCancelAreCommitted(t *testing.T) {
	mem := NewMemoryStore()
	e := newTestEngine(t, mem, WithAckBatch(2))
	ctx, cancel := context.WithCancel(context.Background())
	p, err := e.Plan(ctx, "s", numbered(10, 1))
	if err != nil {
		t.Fatal(err)
	}
	var chs []Change
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		chs = append(chs, ch)
	}
	cancel() // Ctrl-C while the answers are still coming in
	for _, ch := range chs {
		if err := p.Ack(ch, nil); err != nil {
			t.Fatalf("Ack after cancel: %v", err)
		}
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatalf("Commit after cancel: %v", err)
	}
	got, _, _ := run(t, e, "s", numbered(10, 1), accept)
	wantChanges(t, got)
}

// Issue 14, item 2: acknowledgements reached the store only in batches of
// 4,096, so repeated kills recorded nothing. They are written on a timer.
func TestRegression_Issue14_AcksFlushedOnTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := NewMemoryStore()
		e := newTestEngine(t, mem, WithFlushInterval(time.Second))
		p, err := e.Plan(context.Background(), "s", numbered(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		for ch, err := range p.Changes() {
			if err != nil {
				t.Fatal(err)
			}
			p.Ack(ch, nil)
		}
		if c := p.Progress().Committed; c != 0 {
			t.Fatalf("committed %d before the interval", c)
		}
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		if c := p.Progress().Committed; c != 3 {
			t.Fatalf("committed %d after the interval, want 3", c)
		}
		// The process dies here, without Commit (Close drops what is
		// pending): a new engine on the same store finds the three users
		// recorded.
		p.Close()
		got, _, _ := run(t, newTestEngine(t, mem), "s", numbered(3, 1), accept)
		wantChanges(t, got)
	})
}

// Issue 14, item 3: a process killed after sending and before the
// acknowledgement left no trace, so a later input that dropped the
// attributes (or the user) never removed them from Braze.
func TestRegression_Issue14_CrashBetweenSendAndAckHidesNoRemoval(t *testing.T) {
	mem := NewMemoryStore()
	e := newTestEngine(t, mem)
	run(t, e, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "2"), rec("u3", "a", "3")), accept)

	// Day 1 is planned and sent; the process dies before any answer.
	p, err := e.Plan(context.Background(), "s", recs(rec("u1", "a", "1", "vip", "yes"), rec("u2", "a", "2", "new", "n"), rec("u3", "a", "3"), rec("u4", "a", "4")))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
	}
	// (no Ack, no Commit: killed). A restarted process opens the state.
	e2 := newTestEngine(t, mem)

	// Day 2 is a different file: vip and new are gone, u4 left, u3 too.
	got, _, _ := run(t, e2, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "2")), accept, WithMode(FullSnapshot))
	wantChanges(t, got, "u1: vip=<nil>", "u2: new=<nil>", "u3: a=<nil>", "u4: a=<nil>")
	got, _, _ = run(t, e2, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "2")), accept, WithMode(FullSnapshot))
	wantChanges(t, got)
}

// A first full-snapshot sync interrupted before any answer leaves nothing
// but intents: the next run sends everything again, and that counts as
// changing no value Braze accepted, so the default limits let it through
// (the e2e suite found such runs refused, and the sync never converged).
func TestInterruptedFirstSyncIsNotOverTheLimits(t *testing.T) {
	mem := NewMemoryStore()
	e := newTestEngine(t, mem)
	var rs []Record
	for i := range 100 {
		rs = append(rs, rec(fmt.Sprintf("u%03d", i), "a", "1"))
	}
	p, err := e.Plan(context.Background(), "s", recs(rs...), WithMode(FullSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Killed: no Ack, no Commit. The next process plans the same export.
	keys, _, sum, err := planAll(t, newTestEngine(t, mem), "s", recs(rs...), nil, WithMode(FullSnapshot))
	if err != nil || len(keys) != 100 || sum.Stored != 100 {
		t.Fatalf("keys %d, commit %v, summary %+v", len(keys), err, sum)
	}
	// Once accepted, changing them all is over the limit again.
	for i := range rs {
		rs[i] = rec(rs[i].Key, "a", "2")
	}
	if _, _, _, err := planAll(t, newTestEngine(t, mem), "s", recs(rs...), nil, WithMode(FullSnapshot)); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("commit %v, want the changes limit", err)
	}
}
