package pgstore

import (
	"context"
	"errors"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// Issue 15: an engine on a shared store holds its scope across processes
// for the plan's life (two engines stand for two processes): a second
// Plan of the scope is refused until the first plan commits, closes, or
// its engine is closed.
func TestRegression_Issue15_EngineHoldsScopeAcrossProcesses(t *testing.T) {
	schema := testSchema(t)
	ctx := context.Background()
	open := func() *diff.Engine {
		s, err := Open(ctx, needPG(t), WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		e, err := diff.NewEngine(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	e1, e2 := open(), open()
	p1, err := e1.Plan(ctx, "users", users(0, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e2.Plan(ctx, "users", users(0, 10, 0)); !errors.Is(err, diff.ErrScopeLocked) {
		t.Fatalf("second process: %v", err)
	}
	for ch, err := range p1.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		p1.Ack(ch, nil)
	}
	if err := p1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	p2, err := e2.Plan(ctx, "users", users(0, 10, 0))
	if err != nil {
		t.Fatalf("after commit: %v", err)
	}
	p2.Close()
	p3, err := e1.Plan(ctx, "users", users(0, 10, 0))
	if err != nil {
		t.Fatalf("after close: %v", err)
	}
	e1.Close() // closing the engine with the plan open releases the lock (Store.Close)
	if err := p3.Commit(ctx); !errors.Is(err, diff.ErrClosed) {
		t.Errorf("commit after the engine closed: %v", err)
	}
	p4, err := e2.Plan(ctx, "users", users(0, 10, 0))
	if err != nil {
		t.Fatalf("after engine close: %v", err)
	}
	p4.Close()
}
