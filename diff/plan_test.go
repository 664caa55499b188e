package diff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func recs(rs ...Record) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func rec(key string, kv ...any) Record {
	r := Record{Key: key}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Attrs = append(r.Attrs, Attr{Name: kv[i].(string), Value: AnyValue(kv[i+1])})
	}
	return r
}

func newTestEngine(t *testing.T, store Store, opts ...Option) *Engine {
	t.Helper()
	e, err := NewEngine(context.Background(), store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// changeString renders a change as "key: a=1 b=<nil>", attributes sorted.
func changeString(c Change) string {
	var parts []string
	for n, v := range c.All() {
		parts = append(parts, fmt.Sprintf("%s=%v", n, v))
	}
	sort.Strings(parts)
	return c.Key + ": " + strings.Join(parts, " ")
}

// run plans input, acks every change with ack(change) and commits. It
// returns the changes (rendered, sorted) and the errors yielded.
func run(t *testing.T, e *Engine, scope string, input iter.Seq2[Record, error], ack func(Change) error, opts ...PlanOption) ([]string, []error, Summary) {
	t.Helper()
	chs, errs, sum, err := drive(t, e, scope, input, ack, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ch := range chs {
		out = append(out, changeString(ch))
	}
	sort.Strings(out)
	return out, errs, sum
}

// drive plans input, acknowledges each change with ack(change) (nil ack:
// accepted) and commits; it returns the changes and errors yielded, the
// summary and Commit's error.
func drive(t *testing.T, e *Engine, scope string, input iter.Seq2[Record, error], ack func(Change) error, opts ...PlanOption) ([]Change, []error, Summary, error) {
	t.Helper()
	ctx := context.Background()
	p, err := e.Plan(ctx, scope, input, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var chs []Change
	var errs []error
	for ch, err := range p.Changes() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		chs = append(chs, ch)
		var sendErr error
		if ack != nil {
			sendErr = ack(ch)
		}
		if err := p.Ack(ch, sendErr); err != nil {
			t.Fatal(err)
		}
	}
	err = p.Commit(ctx)
	return chs, errs, p.Summary(), err
}

func accept(Change) error { return nil }

func wantChanges(t *testing.T, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
}

func TestPlanSendsOnlyChanges(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	const scope = "braze:customer-attributes"
	got, _, sum := run(t, e, scope, recs(
		rec("u1", "first_name", "Ann", "ltv", json.Number("1.50")),
		rec("u2", "first_name", "Bob"),
	), accept)
	wantChanges(t, got, "u1: first_name=Ann ltv=1.50", "u2: first_name=Bob")
	if sum.New != 2 || sum.Attrs["first_name"].New != 2 {
		t.Errorf("summary %+v", sum)
	}

	// Same values in another form: nothing to send.
	got, _, sum = run(t, e, scope, recs(
		rec("u1", "ltv", json.Number("1.5"), "first_name", "Ann"),
		rec("u2", "first_name", "Bob"),
	), accept)
	wantChanges(t, got)
	if sum.Unchanged != 2 || sum.Attrs["ltv"].Unchanged != 1 {
		t.Errorf("summary %+v", sum)
	}

	// One attribute changes: only it is sent.
	got, _, sum = run(t, e, scope, recs(
		rec("u1", "ltv", json.Number("2"), "first_name", "Ann"),
		rec("u2", "first_name", "Bob"),
	), accept)
	wantChanges(t, got, "u1: ltv=2")
	if sum.Changed != 1 || sum.Unchanged != 1 || sum.Attrs["ltv"].Changed != 1 || sum.Attrs["first_name"].Unchanged != 2 {
		t.Errorf("summary %+v", sum)
	}
}

func TestRemovals(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	opts := []PlanOption{WithRemoveAs(false, "aud_vip"), WithKeepWhenAbsent("sticky")}
	run(t, e, "s", recs(rec("u1", "a", "x", "b", "y", "aud_vip", true, "sticky", int64(1))), accept, opts...)

	got, _, sum := run(t, e, "s", recs(rec("u1", "a", "x")), accept, opts...)
	wantChanges(t, got, "u1: aud_vip=false b=<nil>")
	if sum.Attrs["b"].Removed != 1 || sum.Attrs["aud_vip"].Removed != 1 {
		t.Errorf("summary %+v", sum.Attrs)
	}
	// The false was remembered: no churn.
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "x")), accept, opts...)
	wantChanges(t, got)
	// Explicit null removes; an explicit null for something never sent is nothing.
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", nil, "c", nil)), accept, opts...)
	wantChanges(t, got, "u1: a=<nil>")
	// Back in the audience.
	got, _, _ = run(t, e, "s", recs(rec("u1", "aud_vip", true)), accept, opts...)
	wantChanges(t, got, "u1: aud_vip=true")
	// sticky was kept all along: sending the same value is no change.
	got, _, _ = run(t, e, "s", recs(rec("u1", "aud_vip", true, "sticky", int64(1))), accept, opts...)
	wantChanges(t, got)
}

// Removal values given as Values act as the plain values they hold: a
// null Value is the default (remove), Bool(false) is false.
func TestRemovalsAsValues(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	opts := []PlanOption{WithRemoveAs(BoolValue(false), "aud_vip"), WithRemoveAs(NullValue(), "b")}
	run(t, e, "s", recs(rec("u1", "a", "x", "b", "y", "aud_vip", true)), accept, opts...)
	got, _, _ := run(t, e, "s", recs(rec("u1", "a", "x")), accept, opts...)
	wantChanges(t, got, "u1: aud_vip=false b=<nil>")
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "x")), accept, opts...)
	wantChanges(t, got)
}

func TestFullSnapshotAndIncremental(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	run(t, e, "s", recs(rec("u1", "a", "1", "aud", true), rec("u2", "a", "2", "aud", true)), accept)

	got, _, _ := run(t, e, "s", recs(rec("u1", "a", "1", "aud", true)), accept, WithMode(Incremental))
	wantChanges(t, got)

	got, _, sum := run(t, e, "s", recs(rec("u1", "a", "1", "aud", true)), accept, WithMode(FullSnapshot), WithRemoveAs(false, "aud"))
	wantChanges(t, got, "u2: a=<nil> aud=false")
	if sum.Removed != 1 || sum.Unchanged != 1 {
		t.Errorf("summary %+v", sum)
	}
	// u2 keeps only aud=false in state: the next snapshot sends nothing.
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "aud", true)), accept, WithMode(FullSnapshot), WithRemoveAs(false, "aud"))
	wantChanges(t, got)
	// Without the flag setting, aud is removed as null and u2 leaves the state.
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "aud", true)), accept, WithMode(FullSnapshot))
	wantChanges(t, got, "u2: aud=<nil>")
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "aud", true), rec("u2")), accept, WithMode(FullSnapshot))
	wantChanges(t, got)
}

func TestFullSnapshotSkipsRemovalsAfterUnattributedError(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	run(t, e, "s", recs(rec("u1", "a", "1"), rec("u2", "a", "2"), rec("u3", "a", "3")), accept)
	input := func(yield func(Record, error) bool) {
		if !yield(rec("u1", "a", "1"), nil) {
			return
		}
		if !yield(Record{}, errors.New("row 7: bad quoting")) {
			return
		}
		yield(rec("u3", "a", "3"), nil)
	}
	got, errs, sum := run(t, e, "s", input, accept, WithMode(FullSnapshot))
	wantChanges(t, got)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "row 7") || !errors.Is(sum.RemovalsSkipped, ErrIncompleteSnapshot) {
		t.Errorf("errors %v, removals skipped: %v", errs, sum.RemovalsSkipped)
	}
	// An error that names its key keeps that key alive.
	input = func(yield func(Record, error) bool) {
		if !yield(rec("u1", "a", "1"), nil) {
			return
		}
		if !yield(Record{Key: "u2"}, errors.New("row 8: bad date")) {
			return
		}
		yield(rec("u4", "a", "4"), nil)
	}
	got, errs, sum = run(t, e, "s", input, accept, WithMode(FullSnapshot))
	wantChanges(t, got, "u3: a=<nil>", "u4: a=4")
	var re *RecordError
	if len(errs) != 1 || !errors.As(errs[0], &re) || re.Key != "u2" || sum.RemovalsSkipped != nil {
		t.Errorf("errors %v, removals skipped: %v", errs, sum.RemovalsSkipped)
	}
}

func TestRecordErrorsContinue(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	got, errs, sum := run(t, e, "s", recs(
		rec("u1", "a", struct{}{}),
		rec("u2", "a", "1", "a", "2"),
		rec("", "a", "1"),
		rec("u3", "", "1"),
		rec("u4", "a", "ok"),
	), accept)
	wantChanges(t, got, "u4: a=ok")
	if len(errs) != 4 || sum.Errors != 4 || sum.Records != 5 {
		t.Fatalf("errors %v, summary %+v", errs, sum)
	}
	var re *RecordError
	if !errors.As(errs[0], &re) || re.Key != "u1" || re.Attr != "a" || re.Index != 0 {
		t.Errorf("first error %v", errs[0])
	}
	if !strings.Contains(errs[1].Error(), "twice") {
		t.Errorf("second error %v", errs[1])
	}
}

// Issue 13, item 7: a key twice in one export was sent twice on every run
// (the profile flipped within the run and never settled). The first record
// wins, the later one is reported, and a second run sends nothing.
func TestRegression_Issue13_DuplicatesConverge(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	run(t, e, "s", recs(rec("u1", "a", "1", "b", "1")), accept)

	input := recs(rec("u1", "a", "2", "b", "1"), rec("u2", "a", "1"), rec("u1", "a", "1", "b", "1"))
	got, errs, sum := run(t, e, "s", input, accept)
	wantChanges(t, got, "u1: a=2", "u2: a=1")
	var de *DuplicateKeyError
	if len(errs) != 1 || !errors.As(errs[0], &de) || de.Key != "u1" || de.Index != 2 || sum.Duplicates != 1 {
		t.Fatalf("errors %v, summary %+v", errs, sum)
	}
	got, errs, _ = run(t, e, "s", input, accept)
	wantChanges(t, got)
	if len(errs) != 1 || !errors.Is(errs[0], ErrDuplicateKey) {
		t.Errorf("errors %v", errs)
	}
}

func TestComparisons(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	opts := []PlanOption{WithCompare(Tolerance(0.05), "clv"), WithCompare(TruncateTime(time.Hour), "seen_at"), WithCompare(Exact(), "exact")}
	t0 := time.Date(2024, 1, 1, 10, 5, 0, 0, time.UTC)
	run(t, e, "s", recs(rec("u1", "clv", 10.0, "seen_at", t0, "exact", 1.0)), accept, opts...)

	got, _, _ := run(t, e, "s", recs(rec("u1", "clv", 10.03, "seen_at", t0.Add(20*time.Minute), "exact", 1.0000001)), accept, opts...)
	wantChanges(t, got, "u1: exact=1.0000001")
	// Drift adds up against the value sent, not the latest input.
	got, _, _ = run(t, e, "s", recs(rec("u1", "clv", 10.06, "seen_at", t0, "exact", 1.0000001)), accept, opts...)
	wantChanges(t, got, "u1: clv=10.06")
	got, _, _ = run(t, e, "s", recs(rec("u1", "clv", json.Number("10.06"), "seen_at", t0.Add(time.Hour), "exact", 1.0000001)), accept, opts...)
	wantChanges(t, got, "u1: seen_at=2024-01-01 11:05:00 +0000 UTC")
	// A non-number under a tolerance compares exactly.
	got, _, _ = run(t, e, "s", recs(rec("u1", "clv", "n/a", "seen_at", t0.Add(time.Hour), "exact", 1.0000001)), accept, opts...)
	wantChanges(t, got, "u1: clv=n/a")
}

func TestAckFailuresArePlannedAgain(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	input := recs(rec("u1", "a", "1"), rec("u2", "a", "2"), rec("u3", "a", "3"))
	got, _, _ := run(t, e, "s", input, func(c Change) error {
		if c.Key == "u2" {
			return errors.New("braze: invalid")
		}
		return nil
	})
	wantChanges(t, got, "u1: a=1", "u2: a=2", "u3: a=3")
	got, _, _ = run(t, e, "s", input, accept)
	wantChanges(t, got, "u2: a=2")

	// Unacknowledged changes are planned again too.
	input = recs(rec("u1", "a", "9"), rec("u2", "a", "9"))
	p, err := e.Plan(context.Background(), "s", input)
	if err != nil {
		t.Fatal(err)
	}
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		if ch.Key == "u1" {
			p.Ack(ch, nil)
		}
	}
	if err := p.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _, _ = run(t, e, "s", input, accept)
	wantChanges(t, got, "u2: a=9")
}

// A failed send may still have been applied (a timeout, say): what it
// carried is unknown to the state, so it is sent again even if the input
// went back to the value held before, and removed if it disappears.
func TestFailedSendMakesAttributesUnknown(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	run(t, e, "s", recs(rec("u1", "a", "1", "keep", "k")), accept)
	reject := func(Change) error { return errors.New("timeout") }
	got, _, _ := run(t, e, "s", recs(rec("u1", "a", "2", "new", "n", "keep", "k")), reject)
	wantChanges(t, got, "u1: a=2 new=n")
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "keep", "k")), accept)
	wantChanges(t, got, "u1: a=1 new=<nil>")
	got, _, _ = run(t, e, "s", recs(rec("u1", "a", "1", "keep", "k")), accept)
	wantChanges(t, got)
}

func TestDryRunAndExplain(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	run(t, e, "s", recs(rec("u1", "a", "1", "b", "1"), rec("u2", "a", "1")), accept)
	p, err := e.Plan(context.Background(), "s", recs(rec("u1", "a", "2", "b", "1"), rec("u3", "a", "1")),
		WithDryRun(), WithMode(FullSnapshot), WithExplain("u1", "u2", "u3"))
	if err != nil {
		t.Fatal(err)
	}
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		p.Ack(ch, nil)
	}
	if err := p.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Summary()
	if s.New != 1 || s.Changed != 1 || s.Removed != 1 || s.Unchanged != 0 || !s.DryRun {
		t.Errorf("summary %+v", s)
	}
	if a := s.Attrs["a"]; a != (AttrSummary{New: 1, Changed: 1, Removed: 1}) {
		t.Errorf("attribute a: %+v", a)
	}
	ex, ok := p.Explain("u1")
	if !ok || ex.Delta != DeltaChanged || len(ex.Attrs) != 2 {
		t.Fatalf("explain u1: %+v", ex)
	}
	if a := ex.Attrs[0]; a.Name != "a" || a.Delta != DeltaChanged || !a.HasPrevious || a.Value != "2" || !a.Sent || !strings.Contains(a.Reason, "hash") {
		t.Errorf("explain u1.a: %+v", a)
	}
	if a := ex.Attrs[1]; a.Name != "b" || a.Delta != DeltaUnchanged || a.Sent {
		t.Errorf("explain u1.b: %+v", a)
	}
	if ex, ok := p.Explain("u2"); !ok || ex.Delta != DeltaRemoved || !strings.Contains(ex.Attrs[0].Reason, "absent from snapshot") {
		t.Errorf("explain u2: %+v", ex)
	}
	if ex, ok := p.Explain("u3"); !ok || ex.Delta != DeltaNew || ex.Attrs[0].HasPrevious {
		t.Errorf("explain u3: %+v", ex)
	}
	// Nothing was written.
	got, _, _ := run(t, e, "s", recs(rec("u1", "a", "1", "b", "1"), rec("u2", "a", "1")), accept, WithMode(FullSnapshot))
	wantChanges(t, got)
}

func TestScopesAndLocks(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	ctx := context.Background()
	run(t, e, "one", recs(rec("u1", "a", "1")), accept)
	got, _, _ := run(t, e, "two", recs(rec("u1", "a", "1")), accept)
	wantChanges(t, got, "u1: a=1")

	p, err := e.Plan(ctx, "one", recs())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Plan(ctx, "one", recs()); !errors.Is(err, ErrScopeLocked) || !strings.Contains(err.Error(), `"one"`) {
		t.Errorf("second plan: %v", err)
	}
	p2, err := e.Plan(ctx, "two", recs())
	if err != nil {
		t.Fatal(err)
	}
	p2.Close()
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(ctx); !errors.Is(err, ErrPlanClosed) {
		t.Errorf("second commit: %v", err)
	}
	p, err = e.Plan(ctx, "one", recs())
	if err != nil {
		t.Fatalf("after commit: %v", err)
	}
	p.Close()
	if _, err := e.Plan(ctx, "", recs()); err == nil {
		t.Error("empty scope accepted")
	}
}

func TestProgressAndConcurrentAcks(t *testing.T) {
	const n = 5000
	store := NewMemoryStore()
	e := newTestEngine(t, store, WithAckBatch(64))
	input := func(yield func(Record, error) bool) {
		for i := range n {
			if !yield(rec(fmt.Sprintf("u%05d", i), "a", int64(i), "b", "x"), nil) {
				return
			}
		}
	}
	ctx := context.Background()
	p, err := e.Plan(ctx, "s", input)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan Change, 16)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the sender's result loop
		defer wg.Done()
		for ch := range results {
			var err error
			if ch.Key[len(ch.Key)-1] == '7' {
				err = errors.New("rejected")
			}
			if err := p.Ack(ch, err); err != nil {
				t.Error(err)
			}
		}
	}()
	go func() { // a progress bar
		defer wg.Done()
		var last Progress
		for last.Acked+last.Failed < n {
			pr := p.Progress()
			if pr.Read < last.Read || pr.Emitted > pr.Read || pr.Committed > pr.Acked {
				t.Errorf("progress went wrong: %+v after %+v", pr, last)
				return
			}
			last = pr
			_ = p.Summary()
			time.Sleep(time.Millisecond)
		}
	}()
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		results <- ch
	}
	close(results)
	wg.Wait()
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	pr := p.Progress()
	if pr != (Progress{Read: n, Emitted: n, Acked: n * 9 / 10, Failed: n / 10, Committed: n * 9 / 10}) {
		t.Errorf("final progress %+v", pr)
	}
	got, _, _ := run(t, e, "s", input, accept)
	if len(got) != n/10 {
		t.Errorf("%d replanned, want %d", len(got), n/10)
	}
}

func TestContextCancel(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	input := func(yield func(Record, error) bool) {
		for i := 0; ; i++ {
			if !yield(rec(fmt.Sprint(i), "a", "1"), nil) {
				return
			}
		}
	}
	p, err := e.Plan(ctx, "s", input)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		if ch.Key == "10" {
			cancel()
		}
	}
	if err := p.Err(); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrInputEnded) {
		t.Errorf("Err() = %v", err)
	}
}

type brokenStore struct{ Store }

func (s brokenStore) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	if key[0] != keyUser {
		return s.Store.Get(ctx, key, dst)
	}
	return nil, false, errors.New("disk on fire")
}

func TestStoreFailureEndsPlan(t *testing.T) {
	mem := NewMemoryStore()
	run(t, newTestEngine(t, mem), "s", recs(rec("u0", "a", "1")), accept)
	e := newTestEngine(t, brokenStore{mem})
	p, err := e.Plan(context.Background(), "s", numbered(1000, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, err := range p.Changes() {
		t.Errorf("yielded %v", err)
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), `"u0000"`) {
		t.Errorf("Err() = %v", err)
	}
	if err := p.Commit(context.Background()); err == nil || err.Error() != p.Err().Error() {
		t.Errorf("Commit = %v", err)
	}
}

func TestChangesOnlyOnce(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	p, _ := e.Plan(context.Background(), "s", recs())
	defer p.Close()
	for range p.Changes() {
	}
	for _, err := range p.Changes() {
		if err == nil {
			t.Error("second iteration without error")
		}
	}
	if err := p.Ack(Change{}, nil); err == nil {
		t.Error("Ack of a zero Change accepted")
	}
}

// A panic in the consumer's loop body must leave no goroutine of the plan
// running (the key set they use is freed when Changes returns).
func TestConsumerPanicJoinsGoroutines(t *testing.T) {
	e := newTestEngine(t, NewMemoryStore())
	// More records than one batch of intents (intentChunk), so that the
	// first change is yielded, and the consumer panics, before the input
	// is read to its end.
	const n = 5 * intentChunk
	p, err := e.Plan(context.Background(), "s", numbered(n, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		for range p.Changes() {
			panic("consumer bug")
		}
	}()
	if got := p.Progress().Read; got >= n {
		t.Errorf("reader went on to %d records", got)
	}
}

// A change carries its record's position in the input, errors counted, so
// a caller can name the source row of a change the destination rejected.
func TestChangeIndex(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, NewMemoryStore())
	input := func(yield func(Record, error) bool) {
		_ = yield(rec("a", "x", "1"), nil) &&
			yield(Record{}, errors.New("row 2 is bad")) &&
			yield(rec("c", "x", "3"), nil)
	}
	plan, err := e.Plan(ctx, "s", input, WithMode(FullSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for ch, err := range plan.Changes() {
		if err == nil {
			got[ch.Key] = ch.Index
			plan.Ack(ch, nil)
		}
	}
	if got["a"] != 0 || got["c"] != 2 {
		t.Errorf("indexes %v, want a:0 c:2", got)
	}
	if err := plan.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	plan, err = e.Plan(ctx, "s", recs(rec("c", "x", "3")), WithMode(FullSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	for ch, err := range plan.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		if ch.Key != "a" || ch.Delta != DeltaRemoved || ch.Index != -1 {
			t.Errorf("change %s %s index %d, want a removed with index -1", ch.Key, ch.Delta, ch.Index)
		}
	}
	plan.Close()
}

// An input that reuses one Attrs slice for every record (as
// amperity.ReuseRecords does) plans the same changes as one that does
// not: the plan copies the slice as it reads each record, while workers
// plan records of earlier batches.
func TestInputMayReuseAttrsSlice(t *testing.T) {
	const n = 3 * batchLen
	input := func(reuse bool, version int) iter.Seq2[Record, error] {
		return func(yield func(Record, error) bool) {
			var buf []Attr
			for i := range n {
				attrs := buf[:0]
				if !reuse {
					attrs = nil
				}
				attrs = append(attrs, Attr{"a", AnyValue(int64(i * version))}, Attr{"b", AnyValue(fmt.Sprint("v", i))})
				if i%3 == 0 {
					attrs = append(attrs, Attr{"c", AnyValue(i%2 == 0)})
				}
				buf = attrs
				if !yield(Record{Key: fmt.Sprintf("u%04d", i), Attrs: attrs}, nil) {
					return
				}
			}
		}
	}
	for _, version := range []int{1, 2} {
		fresh, _, _ := run(t, newTestEngine(t, NewMemoryStore()), "s", input(false, version), accept)
		reused, _, _ := run(t, newTestEngine(t, NewMemoryStore()), "s", input(true, version), accept)
		if len(fresh) != n {
			t.Fatalf("%d changes, want %d", len(fresh), n)
		}
		if !slices.Equal(fresh, reused) {
			for i := range fresh {
				if fresh[i] != reused[i] {
					t.Fatalf("version %d: reused slice planned %q, want %q", version, reused[i], fresh[i])
				}
			}
		}
	}
	// And a re-sync against state written from a reused slice is empty.
	e := newTestEngine(t, NewMemoryStore())
	run(t, e, "s", input(true, 1), accept)
	if got, _, _ := run(t, e, "s", input(false, 1), accept, WithMode(FullSnapshot)); len(got) != 0 {
		t.Fatalf("re-sync planned %d changes: %v", len(got), got[:min(3, len(got))])
	}
}
