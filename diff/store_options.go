package diff

// storeConfig holds the engine options about the state store.
type storeConfig struct {
	readOnly bool
	reset    bool
}

// ReadOnly opens the state read-only, for dry runs: no file of the state
// directory is created, changed or removed (a directory that does not
// exist yet is planned against as an empty state), a scope that does not
// exist yet plans as empty without being created, and every write (a
// plan's Ack of an accepted change, Commit) fails with an error matching
// ErrReadOnly. Another engine may hold the state open read-only at the
// same time; a writer may not.
func ReadOnly() Option { return func(c *engineConfig) { c.store.readOnly = true } }

// WithResetState accepts the state as the store has it when Open finds
// that it lost data it had durably written (an error matching
// ErrStateLost: deleted or truncated files, a missing MANIFEST), and
// records it as the new reference. Whatever the lost part held is planned
// as new again, and removals it would have led to are not planned. Use it
// only after deciding that the loss is accepted.
func WithResetState() Option { return func(c *engineConfig) { c.store.reset = true } }
