package diff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// pebbleStore is the default Store: an embedded LSM key-value store
// (github.com/cockroachdb/pebble). It was chosen over go.etcd.io/bbolt by
// measurement: bbolt's random-order inserts ran at about 27,000 keys/s and
// its memory-mapped file makes resident memory grow with the state, while
// pebble reads through a bounded block cache and writes sequentially.
type pebbleStore struct {
	db *pebble.DB
}

// openPebble opens (creating if needed) the pebble database in dir, with a
// bounded block cache so resident memory does not grow with the state.
func openPebble(dir string, cacheBytes int64) (*pebbleStore, error) {
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref()
	opts := &pebble.Options{
		Cache: cache,
		// 16 MiB memtables (pebble holds several while it flushes)
		// keep a 10M-user re-sync under its 512 MiB budget; 32 MiB
		// measured 528-548 MiB peaks there, 16 MiB 383 MiB.
		MemTableSize: 16 << 20,
		Logger:       quietLogger{},
	}
	// Bloom filters make lookups of new keys cheap; values are hashes,
	// which do not compress, so compression would only cost time.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, classifyPebbleError(dir, err)
	}
	return &pebbleStore{db: db}, nil
}

func classifyPebbleError(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EACCES), strings.Contains(err.Error(), "lock held"):
		return fmt.Errorf("%w: state store %s is open in another process or engine: %v", ErrScopeLocked, dir, err)
	case pebble.IsCorruptionError(err):
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, dir, err)
	}
	return fmt.Errorf("diff: state store %s: %w", dir, err)
}

func (s *pebbleStore) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return dst[:0], false, nil
	}
	if err != nil {
		return dst[:0], false, s.wrap(err)
	}
	dst = append(dst[:0], v...)
	closer.Close()
	return dst, true, nil
}

func (s *pebbleStore) Apply(ctx context.Context, ops []Op, durable bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, op := range ops {
		var err error
		if op.Delete {
			err = b.Delete(op.Key, nil)
		} else {
			err = b.Set(op.Key, op.Value, nil)
		}
		if err != nil {
			return s.wrap(err)
		}
	}
	wo := pebble.NoSync
	if durable {
		wo = pebble.Sync
	}
	return s.wrap(b.Commit(wo))
}

func (s *pebbleStore) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return s.wrap(err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				it.Close()
				return err
			}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return s.wrap(err)
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			return err
		}
	}
	return s.wrap(it.Close())
}

func (s *pebbleStore) Close() error { return s.wrap(s.db.Close()) }

func (s *pebbleStore) wrap(err error) error {
	if err == nil {
		return nil
	}
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return fmt.Errorf("diff: state store: %w", err)
}

// prefixEnd returns the smallest key greater than every key with the prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	// pebble calls Fatalf on unrecoverable invariant violations; it expects
	// the call not to return.
	panic(fmt.Sprintf(format, args...))
}
