package pgstore

import (
	"context"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
)

// TestConformance runs the store conformance suite of diff/storetest on
// PostgreSQL: the store contract, persistence across a close and reopen
// (a new pool on the same tables, as the next process would open it), and
// the plan-level tests. Each store of the suite gets tables of its own in
// a schema dropped when its test ends.
func TestConformance(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T) diff.Store {
		s, err := Open(ctx, needPG(t), WithSchema(testSchema(t)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.WithReopen(func(t *testing.T, closed diff.Store) diff.Store {
		s, err := Open(ctx, needPG(t), WithSchema(closed.(*Store).cfg.schema))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}), storetest.WithSeeds(25)) // each durable Apply is a transaction: half the default keeps CI's time
}
