// Package pgdedupe keeps the event ids of a Currents deduplication window
// in PostgreSQL, so that several workers exporting one bucket recognise
// each other's deliveries of an event (Currents delivers at least once: a
// copy may land in another file, read by another worker).
//
// The ids live in one table keyed by event type and id, with the queue hour
// each was recorded at. A worker asks Seen, once per run of events (not
// once per event), which ids other workers already committed, and at its
// own commit records the ids it wrote with Record, inside the transaction
// that commits its output (objstore/pgclaim's Commit): an id some other
// worker committed in the meantime comes back as a duplicate, and the
// worker then gives up its batch rather than commit an event twice. Prune
// forgets the ids past the window.
//
// It holds no ids in memory: within one worker, currents.Deduper still
// catches the repeats among the events not yet committed.
package pgdedupe
