package pgdedupe

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// formatVersion names the layout of the ids table.
const formatVersion = "ampbraze-pgdedupe/1"

// ErrVersion is matched (with errors.Is) by Open's error for a table
// written by another format version of this package.
var ErrVersion = errors.New("pgdedupe: unsupported format version")

// ensureSchema creates the schema and tables if missing, records the
// format version and refuses tables of another version; concurrent opens
// are serialized by a transaction-level advisory lock.
func (d *IDs) ensureSchema(ctx context.Context) error {
	var exists bool
	if err := d.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL", d.table, d.meta).Scan(&exists); err != nil {
		return d.wrap("open", err)
	}
	if !exists {
		err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "ampbraze-pgdedupe "+d.table); err != nil {
				return err
			}
			stmts := []string{
				"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{d.cfg.schema}.Sanitize(),
				"CREATE TABLE IF NOT EXISTS " + d.meta + " (name text PRIMARY KEY, value text NOT NULL)",
				"INSERT INTO " + d.meta + " (name, value) VALUES ('format', '" + formatVersion + "') ON CONFLICT (name) DO NOTHING",
				"CREATE TABLE IF NOT EXISTS " + d.table + " (event_type text NOT NULL, id text NOT NULL, hour timestamptz NOT NULL, PRIMARY KEY (event_type, id))",
				// Prune deletes by type and hour.
				"CREATE INDEX IF NOT EXISTS " + pgx.Identifier{d.cfg.table + "_hour"}.Sanitize() + " ON " + d.table + " (event_type, hour)",
			}
			if d.cfg.schema == "public" {
				stmts = stmts[1:]
			}
			for _, q := range stmts {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return d.wrap("create the ids table", err)
		}
		d.cfg.logger.Debug("pgdedupe: ids table ready", "table", d.table)
	}
	var found string
	err := d.pool.QueryRow(ctx, "SELECT value FROM "+d.meta+" WHERE name = 'format'").Scan(&found)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: %s holds no format version; this program reads %q", ErrVersion, d.meta, formatVersion)
	case err != nil:
		return d.wrap("read the format version", err)
	case found != formatVersion:
		return fmt.Errorf("%w: %s holds %q; this program reads %q", ErrVersion, d.meta, found, formatVersion)
	}
	return nil
}

func (d *IDs) wrap(op string, err error) error {
	return fmt.Errorf("pgdedupe: %s (%s): %w", op, d.where, err)
}
