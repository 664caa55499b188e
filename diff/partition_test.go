package diff

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// Partitioned plans of one scope run side by side: together they plan
// every key once, each removes only its own vanished keys, and each keeps
// its own key count and limits.
func TestPartitionsShareAScope(t *testing.T) {
	mem := NewMemoryStore()
	e := newTestEngine(t, mem)
	users := func(n int, v string) []Record {
		var rs []Record
		for i := range n {
			rs = append(rs, rec(fmt.Sprintf("u%03d", i), "a", v, fmt.Sprintf("x%d", i%7), "1"))
		}
		return rs
	}
	const parts = 4
	syncAll := func(rs []Record, opts ...PlanOption) (keys map[string]int) {
		keys = map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := e.Plan(context.Background(), "s", recs(rs...), append(opts, WithPartition(i, parts))...)
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
				if err := p.Commit(context.Background()); err != nil {
					t.Error(err)
				}
				if s := p.Summary(); s.Records != int64(len(rs)) || (len(rs) >= parts*10 && s.OtherPartitions == 0) {
					t.Errorf("partition %d: summary %+v", i, s)
				}
			}()
		}
		wg.Wait()
		return keys
	}
	if keys := syncAll(users(200, "1")); len(keys) != 200 {
		t.Fatalf("first sync planned %d keys, want 200", len(keys))
	}
	for k, n := range syncAll(users(200, "1")) {
		t.Errorf("unchanged re-sync planned %s %d times", k, n)
	}
	// A full snapshot without the last 20 users: each partition removes its own.
	keys := syncAll(users(180, "1"), WithMode(FullSnapshot))
	if len(keys) != 20 {
		t.Fatalf("removals: %d keys, want 20", len(keys))
	}
	for k, n := range keys {
		if n != 1 || k < "u180" {
			t.Errorf("removal of %s planned %d times", k, n)
		}
	}
	// The partitions' counts add up to the scope's keys, and a plan without
	// partitions is refused (its own count and removals would disagree
	// with theirs).
	if n, err := e.ScopeKeys(context.Background(), "s"); err != nil || n != 180 {
		t.Errorf("ScopeKeys = %d, %v; want 180", n, err)
	}
	if _, err := e.Plan(context.Background(), "s", recs()); !errors.Is(err, ErrPartitionMismatch) {
		t.Errorf("an unpartitioned plan of a partitioned scope: %v, want ErrPartitionMismatch", err)
	}
	if _, err := e.Plan(context.Background(), "s", recs(), WithPartition(4, 4)); err == nil {
		t.Error("WithPartition(4, 4) accepted")
	}
}
