package pgclaim

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Option configures Claims.
type Option func(*config)

type config struct {
	schema  string
	table   string
	owner   string
	lease   time.Duration
	renew   time.Duration // 0: no renewal goroutine
	logger  *slog.Logger
	poolCfg func(*pgxpool.Config)
}

func defaultConfig() config {
	return config{
		schema: "public",
		table:  "ampbraze_claims",
		lease:  time.Minute,
		renew:  -1, // lease/3 unless set
		logger: slog.New(slog.DiscardHandler),
	}
}

// WithSchema sets the PostgreSQL schema of the tables (default "public"),
// created on open if it does not exist.
func WithSchema(schema string) Option { return func(c *config) { c.schema = schema } }

// WithTable sets the claim table's name (default "ampbraze_claims"). The
// format version lives in "<table>_meta" and the committed batches in
// "<table>_commits". Jobs on different tables are independent.
func WithTable(name string) Option { return func(c *config) { c.table = name } }

// WithOwner sets the name this worker's claims are recorded under. Every
// live worker must have its own; the default is the host name and the
// process id.
func WithOwner(owner string) Option { return func(c *config) { c.owner = owner } }

// WithLease sets how long a claim lasts without renewal (default one
// minute): after a worker dies, its objects wait this long before another
// worker takes them. Values under one second are raised to one second.
func WithLease(d time.Duration) Option { return func(c *config) { c.lease = d } }

// WithRenewInterval sets how often the Claims' goroutine renews the leases
// it holds (default a third of the lease). 0 starts no goroutine: the
// caller then calls Renew itself, more often than the lease.
func WithRenewInterval(d time.Duration) Option { return func(c *config) { c.renew = d } }

// WithLogger sets the logger of schema creation and renewal failures. The
// default discards everything.
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
