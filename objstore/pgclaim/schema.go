package pgclaim

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// formatVersion names the layout of the tables. Tables holding another
// version are refused.
const formatVersion = "ampbraze-pgclaim/1"

// ensureSchema creates the schema and tables if missing, records the
// format version on new tables and refuses tables of another version.
// Workers opening new tables at once are serialized by a transaction-level
// advisory lock, so they do not race on CREATE TABLE.
func (c *Claims) ensureSchema(ctx context.Context) error {
	var exists bool
	err := c.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL",
		c.table, c.meta, c.commits).Scan(&exists)
	if err != nil {
		return c.wrap("open", err)
	}
	if !exists {
		err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "ampbraze-pgclaim "+c.table); err != nil {
				return err
			}
			idx := func(suffix string) string { return pgx.Identifier{c.cfg.table + suffix}.Sanitize() }
			stmts := []string{
				"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{c.cfg.schema}.Sanitize(),
				"CREATE TABLE IF NOT EXISTS " + c.meta + " (name text PRIMARY KEY, value text NOT NULL)",
				"INSERT INTO " + c.meta + " (name, value) VALUES ('format', '" + formatVersion + "') ON CONFLICT (name) DO NOTHING",
				"CREATE TABLE IF NOT EXISTS " + c.table + ` (
					key text PRIMARY KEY,
					state text NOT NULL CHECK (state IN ('pending', 'claimed', 'done')),
					owner text,
					lease_until timestamptz,
					claims integer NOT NULL DEFAULT 0,
					batch text,
					done_at timestamptz)`,
				// ClaimNext walks the keys not done in key order; renewal,
				// release and liveness look up an owner's claims.
				"CREATE INDEX IF NOT EXISTS " + idx("_open") + " ON " + c.table + " (key) WHERE state <> 'done'",
				"CREATE INDEX IF NOT EXISTS " + idx("_owner") + " ON " + c.table + " (owner) WHERE state = 'claimed'",
				"CREATE TABLE IF NOT EXISTS " + c.commits + " (id text PRIMARY KEY, owner text NOT NULL, keys integer NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())",
			}
			if c.cfg.schema == "public" {
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
			return c.wrap("create the claim tables", err)
		}
		c.cfg.logger.Debug("pgclaim: claim tables ready", "table", c.table)
	}
	var found string
	err = c.pool.QueryRow(ctx, "SELECT value FROM "+c.meta+" WHERE name = 'format'").Scan(&found)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &VersionError{Table: c.meta, Supported: formatVersion}
	case err != nil:
		return c.wrap("read the format version", err)
	case found != formatVersion:
		return &VersionError{Table: c.meta, Found: found, Supported: formatVersion}
	}
	return nil
}

// wrap names the server and table in an error.
func (c *Claims) wrap(op string, err error) error {
	return fmt.Errorf("pgclaim: %s (%s): %w", op, c.where, err)
}
