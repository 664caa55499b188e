package pgstore

import (
	"context"
	"errors"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/internal/pgschema"
	"github.com/jackc/pgx/v5"
)

// formatVersion names the layout of the tables: one keyed table of bytea
// keys and values. A table holding another version is refused.
const formatVersion = "ampbraze-pgstore/1"

// ensureSchema creates the schema and tables if missing, records the
// format version on a new table and refuses a table of another version.
// Concurrent opens of a new table by several processes are serialized by a
// transaction-level advisory lock, so they do not race on CREATE TABLE. An
// existing table is only read: a user with SELECT, INSERT, UPDATE and
// DELETE on it, but no CREATE on its schema, can open it.
func (s *Store) ensureSchema(ctx context.Context) error {
	meta := pgx.Identifier{s.cfg.schema, s.cfg.table + "_meta"}.Sanitize()
	err := pgschema.Ensure(ctx, s.pool, pgschema.Spec{
		Schema:   s.cfg.schema,
		Meta:     meta,
		Tables:   []string{s.table},
		Format:   formatVersion,
		Create:   []string{"CREATE TABLE IF NOT EXISTS " + s.table + " (key bytea PRIMARY KEY, value bytea NOT NULL) WITH (fillfactor = " + fillFactor + ")"},
		LockSQL:  "SELECT pg_advisory_xact_lock($1)",
		LockArgs: []any{lockKey("schema", s.lockNS)},
		What:     "the state tables",
		ReadOnly: s.cfg.readOnly,
		Wrap:     s.wrap,
		Logger:   s.cfg.logger,
		Ready:    "pgstore: state tables ready",
	})
	ve, isVersion := errors.AsType[*pgschema.VersionError](err)
	switch {
	case errors.Is(err, pgschema.ErrNoTables):
		s.noTables = true // nothing synced yet: an empty state, and nothing created
		s.cfg.logger.Debug("pgstore: no state tables; read-only, so reading as empty", "table", s.table)
		return nil
	case isVersion && ve.Missing:
		return &diff.VersionError{Found: "no format version in " + meta, Supported: formatVersion}
	case isVersion:
		return &diff.VersionError{Found: ve.Found, Supported: formatVersion}
	}
	return err
}

// fillFactor leaves half of each page of a new state table free, so that
// rewriting a row (an acknowledgement replacing its intent, a re-sync
// replacing a value) fits on the row's own page: PostgreSQL then updates
// it in place of the index (a HOT update) and prunes the old version with
// the page. Measured on the writes of a first sync (BenchmarkFirstSyncWrites):
// 461 bytes of WAL per user against 650 with full pages, and about a
// sixth less server CPU; the table takes about twice the space of its live
// rows, which the dead versions of non-HOT updates would take anyway. An
// existing table keeps its own setting.
const fillFactor = "50"

// lockKey derives a 64-bit advisory lock key (FNV-1a) from a purpose and
// names, so that locks of different tables and scopes do not collide.
func lockKey(parts ...string) int64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= prime
		}
		h ^= 0xff // separator: ("ab","c") and ("a","bc") differ
		h *= prime
	}
	return int64(h)
}
