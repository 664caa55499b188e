package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrLockLost is matched by the error of a scope lock's unlock when the
// lock had already been lost: the session holding it ended (the
// connection broke, or pg_terminate_backend ended it), so another process
// may have planned the scope meanwhile.
var ErrLockLost = errors.New("pgstore: the scope lock was lost: its database session ended")

// Hints appended to errors: what the operator can do.
const (
	hintIO       = "check that the PostgreSQL server is running and reachable at that address; acknowledgements not yet committed are planned again"
	hintFull     = "free space on the database server's disk, then run again (acknowledgements not yet committed are planned again)"
	hintPerm     = "grant this database user SELECT, INSERT, UPDATE and DELETE on the state tables (and CREATE on the schema for the first open), or use a user that has them"
	hintCorrupt  = "the database reports damaged data: restore the state tables from a backup, or drop them to start from an empty state (every value is then sent again)"
	hintLocked   = "another process is planning this scope: wait for it to end, or stop it"
	hintLockLost = "another process may have planned the scope meanwhile; run again"
)

// classify maps a PostgreSQL or connection error to one of diff's store
// error kinds.
func classify(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return diff.ErrDiskFull
		case pe.Code == "42501", // insufficient_privilege
			pe.Code == "25006",               // read_only_sql_transaction: a standby, or default_transaction_read_only
			strings.HasPrefix(pe.Code, "28"): // invalid authorization: role or password refused
			return diff.ErrPermission
		case pe.Code == "XX001", pe.Code == "XX002": // data_corrupted, index_corrupted
			return diff.ErrCorrupt
		}
		return diff.ErrStoreIO
	}
	if errors.Is(err, diff.ErrCorrupt) { // a NULL where the schema forbids one
		return diff.ErrCorrupt
	}
	return diff.ErrStoreIO
}

func hintFor(kind error) string {
	switch kind {
	case diff.ErrDiskFull:
		return hintFull
	case diff.ErrPermission:
		return hintPerm
	case diff.ErrCorrupt:
		return hintCorrupt
	case diff.ErrScopeLocked:
		return hintLocked
	}
	return hintIO
}

// wrap builds the error of a failed operation: a *diff.StoreError naming
// the server, database and table. A cancelled or expired context is the
// caller's doing, not a failure of the store: it is returned wrapped, not
// classified, so errors.Is(err, context.Canceled) holds and ErrStoreIO
// does not.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *diff.StoreError
	if errors.As(err, &se) || errors.Is(err, diff.ErrClosed) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			return fmt.Errorf("pgstore: %s %s: %w", op, s.where, err)
		}
	}
	kind := classify(err)
	return &diff.StoreError{Op: op, Path: s.where, Kind: kind, Err: err, Hint: hintFor(kind)}
}
