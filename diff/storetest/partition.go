package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// testPartitioning: the first plan that writes a scope records its
// partitioning durably (a later engine on the store sees it); a plan with
// another n, or without partitions, or with them on a scope planned
// without, fails at Plan with a *diff.PartitionError, also in a dry run;
// ScopeKeys of a partitioned scope sums its partitions' counts; and a dry
// run on a scope that does not exist writes nothing to the store.
func (h *harness) testPartitioning(t *testing.T) {
	ctx := context.Background()
	s := h.fresh(t)
	e := newEngine(t, keepOpen{s})
	for i := range 2 {
		if _, err := SyncAll(ctx, e, "parted", Numbered(10, 1), diff.WithPartition(i, 2)); err != nil {
			t.Fatalf("partition %d/2: %v", i, err)
		}
	}
	if _, err := SyncAll(ctx, e, "whole", Numbered(5, 1)); err != nil {
		t.Fatal(err)
	}
	e = newEngine(t, keepOpen{s}) // what was recorded is in the store
	for scope, want := range map[string]int64{"parted": 10, "whole": 5, "never": 0} {
		if n, err := e.ScopeKeys(ctx, scope); err != nil || n != want {
			t.Errorf("ScopeKeys(%q) = %d, %v; want %d", scope, n, err, want)
		}
	}
	mismatch := []struct {
		scope           string
		stored, planned int
		opts            []diff.PlanOption
	}{
		{"parted", 2, 0, nil},
		{"parted", 2, 3, []diff.PlanOption{diff.WithPartition(0, 3)}},
		{"parted", 2, 0, []diff.PlanOption{diff.WithDryRun()}},
		{"whole", 0, 2, []diff.PlanOption{diff.WithPartition(1, 2)}},
		{"whole", 0, 2, []diff.PlanOption{diff.WithPartition(0, 2), diff.WithDryRun()}},
	}
	for _, m := range mismatch {
		p, err := e.Plan(ctx, m.scope, Numbered(10, 2), m.opts...)
		if err == nil {
			p.Close()
			t.Errorf("scope %q (stored %d partitions) planned with %d: no error", m.scope, m.stored, m.planned)
			continue
		}
		var pe *diff.PartitionError
		if !errors.Is(err, diff.ErrPartitionMismatch) || !errors.As(err, &pe) || pe.Stored != m.stored || pe.Planned != m.planned || pe.Scope != m.scope {
			t.Errorf("scope %q planned with %d partitions: %v (%+v), want a *diff.PartitionError{Stored: %d, Planned: %d}", m.scope, m.planned, err, pe, m.stored, m.planned)
		}
	}
	// The same partitioning plans on (the other partition's keys unchanged).
	if n, err := SyncAll(ctx, e, "parted", Numbered(10, 1), diff.WithPartition(1, 2)); err != nil || n != 0 {
		t.Errorf("re-sync of partition 1/2: %d changes, %v; want 0, nil", n, err)
	}

	// A dry run of a scope that does not exist creates nothing.
	before, _, err := scanAll(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]diff.PlanOption{{diff.WithDryRun()}, {diff.WithDryRun(), diff.WithPartition(0, 2)}} {
		if n, err := SyncAll(ctx, e, "new", Numbered(10, 1), opts...); err != nil || n == 0 {
			t.Errorf("dry run of a new scope: %d changes, %v; want some, nil", n, err)
		}
	}
	after, _, err := scanAll(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) {
		t.Errorf("dry runs of a new scope wrote to the store: %d keys before, %d after", len(before), len(after))
	}
}
