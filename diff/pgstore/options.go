package pgstore

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Option configures a Store.
type Option func(*config)

type config struct {
	schema    string
	table     string
	logger    *slog.Logger
	poolCfg   func(*pgxpool.Config)
	scanBatch int
	readOnly  bool
}

func defaultConfig() config {
	return config{
		schema:    "public",
		table:     "ampbraze_state",
		logger:    slog.New(slog.DiscardHandler),
		scanBatch: 4096,
	}
}

// WithTable sets the name of the state table (default "ampbraze_state").
// Its format version is kept in a table of the same name with "_meta"
// appended. Stores on different tables are independent, also their scope
// locks.
func WithTable(name string) Option {
	return func(c *config) { c.table = name }
}

// WithSchema sets the PostgreSQL schema of the tables (default "public").
// The schema is created on open if it does not exist.
func WithSchema(schema string) Option {
	return func(c *config) { c.schema = schema }
}

// WithLogger sets the logger of schema creation and scope locks (debug
// level). The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithPoolConfig lets Open adjust the pool's configuration (MaxConns,
// timeouts, tracing) after it was parsed from the connection string. New
// ignores it: its pool is already built.
func WithPoolConfig(f func(*pgxpool.Config)) Option {
	return func(c *config) { c.poolCfg = f }
}

// WithScanBatch sets how many rows a Scan fetches from its cursor at a
// time (default 4096): the rows held in memory at once.
func WithScanBatch(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.scanBatch = n
		}
	}
}

// ReadOnly opens the store for reading only, for dry runs: it creates no
// table (a database without the state tables reads as an empty state),
// every Apply fails with diff.ErrReadOnly, and the Store reports ReadOnly,
// so an engine on it writes nothing and takes no scope lock. Open also
// makes the pool's sessions read-only (default_transaction_read_only).
func ReadOnly() Option {
	return func(c *config) { c.readOnly = true }
}
