package storetest

import (
	"context"
	"fmt"
	"iter"

	"github.com/ampbraze/ampbraze/diff"
)

// Numbered yields n users u0000.. with a=version and b="same": the small
// input of the suite's engine tests, for the stores' own tests too.
func Numbered(n int, version int) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		for i := range n {
			r := diff.Record{Key: fmt.Sprintf("u%04d", i), Attrs: []diff.Attr{
				{Name: "a", Value: diff.IntValue(int64(version))}, {Name: "b", Value: diff.StringValue("same")}}}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// SyncAll plans records on scope, acknowledges every change as accepted,
// commits, and returns how many changes the plan yielded: a sync against a
// destination that accepts everything, as the stores' benchmarks run it.
func SyncAll(ctx context.Context, e *diff.Engine, scope string, records iter.Seq2[diff.Record, error], opts ...diff.PlanOption) (changes int64, err error) {
	p, err := e.Plan(ctx, scope, records, opts...)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	for ch, err := range p.Changes() {
		if err != nil {
			return changes, err
		}
		changes++
		if err := p.Ack(ch, nil); err != nil {
			return changes, err
		}
	}
	return changes, p.Commit(ctx)
}
