package storetest

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// brokenStore is a map-backed store that breaks one promise of diff.Store
// at a time, to show that the check of that promise catches it.
type brokenStore struct {
	mu *sync.Mutex
	m  map[string]string

	deletesFirst bool // applies a batch's deletes before its puts
	ignoreDelete bool // drops deletes
	ignoreCtx    bool // writes on a cancelled context
	unordered    bool // scans in reverse order
	live         bool // scans read values as they are now, not a snapshot
	extraKey     bool // scans show one key beyond the prefix
}

func (s *brokenStore) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(key)]
	return append(dst[:0], v...), ok, nil
}

func (s *brokenStore) Apply(ctx context.Context, ops []diff.Op, durable bool) error {
	if err := ctx.Err(); err != nil && !s.ignoreCtx {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deletesFirst {
		ops = slices.Clone(ops)
		sort.SliceStable(ops, func(i, j int) bool { return ops[i].Delete && !ops[j].Delete })
	}
	for _, op := range ops {
		switch {
		case op.Delete && s.ignoreDelete:
		case op.Delete:
			delete(s.m, string(op.Key))
		default:
			s.m[string(op.Key)] = string(op.Value)
		}
	}
	return nil
}

func (s *brokenStore) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	s.mu.Lock()
	var keys []string
	snap := map[string]string{}
	for k, v := range s.m {
		if bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
			snap[k] = v
		}
	}
	if s.extraKey {
		for k := range s.m {
			if !bytes.HasPrefix([]byte(k), prefix) {
				keys = append(keys, k)
				snap[k] = s.m[k]
				break
			}
		}
	}
	s.mu.Unlock()
	sort.Strings(keys)
	if s.unordered {
		slices.Reverse(keys)
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		v := snap[k]
		if s.live {
			s.mu.Lock()
			v = s.m[k]
			s.mu.Unlock()
		}
		if err := fn([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

func (s *brokenStore) Close() error { return nil }

// TestContractChecksCatchBrokenStores: each contract check passes on a
// correct store and fails on a store that breaks its promise.
func TestContractChecksCatchBrokenStores(t *testing.T) {
	ctx := context.Background()
	for _, c := range contractChecks {
		if err := c.check(ctx, diff.NewMemoryStore()); err != nil {
			t.Errorf("%s fails on diff.MemoryStore: %v", c.name, err)
		}
		if err := c.check(ctx, &brokenStore{mu: new(sync.Mutex), m: map[string]string{}}); err != nil {
			t.Errorf("%s fails on a correct map store: %v", c.name, err)
		}
	}
	for _, c := range []struct {
		check  string
		broken brokenStore
	}{
		{"BatchOrder", brokenStore{deletesFirst: true}},
		{"ApplyGet", brokenStore{ignoreDelete: true}},
		{"ApplyCanceled", brokenStore{ignoreCtx: true}},
		{"ScanOrderAndPrefix", brokenStore{unordered: true}},
		{"ScanOrderAndPrefix", brokenStore{extraKey: true}},
		{"ScanSnapshot", brokenStore{live: true}},
	} {
		i := slices.IndexFunc(contractChecks, func(cc contractCheck) bool { return cc.name == c.check })
		s := c.broken
		s.mu, s.m = new(sync.Mutex), map[string]string{}
		err := contractChecks[i].check(ctx, &s)
		if err == nil {
			t.Errorf("%s passes on a store that breaks it (%+v)", c.check, c.broken)
			continue
		}
		t.Logf("%s: %v", c.check, err)
	}
}
