package pgclaim

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Claims is one worker's view of a claim table. It is safe for concurrent
// use. Unless WithRenewInterval(0) was given, it renews its leases on a
// goroutine of its own until Close.
type Claims struct {
	pool     *pgxpool.Pool
	ownsPool bool
	cfg      config
	owner    string
	table    string // quoted, schema-qualified
	meta     string
	commits  string
	where    string // server, database and table, for errors

	// mu serializes the statements that update this owner's rows (Commit,
	// Renew, Release), so that two of them never lock the same rows in
	// different orders and deadlock.
	mu sync.Mutex

	stop    chan struct{}
	wg      sync.WaitGroup
	closeMu sync.Mutex
	closed  bool
}

// Open connects to the PostgreSQL server of connString (a URL such as
// postgres://user@host:5432/db, or key=value pairs), creates the claim
// tables if they do not exist and checks their format version. The pool is
// the Claims': Close closes it.
func Open(ctx context.Context, connString string, opts ...Option) (*Claims, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	pcfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("pgclaim: invalid connection string: %w", err)
	}
	if cfg.poolCfg != nil {
		cfg.poolCfg(pcfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("pgclaim: creating the connection pool: %w", err)
	}
	c, err := newClaims(ctx, pool, true, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return c, nil
}

// New returns Claims on pool, creating and checking the tables as Open
// does. The pool stays the caller's: Close does not close it.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Claims, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return newClaims(ctx, pool, false, cfg)
}

// DefaultOwner is the owner name used without WithOwner: the host name and
// the process id, unique among the live processes of a fleet.
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

func newClaims(ctx context.Context, pool *pgxpool.Pool, owns bool, cfg config) (*Claims, error) {
	if cfg.table == "" || cfg.schema == "" {
		return nil, fmt.Errorf("pgclaim: empty table or schema name")
	}
	if cfg.owner == "" {
		cfg.owner = DefaultOwner()
	}
	cfg.lease = max(cfg.lease, time.Second)
	if cfg.renew < 0 {
		cfg.renew = cfg.lease / 3
	}
	cc := pool.Config().ConnConfig
	c := &Claims{
		pool:     pool,
		ownsPool: owns,
		cfg:      cfg,
		owner:    cfg.owner,
		table:    pgx.Identifier{cfg.schema, cfg.table}.Sanitize(),
		meta:     pgx.Identifier{cfg.schema, cfg.table + "_meta"}.Sanitize(),
		commits:  pgx.Identifier{cfg.schema, cfg.table + "_commits"}.Sanitize(),
		stop:     make(chan struct{}),
	}
	c.where = fmt.Sprintf("postgres %s:%d/%s table %s", cc.Host, cc.Port, cc.Database, c.table)
	if err := c.ensureSchema(ctx); err != nil {
		return nil, err
	}
	if cfg.renew > 0 {
		c.wg.Add(1)
		go c.renewLoop(cfg.renew)
	}
	return c, nil
}

// Owner returns the name this worker's claims are recorded under.
func (c *Claims) Owner() string { return c.owner }

// Lease returns the lease of a claim.
func (c *Claims) Lease() time.Duration { return c.cfg.lease }

// Pool returns the connection pool, for the caller's own statements in the
// same database.
func (c *Claims) Pool() *pgxpool.Pool { return c.pool }

func (c *Claims) leaseSeconds() float64 { return c.cfg.lease.Seconds() }

// Claim claims those of keys that no worker has finished and no other
// worker holds under a running lease, registering the keys the table does
// not know yet, and returns them in key order. A key this worker already
// holds under a running lease is not returned again. It is one statement: the candidate rows are
// locked with FOR UPDATE SKIP LOCKED, so a key another worker is claiming
// at the same moment is skipped rather than waited for.
func (c *Claims) Claim(ctx context.Context, keys ...string) ([]string, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, nil
	}
	// Sorted, so that two workers inserting the same new keys wait for
	// each other in one order and never deadlock.
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	q := `WITH ins AS (
		INSERT INTO ` + c.table + ` (key, state, owner, lease_until, claims)
		SELECT k, 'claimed', $2, now() + make_interval(secs => $3), 1 FROM unnest($1::text[]) AS k
		ON CONFLICT (key) DO NOTHING RETURNING key
	), upd AS (
		UPDATE ` + c.table + ` AS t SET state = 'claimed', owner = $2, lease_until = now() + make_interval(secs => $3), claims = t.claims + 1
		FROM (SELECT key FROM ` + c.table + ` WHERE key = ANY($1::text[])
			AND (state = 'pending' OR (state = 'claimed' AND lease_until < now()))
			ORDER BY key FOR UPDATE SKIP LOCKED) AS free
		WHERE t.key = free.key RETURNING t.key
	) SELECT key FROM ins UNION ALL SELECT key FROM upd`
	return c.claimed(ctx, "claim", q, keys, c.owner, c.leaseSeconds())
}

// ClaimNext claims up to n keys of the table that are pending or whose
// lease ran out, in key order, skipping rows other workers are claiming at
// the same moment (FOR UPDATE SKIP LOCKED). Keys get into the table
// through Add or Claim.
func (c *Claims) ClaimNext(ctx context.Context, n int) ([]string, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	q := `UPDATE ` + c.table + ` AS t SET state = 'claimed', owner = $1, lease_until = now() + make_interval(secs => $2), claims = t.claims + 1
		FROM (SELECT key FROM ` + c.table + ` WHERE state <> 'done'
			AND (state = 'pending' OR lease_until < now())
			ORDER BY key LIMIT $3 FOR UPDATE SKIP LOCKED) AS free
		WHERE t.key = free.key RETURNING t.key`
	return c.claimed(ctx, "claim", q, c.owner, c.leaseSeconds(), n)
}

func (c *Claims) claimed(ctx context.Context, op, q string, args ...any) ([]string, error) {
	rows, err := c.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, c.wrap(op, err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, c.wrap(op, err)
	}
	slices.Sort(got)
	return got, nil
}

// Add registers keys as pending, leaving the keys the table already holds
// as they are, and returns how many were new.
func (c *Claims) Add(ctx context.Context, keys ...string) (int, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	tag, err := c.pool.Exec(ctx, "INSERT INTO "+c.table+" (key, state) SELECT k, 'pending' FROM unnest($1::text[]) AS k ON CONFLICT (key) DO NOTHING", keys)
	if err != nil {
		return 0, c.wrap("add keys", err)
	}
	return int(tag.RowsAffected()), nil
}

// Renew extends the lease of every key this worker holds to a full lease
// from now, and returns how many it holds. Keys whose lease ran out but
// that no other worker took yet are renewed too: they are still this
// worker's.
func (c *Claims) Renew(ctx context.Context) (int, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tag, err := c.pool.Exec(ctx, "UPDATE "+c.table+" SET lease_until = now() + make_interval(secs => $2) WHERE owner = $1 AND state = 'claimed'",
		c.owner, c.leaseSeconds())
	if err != nil {
		return 0, c.wrap("renew leases", err)
	}
	return int(tag.RowsAffected()), nil
}

func (c *Claims) renewLoop(every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		if _, err := c.Renew(ctx); err != nil {
			// Commit finds out if a lease was lost meanwhile: nothing is
			// committed twice, so a failed renewal only costs time.
			c.cfg.logger.Warn("pgclaim: renewing leases failed", "owner", c.owner, "err", err)
		}
		cancel()
	}
}

// Release gives keys this worker holds back to the pool of pending keys,
// for any worker to claim at once; keys it does not hold are left alone.
// With no keys it releases all it holds.
func (c *Claims) Release(ctx context.Context, keys ...string) (int, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	return c.release(ctx, keys)
}

func (c *Claims) release(ctx context.Context, keys []string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := "UPDATE " + c.table + " SET state = 'pending', owner = NULL, lease_until = NULL WHERE owner = $1 AND state = 'claimed'"
	args := []any{c.owner}
	if len(keys) > 0 {
		q += " AND key = ANY($2::text[])"
		args = append(args, keys)
	}
	tag, err := c.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, c.wrap("release claims", err)
	}
	return int(tag.RowsAffected()), nil
}

// Commit marks keys done, in one transaction with fn (which may be nil):
// fn writes, through tx, whatever must be committed with the keys, and an
// error from it rolls everything back. A non-empty batch names the commit:
// it is recorded in the same transaction, so Committed tells later whether
// the commit happened (when the worker died just after it, say).
//
// Every key must be claimed by this worker; a key whose lease ran out is
// still this worker's until another claims it. Otherwise nothing is
// committed and the error is a *LeaseLostError (matching ErrLeaseLost):
// another worker now processes those keys.
func (c *Claims) Commit(ctx context.Context, batch string, keys []string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if err := c.check(); err != nil {
		return err
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	c.mu.Lock()
	defer c.mu.Unlock()
	var lost []string
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "UPDATE "+c.table+" SET state = 'done', lease_until = NULL, done_at = now(), batch = NULLIF($3, '')"+
			" WHERE key = ANY($1::text[]) AND owner = $2 AND state = 'claimed' RETURNING key", keys, c.owner, batch)
		if err != nil {
			return err
		}
		done, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(done) != len(keys) {
			slices.Sort(done)
			for _, k := range keys {
				if _, ok := slices.BinarySearch(done, k); !ok {
					lost = append(lost, k)
				}
			}
			return errLost
		}
		if batch != "" {
			if _, err := tx.Exec(ctx, "INSERT INTO "+c.commits+" (id, owner, keys) VALUES ($1, $2, $3)", batch, c.owner, len(keys)); err != nil {
				return err
			}
		}
		if fn != nil {
			return fn(ctx, tx)
		}
		return nil
	})
	if lost != nil {
		return &LeaseLostError{Owner: c.owner, Keys: lost}
	}
	if err != nil {
		return c.wrap("commit", err)
	}
	return nil
}

// errLost rolls Commit's transaction back; Commit reports a
// *LeaseLostError instead.
var errLost = fmt.Errorf("lease lost")

// Close stops the renewal, releases the keys this worker holds (so other
// workers need not wait for the leases to run out) and, if Open made the
// pool, closes it. It is safe to call more than once.
func (c *Claims) Close() error {
	c.closeMu.Lock()
	if c.closed {
		c.closeMu.Unlock()
		return nil
	}
	c.closed = true
	c.closeMu.Unlock()
	close(c.stop)
	c.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.release(ctx, nil)
	if c.ownsPool {
		c.pool.Close()
	}
	return err
}

func (c *Claims) check() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return nil
}
