package pebblestore

import (
	"log/slog"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Option configures Open.
type Option func(*config)

type config struct {
	cacheBytes int64
	readOnly   bool
	reset      bool
	logger     *slog.Logger
	fs         vfs.FS // nil: the operating system's; tests inject faults here
	minFree    uint64
	minFreeSet bool
}

// memTableBytes is the size of pebble's memtables: 16 MiB (several are
// held while one flushes) keep a 10M-user re-sync under its 512 MiB
// budget; 32 MiB measured 528-548 MiB peaks there, 16 MiB 383 MiB.
const memTableBytes = 16 << 20

// defaultCacheBytes is the block cache of a store opened without
// WithCacheSize.
const defaultCacheBytes = 64 << 20

// ReadOnly opens the store read-only, for dry runs: no file of the
// directory is created, changed or removed (a directory that does not
// exist yet, or holds no state yet, opens as an empty store), and every
// Apply fails with an error matching diff.ErrReadOnly. An engine on a
// read-only store writes nothing: a scope that does not exist yet plans
// as empty without being created (see diff.ReadOnlyStore). Other stores
// may hold the directory open read-only at the same time; a writer may not.
func ReadOnly() Option { return func(c *config) { c.readOnly = true } }

// WithResetState accepts the state as pebble has it when Open finds that
// it lost data it had durably written (an error matching
// diff.ErrStateLost: deleted or truncated files, a missing MANIFEST), and
// records it as the new reference. Whatever the lost part held is planned
// as new again, and removals it would have led to are not planned. Use it
// only after deciding that the loss is accepted.
func WithResetState() Option { return func(c *config) { c.reset = true } }

// WithCacheSize bounds pebble's block cache (default 64 MiB). It is the
// main knob of the store's resident memory.
func WithCacheSize(bytes int64) Option {
	return func(c *config) {
		if bytes > 0 {
			c.cacheBytes = bytes
		}
	}
}

// WithLogger sets the logger of the store: pebble's own log lines (at
// Debug and Warn), write stalls, a slow or full disk, and the failure that
// breaks the store. The store is silent by default.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// withFS replaces the file system, for tests that inject faults.
func withFS(fs vfs.FS) Option { return func(c *config) { c.fs = fs } }
