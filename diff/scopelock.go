package diff

import "context"

// ScopeLocker is implemented by a Store that several processes can share
// (a database server), so that two processes never plan the same scope at
// once: the in-process lock of Engine.Plan sees only the plans of its own
// engine.
//
// The engine calls LockScope in Plan, after its own check, and the
// returned unlock when the plan ends (Commit or Close). LockScope does not
// wait: when another process holds the scope it fails at once with an
// error matching ErrScopeLocked. The lock must not outlive its holder: a
// process that dies, or loses its connection, loses the lock, so a killed
// worker never blocks the scope. unlock releases the lock; its error says
// the lock was already lost before it (the holder's session ended), in
// which case another process may have planned the scope meanwhile.
type ScopeLocker interface {
	LockScope(ctx context.Context, scope string) (unlock func() error, err error)
}
