// Package pgschema creates the tables of a PostgreSQL-backed store and
// checks their format version, the same way for every such store of the
// module: tables are created under a transaction-level advisory lock (so
// that processes opening new tables at once do not race on CREATE TABLE),
// a meta table records the format version, and tables of another version
// are refused. An existing set of tables is only read, so a user without
// CREATE on the schema can open it.
//
// Errors are this package's own (*VersionError, ErrNoTables, and
// *OpError unless Spec.Wrap is set); each store maps them to its public
// errors and messages.
package pgschema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// DB is what Ensure needs of a pool: *pgxpool.Pool and *pgx.Conn have it.
type DB interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Spec describes a store's tables.
type Spec struct {
	// Schema is the schema's unquoted name. "public" is assumed to exist,
	// since an ordinary user may not create it.
	Schema string
	// Meta is the sanitized, schema-qualified name of the meta table that
	// holds the format version (name 'format').
	Meta string
	// Tables are the sanitized names of the store's other tables: when
	// one of them or Meta is missing, the tables are created.
	Tables []string
	// Format is the format version this program writes and reads.
	Format string
	// Create are the statements that create Tables (with IF NOT EXISTS),
	// run in one transaction after the meta table is created.
	Create []string
	// LockSQL takes the advisory lock that serializes creation, with
	// LockArgs. Empty: pg_advisory_xact_lock(hashtextextended($1, 0)).
	LockSQL  string
	LockArgs []any
	// What names the tables in an error ("the claim tables").
	What string
	// ReadOnly makes Ensure create nothing: missing tables are reported
	// with ErrNoTables.
	ReadOnly bool
	// Wrap gives a failed step's error the store's prefix and names the
	// server (nil: the error is an *OpError).
	Wrap func(op string, err error) error
	// Logger, when set, gets Ready at debug level, with the first of
	// Tables, once this call has created the tables.
	Logger *slog.Logger
	Ready  string
}

// ErrNoTables is returned by Ensure for a read-only Spec whose tables do
// not exist.
var ErrNoTables = errors.New("pgschema: tables do not exist")

// OpError is a failure of a step of Ensure: Op says which ("open",
// "create the claim tables", "read the format version").
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap returns the server's error.
func (e *OpError) Unwrap() error { return e.Err }

// VersionError reports a meta table of another format version, or with
// none (Missing).
type VersionError struct {
	Meta      string // the meta table
	Found     string // the version it holds; empty when Missing
	Missing   bool   // the meta table holds no format version
	Supported string // the version this program reads
}

func (e *VersionError) Error() string {
	if e.Missing {
		return fmt.Sprintf("%s holds no format version; this program reads %q", e.Meta, e.Supported)
	}
	return fmt.Sprintf("%s holds %q; this program reads %q", e.Meta, e.Found, e.Supported)
}

// Ensure creates the tables of s if missing, records the format version
// on new tables and refuses tables of another version (*VersionError).
func Ensure(ctx context.Context, db DB, s Spec) error {
	err := ensure(ctx, db, s)
	if oe, ok := errors.AsType[*OpError](err); ok && s.Wrap != nil {
		return s.Wrap(oe.Op, oe.Err)
	}
	return err
}

func ensure(ctx context.Context, db DB, s Spec) error {
	q := "SELECT to_regclass($1) IS NOT NULL"
	args := []any{s.Meta}
	for i, t := range s.Tables {
		q += fmt.Sprintf(" AND to_regclass($%d) IS NOT NULL", i+2)
		args = append(args, t)
	}
	var exists bool
	if err := db.QueryRow(ctx, q, args...).Scan(&exists); err != nil {
		return &OpError{Op: "open", Err: err}
	}
	if !exists && s.ReadOnly {
		return ErrNoTables
	}
	if !exists {
		// Another process may create them at the same time: the
		// statements then do nothing.
		if err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return create(ctx, tx, s) }); err != nil {
			return &OpError{Op: "create " + s.What, Err: err}
		}
		if s.Logger != nil && len(s.Tables) > 0 {
			s.Logger.Debug(s.Ready, "table", s.Tables[0])
		}
	}
	var found string
	err := db.QueryRow(ctx, "SELECT value FROM "+s.Meta+" WHERE name = 'format'").Scan(&found)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &VersionError{Meta: s.Meta, Missing: true, Supported: s.Format}
	case err != nil:
		return &OpError{Op: "read the format version", Err: err}
	case found != s.Format:
		return &VersionError{Meta: s.Meta, Found: found, Supported: s.Format}
	}
	return nil
}

func create(ctx context.Context, tx pgx.Tx, s Spec) error {
	lock := s.LockSQL
	if lock == "" {
		lock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
	}
	if _, err := tx.Exec(ctx, lock, s.LockArgs...); err != nil {
		return err
	}
	if s.Schema != "public" {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.Schema}.Sanitize()); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+s.Meta+" (name text PRIMARY KEY, value text NOT NULL)"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+s.Meta+" (name, value) VALUES ('format', $1) ON CONFLICT (name) DO NOTHING", s.Format); err != nil {
		return err
	}
	for _, q := range s.Create {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
