package pgclaim

import (
	"context"
	"errors"
	"fmt"

	"github.com/ampbraze/ampbraze/internal/pgschema"
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
	idx := func(suffix string) string { return pgx.Identifier{c.cfg.table + suffix}.Sanitize() }
	err := pgschema.Ensure(ctx, c.pool, pgschema.Spec{
		Schema: c.cfg.schema,
		Meta:   c.meta,
		Tables: []string{c.table, c.commits},
		Format: formatVersion,
		Create: []string{
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
		},
		LockArgs: []any{"ampbraze-pgclaim " + c.table},
		What:     "the claim tables",
		Wrap:     c.wrap,
		Logger:   c.cfg.logger,
		Ready:    "pgclaim: claim tables ready",
	})
	if ve, ok := errors.AsType[*pgschema.VersionError](err); ok {
		return &VersionError{Table: c.meta, Found: ve.Found, Supported: formatVersion}
	}
	return err
}

// wrap names the server and table in an error.
func (c *Claims) wrap(op string, err error) error {
	return fmt.Errorf("pgclaim: %s (%s): %w", op, c.where, err)
}
