// Package pebblestore is the embedded, persistent diff.Store: a pebble
// database (github.com/cockroachdb/pebble) in one directory. It is the
// default state of a sync: what the quickstart and the amperity-to-braze
// program use. It lives apart from package diff so that a program that
// imports diff (or amperity) without it links no storage engine.
//
//	eng, err := pebblestore.OpenEngine(ctx, "/var/lib/ampbraze/state", nil)
//	// or, with options for the store and for the engine:
//	eng, err := pebblestore.OpenEngine(ctx, dir,
//		[]pebblestore.Option{pebblestore.ReadOnly(), pebblestore.WithCacheSize(32 << 20)},
//		diff.WithLogger(logger))
//
// Open returns the Store alone, for diff.NewEngine or for a wrapper of
// one's own.
//
// What the store adds to pebble: every failure is an error within seconds,
// classified as the errors every diff.Store shares (diff.ErrStoreIO,
// diff.ErrDiskFull, diff.ErrPermission, diff.ErrCorrupt) in a
// *diff.StoreError naming the path and saying what to do; pebble's panics
// and fatal log calls are recovered, and after the first failure every
// call fails at once with it. A lock file (ampbraze.lock, flock'd, never
// deleted) keeps a second writer out of the directory and is checked
// before every write, so removing it stops the writer (diff.ErrScopeLocked).
// A sentinel file beside pebble's records the store's id and its commit
// generation, so a state that comes back with less than it durably held
// (deleted WAL or MANIFEST files, a replaced directory) is refused with
// diff.ErrStateLost instead of opening as empty (WithResetState accepts
// it). ReadOnly opens it for dry runs without changing any file.
//
// Memory: pebble reads through a bounded block cache (WithCacheSize,
// default 64 MiB) and 16 MiB memtables, so resident memory does not grow
// with the state.
package pebblestore
