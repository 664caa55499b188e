package pgstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/jackc/pgx/v5"
)

// scopeLock is one held scope lock: a connection of its own, outside the
// pool, whose session holds the advisory lock.
type scopeLock struct {
	s     *Store
	scope string
	key   int64
	once  sync.Once
	conn  *pgx.Conn
	err   error
}

// LockScope implements diff.ScopeLocker with a session advisory lock
// (pg_try_advisory_lock) on a key derived from the database, schema, table
// and scope. The lock is held by a connection opened for it alone, not
// one of the pool, for as long as the plan runs: when that session ends
// (the process dies, the connection breaks, an administrator terminates
// it) the server releases the lock, so a dead worker never blocks the
// scope. When another session holds the lock, LockScope fails at once
// with a *diff.StoreError matching diff.ErrScopeLocked. unlock releases
// the lock and closes the connection; it returns an error matching
// ErrLockLost when the session had ended before (the lock was lost while
// held). Close releases the locks still held.
func (s *Store) LockScope(ctx context.Context, scope string) (unlock func() error, err error) {
	if s.closed.Load() {
		return nil, diff.ErrClosed
	}
	cc := s.pool.Config().ConnConfig
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, s.wrap("lock scope "+fmt.Sprintf("%q", scope), err)
	}
	l := &scopeLock{s: s, scope: scope, key: lockKey("scope", s.lockNS, scope), conn: conn}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", l.key).Scan(&got); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, s.wrap(fmt.Sprintf("lock scope %q", scope), err)
	}
	if !got {
		conn.Close(context.WithoutCancel(ctx))
		return nil, &diff.StoreError{
			Op: fmt.Sprintf("lock scope %q", scope), Path: s.where, Kind: diff.ErrScopeLocked,
			Err: fmt.Errorf("another database session holds the advisory lock %d", l.key), Hint: hintLocked,
		}
	}
	s.mu.Lock()
	closed := s.closed.Load()
	if !closed {
		s.locks[l] = struct{}{}
	}
	s.mu.Unlock()
	if closed { // Close ran meanwhile and would not have seen this lock
		conn.Close(context.WithoutCancel(ctx))
		return nil, diff.ErrClosed
	}
	s.cfg.logger.Debug("pgstore: scope locked", "scope", scope, "table", s.table, "lock", l.key, "pid", conn.PgConn().PID())
	return l.release, nil
}

// release unlocks and closes the lock's connection, once; later calls
// return the first call's result.
func (l *scopeLock) release() error {
	l.once.Do(func() {
		ctx := context.Background()
		var held bool
		err := l.conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", l.key).Scan(&held)
		l.conn.Close(ctx)
		l.s.mu.Lock()
		delete(l.s.locks, l)
		l.s.mu.Unlock()
		switch {
		case err != nil:
			l.err = &diff.StoreError{Op: fmt.Sprintf("unlock scope %q", l.scope), Path: l.s.where, Kind: diff.ErrStoreIO,
				Err: fmt.Errorf("%w: %w", ErrLockLost, err), Hint: hintLockLost}
		case !held:
			l.err = &diff.StoreError{Op: fmt.Sprintf("unlock scope %q", l.scope), Path: l.s.where, Kind: diff.ErrStoreIO,
				Err: fmt.Errorf("%w: the session no longer held it", ErrLockLost), Hint: hintLockLost}
		default:
			l.s.cfg.logger.Debug("pgstore: scope unlocked", "scope", l.scope, "table", l.s.table)
		}
	})
	return l.err
}
