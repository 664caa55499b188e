package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
)

// Issue 15: partitioned workers, each its own process (its own Store and
// sessions), share one scope on PostgreSQL. They register new attribute
// names and the scope itself at the same moment: every name gets one id
// (the dictionary is read back without ErrCorrupt), every key is planned
// once, and an unpartitioned plan afterwards agrees with what they
// recorded.
func TestRegression_Issue15_PartitionedWorkersShareAScope(t *testing.T) {
	schema := testSchema(t)
	ctx := context.Background()
	url := needPG(t)
	engine := func() *diff.Engine {
		s, err := Open(ctx, url, WithSchema(schema))
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
	const parts = 4
	engines := make([]*diff.Engine, parts)
	for i := range engines {
		engines[i] = engine()
	}
	// Each worker's records carry attribute names no other worker has
	// registered yet, so all of them register names at once.
	input := func(extra string) func(yield func(diff.Record, error) bool) {
		return func(yield func(diff.Record, error) bool) {
			for r := range users(0, 2000, 1) {
				r.Attrs = append(r.Attrs, diff.Attr{Name: fmt.Sprintf("%s_%d", extra, len(r.Key)%3), Value: diff.IntValue(1)},
					diff.Attr{Name: "tier_" + r.Key[len(r.Key)-1:], Value: diff.StringValue("gold")})
				if !yield(r, nil) {
					return
				}
			}
		}
	}
	syncAll := func(extra string) map[string]int {
		keys := map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, e := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := e.Plan(ctx, "braze:users", input(extra), diff.WithPartition(i, parts))
				if err != nil {
					t.Error(err)
					return
				}
				for ch, err := range p.Changes() {
					if err != nil {
						t.Error(err)
						continue
					}
					mu.Lock()
					keys[ch.Key]++
					mu.Unlock()
					p.Ack(ch, nil)
				}
				if err := p.Commit(ctx); err != nil {
					t.Errorf("partition %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		return keys
	}
	if keys := syncAll("a"); len(keys) != 2000 {
		t.Fatalf("first sync planned %d keys, want 2000", len(keys))
	}
	if keys := syncAll("a"); len(keys) != 0 {
		t.Fatalf("re-sync planned %d keys", len(keys))
	}
	if keys := syncAll("b"); len(keys) != 2000 { // a new attribute for every user
		t.Fatalf("new attributes: planned %d keys, want 2000", len(keys))
	}
	// Each partition reads the dictionary and its state back (a dry run
	// plans nothing), their key counts add up to the users, and a plan
	// without partitions is refused.
	for i := range parts {
		n, err := storetest.SyncAll(ctx, engines[0], "braze:users", input("b"), diff.WithDryRun(), diff.WithPartition(i, parts))
		if err != nil || n != 0 {
			t.Fatalf("dry run of partition %d: %d changes, %v", i, n, err)
		}
	}
	if n, err := engines[0].ScopeKeys(ctx, "braze:users"); err != nil || n != 2000 {
		t.Errorf("ScopeKeys = %d, %v; want 2000", n, err)
	}
	if _, err := engines[0].Plan(ctx, "braze:users", input("b"), diff.WithDryRun()); !errors.Is(err, diff.ErrPartitionMismatch) {
		t.Fatalf("unpartitioned plan of a partitioned scope: %v, want ErrPartitionMismatch", err)
	}
}

// Workers starting at once on an empty database all claim it: none takes
// another's first write for data of an unknown format (CI saw "state store
// has format \"unversioned data\"" when 4 workers started together).
func TestRegression_Issue15_WorkersStartTogetherOnAnEmptyStore(t *testing.T) {
	schema := testSchema(t)
	ctx := context.Background()
	url := needPG(t)
	// The tables exist and are empty; then 16 processes open engines at once.
	first, err := Open(ctx, url, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	stores := make([]*Store, 16)
	for i := range stores {
		if stores[i], err = Open(ctx, url, WithSchema(schema)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			e, err := diff.NewEngine(ctx, s)
			if err != nil {
				s.Close()
				t.Error(err)
				return
			}
			e.Close()
		}()
	}
	close(start)
	wg.Wait()
}
