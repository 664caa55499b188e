package pgdedupe

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ID is one event id recorded for deduplication.
type ID struct {
	// EventType is the event's type (users.messages.email.Send, ...): ids
	// are compared within a type, as currents.Deduper does.
	EventType string
	// ID is the event's id.
	ID string
	// Hour is the queue hour (or, for a file outside Braze's key layout,
	// the time) the id is kept by; Prune counts the window from it.
	Hour time.Time
}

// IDs is the table of ids shared by the workers. It is safe for concurrent
// use and starts no goroutines.
type IDs struct {
	pool     *pgxpool.Pool
	ownsPool bool
	cfg      config
	window   time.Duration
	table    string // quoted, schema-qualified
	meta     string
	where    string

	insertSQL, insertCopiedSQL string

	mu     sync.Mutex
	newest map[string]time.Time // per event type, the newest hour recorded
}

// copyMin is the batch size from which Record sends the ids with COPY
// rather than as array parameters: COPY costs two more round trips but
// streams, where a large array is one big message built in memory.
const copyMin = 2048

// Open connects to the server of connString, creates the ids table if it
// does not exist and checks its format version. Close closes the pool.
func Open(ctx context.Context, connString string, opts ...Option) (*IDs, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	pcfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("pgdedupe: invalid connection string: %w", err)
	}
	if cfg.poolCfg != nil {
		cfg.poolCfg(pcfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("pgdedupe: creating the connection pool: %w", err)
	}
	d, err := newIDs(ctx, pool, true, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

// New returns IDs on pool, creating and checking the table as Open does.
// The pool stays the caller's.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*IDs, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return newIDs(ctx, pool, false, cfg)
}

func newIDs(ctx context.Context, pool *pgxpool.Pool, owns bool, cfg config) (*IDs, error) {
	if cfg.table == "" || cfg.schema == "" {
		return nil, fmt.Errorf("pgdedupe: empty table or schema name")
	}
	cc := pool.Config().ConnConfig
	t := pgx.Identifier{cfg.schema, cfg.table}.Sanitize()
	d := &IDs{
		pool: pool, ownsPool: owns, cfg: cfg,
		window: max((cfg.window+time.Hour-1)/time.Hour, 1) * time.Hour, // whole hours, rounded up as currents.NewDeduper does
		table:  t,
		meta:   pgx.Identifier{cfg.schema, cfg.table + "_meta"}.Sanitize(),
		where:  fmt.Sprintf("postgres %s:%d/%s table %s", cc.Host, cc.Port, cc.Database, t),
		newest: map[string]time.Time{},
	}
	// Inserting in one order (event type, id) keeps two workers that
	// record the same ids at once from deadlocking: the second waits for
	// the first, then finds its rows.
	const conflicts = ` ON CONFLICT (event_type, id) DO NOTHING RETURNING event_type, id)
		SELECT b.event_type, b.id FROM b LEFT JOIN ins ON ins.event_type = b.event_type AND ins.id = b.id WHERE ins.id IS NULL`
	d.insertSQL = `WITH b AS (SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS b(event_type, id, hour)),
		ins AS (INSERT INTO ` + t + ` (event_type, id, hour) SELECT event_type, id, hour FROM b ORDER BY event_type, id` + conflicts
	d.insertCopiedSQL = `WITH b AS (SELECT event_type, id, hour FROM pg_temp.ampbraze_pgdedupe_batch),
		ins AS (INSERT INTO ` + t + ` (event_type, id, hour) SELECT event_type, id, hour FROM b ORDER BY event_type, id` + conflicts
	if err := d.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Window returns the window, in whole hours.
func (d *IDs) Window() time.Duration { return d.window }

// Seen reports which of ids of one event type are recorded: seen[i] is
// true when ids[i] was committed by some worker. It is one query.
func (d *IDs) Seen(ctx context.Context, eventType string, ids []string) ([]bool, error) {
	seen := make([]bool, len(ids))
	if len(ids) == 0 {
		return seen, nil
	}
	rows, err := d.pool.Query(ctx, "SELECT id FROM "+d.table+" WHERE event_type = $1 AND id = ANY($2::text[])", eventType, ids)
	if err != nil {
		return nil, d.wrap("look up ids", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, d.wrap("look up ids", err)
	}
	if len(found) == 0 {
		return seen, nil
	}
	set := make(map[string]struct{}, len(found))
	for _, id := range found {
		set[id] = struct{}{}
	}
	for i, id := range ids {
		_, seen[i] = set[id]
	}
	return seen, nil
}

// Record inserts ids through tx, the caller's transaction (the one that
// commits the output holding the events), and returns those already
// recorded: by a transaction committed before, or by one that commits
// while this one waits for it. The ids are sent in one statement (COPY
// into a temporary table first for large batches), never one by one.
// If it returns any, the caller's events with those ids are duplicates of
// committed ones: it should roll tx back rather than commit them.
func (d *IDs) Record(ctx context.Context, tx pgx.Tx, ids []ID) ([]ID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var (
		rows pgx.Rows
		err  error
	)
	if len(ids) < copyMin {
		types, vals, hours := make([]string, len(ids)), make([]string, len(ids)), make([]time.Time, len(ids))
		for i, id := range ids {
			types[i], vals[i], hours[i] = id.EventType, id.ID, id.Hour.UTC().Truncate(time.Hour)
		}
		rows, err = tx.Query(ctx, d.insertSQL, types, vals, hours)
	} else {
		if _, err = tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS ampbraze_pgdedupe_batch (event_type text, id text, hour timestamptz) ON COMMIT DELETE ROWS"); err != nil {
			return nil, d.wrap("record ids", err)
		}
		// A batch rolled back leaves no rows; a committed one is emptied
		// on commit. Another Record in this transaction would see the rows
		// of the first: empty the table first.
		if _, err = tx.Exec(ctx, "TRUNCATE pg_temp.ampbraze_pgdedupe_batch"); err != nil {
			return nil, d.wrap("record ids", err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", "ampbraze_pgdedupe_batch"}, []string{"event_type", "id", "hour"},
			pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) {
				return []any{ids[i].EventType, ids[i].ID, ids[i].Hour.UTC().Truncate(time.Hour)}, nil
			}))
		if err != nil {
			return nil, d.wrap("record ids (copy)", err)
		}
		rows, err = tx.Query(ctx, d.insertCopiedSQL)
	}
	if err != nil {
		return nil, d.wrap("record ids", err)
	}
	var dups []ID
	var id ID
	_, err = pgx.ForEachRow(rows, []any{&id.EventType, &id.ID}, func() error {
		dups = append(dups, ID{EventType: id.EventType, ID: id.ID})
		return nil
	})
	if err != nil {
		return nil, d.wrap("record ids", err)
	}
	slices.SortFunc(dups, func(a, b ID) int { return cmp.Or(cmp.Compare(a.EventType, b.EventType), cmp.Compare(a.ID, b.ID)) })
	d.mu.Lock()
	for _, id := range ids {
		if h := id.Hour.UTC().Truncate(time.Hour); h.After(d.newest[id.EventType]) {
			d.newest[id.EventType] = h
		}
	}
	d.mu.Unlock()
	return dups, nil
}

// Prune deletes, for each event type this IDs recorded, the ids older
// than the window before the newest hour it recorded for the type, and
// returns how many it deleted. Call it after a commit, outside the
// commit's transaction.
func (d *IDs) Prune(ctx context.Context) (int64, error) {
	d.mu.Lock()
	var types []string
	var before []time.Time
	for t, h := range d.newest {
		types = append(types, t)
		before = append(before, h.Add(-d.window))
	}
	d.mu.Unlock()
	if len(types) == 0 {
		return 0, nil
	}
	tag, err := d.pool.Exec(ctx, "DELETE FROM "+d.table+" AS t USING unnest($1::text[], $2::timestamptz[]) AS p(event_type, before)"+
		" WHERE t.event_type = p.event_type AND t.hour < p.before", types, before)
	if err != nil {
		return 0, d.wrap("prune ids", err)
	}
	return tag.RowsAffected(), nil
}

// Close closes the pool if Open made it.
func (d *IDs) Close() {
	if d.ownsPool {
		d.pool.Close()
	}
}
