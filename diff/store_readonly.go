package diff

// ReadOnlyStore is the optional interface of a Store that can be opened
// read-only, for dry runs (for example pebblestore.ReadOnly). NewEngine
// checks for it: on a store whose ReadOnly reports true the engine writes
// nothing: it does not record its format version in an empty store, a
// scope that does not exist yet plans as empty without being created, and
// a plan's Ack of an accepted change and Commit fail with an error
// matching ErrReadOnly (a dry run, WithDryRun, writes nothing anyway).
type ReadOnlyStore interface {
	Store
	// ReadOnly reports whether every Apply fails with ErrReadOnly.
	ReadOnly() bool
}

// storeReadOnly reports whether store says it is read-only.
func storeReadOnly(store Store) bool {
	ro, ok := store.(ReadOnlyStore)
	return ok && ro.ReadOnly()
}
