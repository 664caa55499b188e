package pgdedupe

import (
	"context"
	"errors"
	"fmt"

	"github.com/ampbraze/ampbraze/internal/pgschema"
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
	err := pgschema.Ensure(ctx, d.pool, pgschema.Spec{
		Schema: d.cfg.schema,
		Meta:   d.meta,
		Tables: []string{d.table},
		Format: formatVersion,
		Create: []string{
			"CREATE TABLE IF NOT EXISTS " + d.table + " (event_type text NOT NULL, id text NOT NULL, hour timestamptz NOT NULL, PRIMARY KEY (event_type, id))",
			// Prune deletes by type and hour.
			"CREATE INDEX IF NOT EXISTS " + pgx.Identifier{d.cfg.table + "_hour"}.Sanitize() + " ON " + d.table + " (event_type, hour)",
		},
		LockArgs: []any{"ampbraze-pgdedupe " + d.table},
		What:     "the ids table",
		Wrap:     d.wrap,
		Logger:   d.cfg.logger,
		Ready:    "pgdedupe: ids table ready",
	})
	if ve, ok := errors.AsType[*pgschema.VersionError](err); ok {
		return fmt.Errorf("%w: %s", ErrVersion, ve)
	}
	return err
}

func (d *IDs) wrap(op string, err error) error {
	return fmt.Errorf("pgdedupe: %s (%s): %w", op, d.where, err)
}
