package pgdedupe

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Option configures IDs.
type Option func(*config)

type config struct {
	schema  string
	table   string
	window  time.Duration
	logger  *slog.Logger
	poolCfg func(*pgxpool.Config)
}

func defaultConfig() config {
	return config{schema: "public", table: "ampbraze_dedupe", window: 24 * time.Hour, logger: slog.New(slog.DiscardHandler)}
}

// WithSchema sets the PostgreSQL schema of the tables (default "public"),
// created on open if it does not exist.
func WithSchema(schema string) Option { return func(c *config) { c.schema = schema } }

// WithTable sets the ids table's name (default "ampbraze_dedupe"); its
// format version lives in "<table>_meta".
func WithTable(name string) Option { return func(c *config) { c.table = name } }

// WithWindow sets how long, in queue hours, ids are kept after the newest
// hour recorded for their event type (default 24 hours; rounded up to
// whole hours), as currents.NewDeduper's window.
func WithWindow(d time.Duration) Option { return func(c *config) { c.window = d } }

// WithLogger sets the logger of schema creation. The default discards
// everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithPoolConfig lets Open adjust the pool's configuration after it was
// parsed from the connection string. New ignores it.
func WithPoolConfig(f func(*pgxpool.Config)) Option { return func(c *config) { c.poolCfg = f } }
