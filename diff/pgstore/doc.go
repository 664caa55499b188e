// Package pgstore is a diff.Store on PostgreSQL, for deployments without a
// durable local disk (Kubernetes, autoscaled services) and for several
// workers sharing one state.
//
// The state lives in one keyed table (key bytea primary key, value bytea),
// default public.ampbraze_state, beside a small table <name>_meta that
// holds the format version of this package's layout. A new table is
// created with fillfactor 50, so that rewriting a row (an acknowledgement
// over its intent) stays on its page as a HOT update (see fillFactor).
// One table for every scope, not one per scope: the engine owns its key layout (scope ids,
// attribute dictionaries and key counts live under their own key prefixes)
// and gives the store only bytes, so a table per scope would need the
// store to parse the engine's keys. bytea compares byte by byte (memcmp,
// then length) and has no collation, so ORDER BY key is the byte order a
// diff.Store promises, whatever the database's locale. ReadOnly opens a
// store for dry runs: it creates nothing, and a database without the
// tables reads as an empty state.
//
//   - Get reads one row by its primary key.
//   - Apply is one transaction: the deletes, then the puts (the last op
//     of a key wins). Puts hinted diff.Op.Absent (the intents of keys a
//     plan found without state: a first sync) are copied straight into
//     the table when there are 256 or more; if one of their keys exists
//     after all, the batch is written again as upserts. Of the other
//     puts, a batch of 256 or more is sent by COPY into a
//     temporary table and upserted from there (INSERT ... ON CONFLICT DO
//     UPDATE); a smaller one as one upsert of two array parameters
//     (unnest($1::bytea[], $2::bytea[])), which needs fewer round trips.
//     On the engine's batches of 4096-8192 COPY took about 10% less time
//     and half the client CPU (BenchmarkApply, diff/BENCHMARKS.md). A
//     batch that is not durable commits with synchronous_commit off: it is
//     atomic, but a crash of the server may lose it, as pebble's unsynced
//     batches.
//   - Scan reads through a server-side cursor in a REPEATABLE READ, READ
//     ONLY transaction: one snapshot, fetched in pages, so a scan of
//     millions of keys holds one page in memory and stops cheaply.
//
// A Store also implements diff.ScopeLocker with a session advisory lock
// (pg_try_advisory_lock) held on a connection of its own for the plan's
// life: the server releases it when that session ends, so a worker that
// dies never blocks the scope.
//
// The pool must allow at least two connections: the engine writes while a
// Scan holds one (the removals of a full snapshot are planned inside a
// Scan). Open and New refuse a smaller pool.
//
// Errors are *diff.StoreError values classified with diff's sentinels:
// diff.ErrStoreIO (server unreachable, connection lost, shut down),
// diff.ErrDiskFull (SQLSTATE 53100), diff.ErrPermission (insufficient
// privilege, authentication refused, read-only server), diff.ErrCorrupt
// (data or index corrupted); their Path names the server, database and
// table. Every call after Close fails with diff.ErrClosed.
package pgstore
