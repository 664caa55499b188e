package pgstore

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// users yields keys [from, to) with three attributes; version changes
// the value of one attribute of every tenth user.
func users(from, to, version int) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		for i := from; i < to; i++ {
			score := int64(i)
			if i%10 == 0 {
				score += int64(version) * 1000
			}
			r := diff.Record{Key: fmt.Sprintf("user-%06d", i), Attrs: []diff.Attr{
				{Name: "first_name", Value: diff.StringValue(fmt.Sprintf("name %d", i))},
				{Name: "score", Value: diff.IntValue(score)},
				{Name: "vip", Value: diff.BoolValue(i%3 == 0)},
			}}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// syncAll plans records against scope, acknowledges every change as
// accepted and commits; it returns the changes by status.
func syncAll(t *testing.T, e *diff.Engine, records iter.Seq2[diff.Record, error], opts ...diff.PlanOption) map[diff.Delta]int {
	t.Helper()
	ctx := context.Background()
	p, err := e.Plan(ctx, "users", records, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := make(map[diff.Delta]int)
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		got[ch.Delta]++
		if err := p.Ack(ch, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestEngineEndToEnd runs the delta engine on a PostgreSQL store: a first
// sync, a re-sync that finds nothing, one with a tenth changed, a full
// snapshot that drops half the users, and a re-sync after the store is
// reopened (as by another process) that finds nothing again.
func TestEngineEndToEnd(t *testing.T) {
	const n = 5000
	schema := testSchema(t)
	ctx := context.Background()
	open := func() *diff.Engine {
		s, err := Open(ctx, needPG(t), WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		e, err := diff.NewEngine(ctx, s, diff.WithAckBatch(512))
		if err != nil {
			s.Close()
			t.Fatal(err)
		}
		return e
	}
	e := open()
	if got := syncAll(t, e, users(0, n, 0)); got[diff.DeltaNew] != n || len(got) != 1 {
		t.Fatalf("first sync: %v; want %d new", got, n)
	}
	if got := syncAll(t, e, users(0, n, 0)); len(got) != 0 {
		t.Fatalf("re-sync of the same input: %v; want nothing", got)
	}
	if got := syncAll(t, e, users(0, n, 1)); got[diff.DeltaChanged] != n/10 || len(got) != 1 {
		t.Fatalf("re-sync with a tenth changed: %v; want %d changed", got, n/10)
	}
	got := syncAll(t, e, users(0, n/2, 1), diff.WithMode(diff.FullSnapshot),
		diff.WithMaxRemovals(diff.NoLimit), diff.WithMaxChanges(diff.NoLimit))
	if got[diff.DeltaRemoved] != n/2 || len(got) != 1 {
		t.Fatalf("full snapshot of half the users: %v; want %d removed", got, n/2)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = open()
	defer e.Close()
	if got := syncAll(t, e, users(0, n/2, 1), diff.WithMode(diff.FullSnapshot)); len(got) != 0 {
		t.Fatalf("re-sync after reopening: %v; want nothing", got)
	}
	// The removed users are gone from the table, not only from the plan.
	s, err := Open(ctx, needPG(t), WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+s.table).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows < n/2 || rows > n/2+20 { // the users plus the engine's few meta keys
		t.Fatalf("the table holds %d rows after removing half of %d users", rows, n)
	}
}
