// Package pgclaim shares the objects of a bucket between several worker
// processes through PostgreSQL: each object key is a row in a claim table,
// pending, claimed (by an owner, until its lease expires) or done.
//
// A worker claims keys with Claim (keys it found in its own listing) or
// ClaimNext (keys already registered), both a single statement that locks
// the candidate rows with SELECT ... FOR UPDATE SKIP LOCKED, so that two
// workers never claim one key and never wait for each other. A claim
// carries a lease (WithLease, one minute by default) that a goroutine of
// the Claims renews while the worker lives (every third of the lease;
// Close stops it). When a worker dies its leases run out and its keys
// become claimable again; when it closes normally it releases them at once.
//
// Commit marks keys done in one transaction together with whatever else
// the program must commit with them (the ids of a deduplicator, the record
// of an output batch), and refuses, with ErrLeaseLost, keys another worker
// took over after the lease ran out: so work is committed at most once,
// by the worker that holds the keys.
//
// Claims.Checkpoint returns a checkpoint in the sense of
// currents.Checkpoint: its Done claims the key and reports false (process
// it) only to the worker that got it; MarkDone commits the one key.
//
// Open creates the schema and the tables if they are missing and records a
// format version; tables of another version are refused (ErrVersion).
package pgclaim
