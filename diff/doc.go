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
// Values are compared by a canonical encoding (see Hash): json.Number
// "1.50" equals "1.5" and int64(150)/100 does not matter, numbers compare
// by decimal value whatever their Go type, two time.Time values of the same
// instant are equal in any zone, and an encoding.TextMarshaler (such as a
// calendar date) compares by its type and text. The state keeps, per scope
// and key, one small value: an 8-byte hash per attribute.
//
// Input problems do not stop a plan: a record with a value outside the
// value model, a duplicate key under DuplicateError, or an error from the
// input iterator is yielded by Changes as an error, and planning goes on.
// Such keys are never treated as vanished from a full snapshot.
//
// The default store (Open) is an embedded pebble database in a directory,
// with a bounded block cache; NewMemoryStore serves tests. The Store
// interface is small enough for a server-backed implementation.
package diff
