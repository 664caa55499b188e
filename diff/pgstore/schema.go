package pgstore

import (
	"context"
	"errors"

	"github.com/ampbraze/ampbraze/diff"
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
	var exists bool
	err := s.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL", s.table, meta).Scan(&exists)
	if err != nil {
		return s.wrap("open", err)
	}
	if !exists && s.cfg.readOnly {
		s.noTables = true // nothing synced yet: an empty state, and nothing created
		s.cfg.logger.Debug("pgstore: no state tables; read-only, so reading as empty", "table", s.table)
		return nil
	}
	if !exists {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("schema", s.lockNS)); err != nil {
				return err
			}
			stmts := []string{
				"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{s.cfg.schema}.Sanitize(),
				"CREATE TABLE IF NOT EXISTS " + meta + " (name text PRIMARY KEY, value text NOT NULL)",
				"INSERT INTO " + meta + " (name, value) VALUES ('format', '" + formatVersion + "') ON CONFLICT (name) DO NOTHING",
				"CREATE TABLE IF NOT EXISTS " + s.table + " (key bytea PRIMARY KEY, value bytea NOT NULL) WITH (fillfactor = " + fillFactor + ")",
			}
			if s.cfg.schema == "public" {
				stmts = stmts[1:] // exists, and an ordinary user may not create it
			}
			for _, q := range stmts {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return s.wrap("create the state tables", err)
		}
		s.cfg.logger.Debug("pgstore: state tables ready", "table", s.table)
	}
	var found string
	err = s.pool.QueryRow(ctx, "SELECT value FROM "+meta+" WHERE name = 'format'").Scan(&found)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &diff.VersionError{Found: "no format version in " + meta, Supported: formatVersion}
	case err != nil:
		return s.wrap("read the format version", err)
	case found != formatVersion:
		return &diff.VersionError{Found: found, Supported: formatVersion}
	}
	return nil
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
