package diff

import (
	"bytes"
	"context"
	"slices"
	"sync"
)

// Store is the persistence the engine needs: point reads, atomic batches and
// ordered prefix scans over byte keys. The engine owns the key layout and
// the value format; a Store only keeps bytes. Implementations must be safe
// for concurrent use, including a call made from inside a Scan callback.
// pebblestore holds the embedded default; a server-backed store is added by
// implementing these four methods (and ReadOnlyStore if it can be opened
// read-only), returning the errors of store_errors.go (a *StoreError whose
// Kind is ErrStoreIO, ErrCorrupt, ...), and passing the conformance suite
// of package diff/storetest. The engine's own keys all begin with a byte
// below 0x10; a store may keep keys of its own elsewhere, hidden from Scan.
type Store interface {
	// Get appends the value of key to dst[:0] and reports whether it exists.
	Get(ctx context.Context, key, dst []byte) (value []byte, ok bool, err error)
	// Apply writes all ops atomically, in order (a later op of the batch
	// on the same key wins): after a crash either all or none are visible.
	// With durable set, Apply returns only once the batch, and every
	// batch applied before it, is on stable storage.
	Apply(ctx context.Context, ops []Op, durable bool) error
	// Scan calls fn for each key with the prefix, in ascending key order,
	// on a consistent snapshot. The slices are valid only during the call.
	Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error
	// Close releases the store.
	Close() error
}

// Op is one write of a batch: a put, or a delete when Delete is set.
type Op struct {
	Key, Value []byte
	Delete     bool
	// Absent is a hint on a put: the writer knows the key holds no value
	// (the engine sets it on the intent of a key its plan found without
	// state, which no other writer touches while the scope is locked). A
	// store may then insert the key without looking for an old value
	// (pgstore copies such keys straight into its table); it must still
	// give the put's usual result if the hint is wrong. Stores may ignore
	// it.
	Absent bool
}

// MemoryStore is a Store held in memory, for tests and short-lived tools.
// It survives an Engine's Close, so a test can reopen an engine on the same
// state, as after a process restart.
type MemoryStore struct {
	mu sync.RWMutex
	m  map[string][]byte
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{m: make(map[string][]byte)}
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[string(key)]
	return append(dst[:0], v...), ok, nil
}

// Apply implements Store.
func (s *MemoryStore) Apply(ctx context.Context, ops []Op, durable bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		if op.Delete {
			delete(s.m, string(op.Key))
		} else {
			s.m[string(op.Key)] = slices.Clone(op.Value)
		}
	}
	return nil
}

// Scan implements Store.
func (s *MemoryStore) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	s.mu.RLock()
	type kv struct{ k, v []byte }
	var kvs []kv
	for k, v := range s.m {
		if bytes.HasPrefix([]byte(k), prefix) {
			kvs = append(kvs, kv{[]byte(k), slices.Clone(v)})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	for _, e := range kvs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Store. The contents are kept.
func (s *MemoryStore) Close() error { return nil }

// Len reports the number of keys held, for tests.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
