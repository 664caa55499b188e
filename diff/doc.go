// Package diff is the delta engine of a sync: it compares keyed attribute
// sets with the state the destination last acknowledged and yields only
// what changed, then records what the destination accepted.
//
// A run is a Plan on a named scope ("braze:customer-attributes"): Changes
// streams, per key, the attributes that are new or changed and the removals
// (nil, or a configured value such as false for audience flags); the caller
// sends each change and reports the answer with Ack; Commit makes the
// accepted ones durable. A failed or unacknowledged change stays out of the
// state, so the next run plans it again. Acknowledgements are written in
// atomic batches as they arrive, so a sync of millions of keys holds only
// one batch in memory, and a crash loses at most the acknowledgements not
// yet written: those changes are sent again, never skipped.
//
// What a crash can and cannot do: the state only ever records a value as
// sent after the caller acknowledged it as accepted, so a crash never makes
// a change look sent when it was not; accepted changes not yet written
// are planned again (acknowledgements are written at least every second,
// see WithFlushInterval). Before a change is yielded, the attributes it
// carries are durably marked unknown (a write-ahead intent), so a process
// that dies after sending and before the acknowledgement leaves the next
// run knowing they may be at the destination: it sends them again, or
// their removal if its input no longer has them. Acknowledgements never
// use a context the caller may cancel: after Ctrl-C, Ack and Commit still
// record what was accepted.
//
// Values the destination rejected (an Ack error implementing Rejection,
// such as braze's *ItemError) are remembered: they are not sent again
// until the user's data changes, as Braze asks (WithResendRejected turns
// that off); Summary.StillRejected counts them.
//
// Safe full snapshots: a plan in FullSnapshot mode removes what vanished
// from its input only when the input is known complete: an input error with
// Fatal() true ends the plan (Plan.Err, Commit), and errors that name no key
// or an input whose last item is an error skip the removals
// (Summary.RemovalsSkipped). Limits guard the rest: by default a full
// snapshot may not remove more than 10% of the stored keys nor change or
// remove more than half of them (WithMaxRemovals, WithMaxChanges; at least
// 10 keys), and an empty full snapshot is refused (WithAllowEmptySnapshot).
// A plan over its limits yields nothing at all: it holds its changes back
// until its input has been read, then ends with a *LimitError that says
// how many keys and how to override.
//
// A Record's values are Values (see Value and AnyValue): the common scalars
// held unboxed, so a producer fills a record without allocating per value,
// and any other value of the model held as given. Change.All yields them
// as plain Go values for the destination's client.
//
// Values are compared by a canonical encoding (see Hash): json.Number
// "1.50" equals "1.5", numbers compare by decimal value whatever their Go
// type (int64(100), 100.0 and json.Number("1e2") are equal), two time.Time values of the same
// instant are equal in any zone, and an encoding.TextMarshaler (such as a
// calendar date) compares by its type and text. The state keeps, per scope
// and key, one small value: an 8-byte hash per attribute (about 190 bytes
// for 20 attributes).
//
// Re-syncs: when the scope already holds state, Changes first reads it in
// one sequential scan into a table of 64-bit key hashes (sized from a count
// of the scope's keys kept beside the state and written in the same atomic
// batches; a store written before the count was kept has its keys counted
// by a first scan), each with a 64-bit xxhash fingerprint of the key's
// stored state value. A record whose would-be state (the exact value Ack
// would store if the whole record were accepted) has the stored
// fingerprint is unchanged and costs no store lookup; every other record
// (a different fingerprint, a key new to the state, a stored state with
// attributes left unknown by a failed send, values equal only within a
// Tolerance or a TruncateTime, attributes to remove, duplicate or explained
// keys) is compared with its state read from the store, as before. In
// FullSnapshot mode a re-sync whose input carried every stored key also
// skips the second scan that looks for vanished keys. The fast
// path decides only "identical state, nothing to send": it can hide a
// change only if a changed state hashes to the stored state's 64-bit
// fingerprint, a chance of 2^-64 (about 5.4e-20) per changed record, and
// two stored keys that share a key hash lose the fast path, not their
// changes.
//
// Memory: the embedded store reads through a bounded block cache
// (pebblestore.WithCacheSize), acknowledgements are written in batches,
// and the plan keeps, for the
// time Changes runs, a table of the keys off the Go heap: on a first sync
// one 8-byte hash per input key (to detect duplicates and, in FullSnapshot
// mode, the keys that vanished; about 13 bytes per key at worst, 128 MiB
// for 10 million keys), on a re-sync 16 bytes per stored key at a load
// factor of 3/4 (key hash and state fingerprint; it also serves for
// duplicates and vanished keys), about 204 MiB for 10 million keys, more
// if the input brings over a sixth of new keys. Nothing else grows with
// the number of keys.
//
// Input problems do not stop a plan: a record with a value outside the
// value model, a duplicate key (the first record of a key wins), or an
// error from the input iterator is yielded by Changes as an error, and
// planning goes on. Such keys are never treated as vanished from a full
// snapshot. What ends a plan early (a fatal input error, the context, a
// store failure, a limit) is not yielded: Plan.Err and Commit return it.
//
// Stores: the engine runs on any Store (NewEngine). The default is an
// embedded pebble database in a directory, in package diff/pebblestore
// (pebblestore.OpenEngine opens it and returns the engine), kept out of
// this package so that importing diff links no storage engine;
// NewMemoryStore serves tests. The Store interface is small enough for a
// server-backed implementation: its errors are the ones this package
// defines (ErrStoreIO, ErrDiskFull, ErrPermission, ErrCorrupt,
// ErrStateLost in a *StoreError; ErrReadOnly, ErrClosed), a store that
// can be opened read-only implements ReadOnlyStore, and package
// diff/storetest is the conformance suite every store passes.
package diff
