package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a diff.Store in a PostgreSQL table. It is safe for concurrent
// use; each call takes a connection of the pool for its duration.
type Store struct {
	pool     *pgxpool.Pool
	ownsPool bool
	cfg      config
	table    string // quoted, schema-qualified
	tableID  pgx.Identifier
	where    string // server, database and table, for errors
	lockNS   string // what scope lock keys are derived from

	// The statements, built once from the table name.
	getSQL, upsertSQL, upsertCopiedSQL, deleteSQL, scanSQL, scanAllSQL string

	copyMin int // see copyMin; the benchmark of the array path raises it
	// noTables: opened read-only on a database without the state tables,
	// which reads as an empty state.
	noTables bool

	closed atomic.Bool
	mu     sync.Mutex
	locks  map[*scopeLock]struct{} // held scope locks, released by Close
}

var _ diff.ReadOnlyStore = (*Store)(nil)
var _ diff.ScopeLocker = (*Store)(nil)

// ReadOnly implements diff.ReadOnlyStore: it reports whether the store
// was opened with the ReadOnly option.
func (s *Store) ReadOnly() bool { return s.cfg.readOnly }

// Open connects to the PostgreSQL server of connString (a URL such as
// postgres://user@host:5432/db?sslmode=disable, or key=value pairs; see
// pgxpool.ParseConfig), creates the state tables if they do not exist and
// checks their format version: tables written by an incompatible version
// of this package are refused with an error matching
// diff.ErrUnsupportedVersion. The pool is the Store's: Close closes it.
// A server that does not answer gives an error matching diff.ErrStoreIO
// that names its address.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	pcfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgconn redacts the password in the string it quotes.
		return nil, fmt.Errorf("pgstore: invalid connection string: %w", err)
	}
	if cfg.poolCfg != nil {
		cfg.poolCfg(pcfg)
	}
	if cfg.readOnly {
		pcfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: creating the connection pool: %w", err)
	}
	s, err := newStore(ctx, pool, true, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New returns a Store on pool, creating the state tables if they do not
// exist and checking their format version as Open does. The pool stays
// the caller's: Close does not close it.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return newStore(ctx, pool, false, cfg)
}

func newStore(ctx context.Context, pool *pgxpool.Pool, owns bool, cfg config) (*Store, error) {
	if cfg.table == "" || cfg.schema == "" {
		return nil, fmt.Errorf("pgstore: empty table or schema name")
	}
	pc := pool.Config()
	if pc.MaxConns < 2 {
		// The engine writes from inside a Scan's callback (the removals of
		// a full snapshot): with one connection that write would wait
		// forever for the connection the Scan holds.
		return nil, fmt.Errorf("pgstore: the pool allows %d connection(s); a Store needs at least 2 (a Scan holds one while the engine writes through another)", pc.MaxConns)
	}
	cc := pc.ConnConfig
	t := pgx.Identifier{cfg.schema, cfg.table}.Sanitize()
	s := &Store{
		pool:     pool,
		ownsPool: owns,
		cfg:      cfg,
		table:    t,
		tableID:  pgx.Identifier{cfg.schema, cfg.table},
		where:    fmt.Sprintf("postgres %s:%d/%s table %s", cc.Host, cc.Port, cc.Database, t),
		lockNS:   fmt.Sprintf("%s\x00%s\x00%s", cc.Database, cfg.schema, cfg.table),
		locks:    make(map[*scopeLock]struct{}),
		copyMin:  copyMin,

		getSQL: "SELECT value FROM " + t + " WHERE key = $1",
		upsertSQL: "INSERT INTO " + t + " (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])" +
			" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		upsertCopiedSQL: "INSERT INTO " + t + " (key, value) SELECT key, value FROM pg_temp.ampbraze_pgstore_batch" +
			" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		deleteSQL:  "DELETE FROM " + t + " WHERE key = ANY($1::bytea[])",
		scanSQL:    "DECLARE pgstore_scan NO SCROLL CURSOR FOR SELECT key, value FROM " + t + " WHERE key >= $1 AND key < $2 ORDER BY key",
		scanAllSQL: "DECLARE pgstore_scan NO SCROLL CURSOR FOR SELECT key, value FROM " + t + " WHERE key >= $1 ORDER BY key",
	}
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Get implements diff.Store: it appends the value of key to dst[:0].
func (s *Store) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	if s.closed.Load() {
		return dst[:0], false, diff.ErrClosed
	}
	if s.noTables {
		return dst[:0], false, nil
	}
	rows, err := s.pool.Query(ctx, s.getSQL, key)
	if err != nil {
		return dst[:0], false, s.wrap("get", err)
	}
	defer rows.Close()
	found := false
	dst = dst[:0]
	for rows.Next() {
		v, err := rawBytea(rows, 0)
		if err != nil {
			return dst, false, s.wrap("get", err)
		}
		dst, found = append(dst, v...), true
	}
	if err := rows.Err(); err != nil {
		return dst[:0], false, s.wrap("get", err)
	}
	return dst, found, nil
}

// Apply implements diff.Store: the ops are written in one transaction.
// When a key appears more than once, its last op wins, as in a pebble
// batch. Without durable the transaction commits with synchronous_commit
// off: atomic, but a crash of the server may lose it.
//
// Puts hinted diff.Op.Absent (the intents of a first sync) are copied
// straight into the table, without the temporary table and the upsert:
// the server inserts them in bulk (one WAL record per page, not per row)
// and looks for no old row. Should the hint be wrong (a row of that key
// exists), the COPY fails on the primary key and the whole batch is
// written again without the hints, so the result is that of a put.
func (s *Store) Apply(ctx context.Context, ops []diff.Op, durable bool) error {
	if s.closed.Load() {
		return diff.ErrClosed
	}
	if s.cfg.readOnly {
		return fmt.Errorf("pgstore: apply %s: %w (opened with pgstore.ReadOnly)", s.where, diff.ErrReadOnly)
	}
	if len(ops) == 0 {
		return nil
	}
	w := splitOps(ops, s.copyMin)
	err := s.apply(ctx, w, durable)
	if len(w.newK) > 0 && isUniqueViolation(err) {
		s.cfg.logger.Debug("pgstore: a put hinted absent found its key; writing the batch again as upserts", "table", s.table)
		w = splitOps(ops, math.MaxInt)
		err = s.apply(ctx, w, durable)
	}
	return s.wrap("apply", err)
}

// apply writes one split batch in one transaction.
func (s *Store) apply(ctx context.Context, w writes, durable bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		viaCopy := len(w.putK) >= s.copyMin
		var b pgx.Batch
		if !durable {
			b.Queue("SET LOCAL synchronous_commit = off")
		}
		if viaCopy {
			b.Queue(createBatchSQL)
		}
		if len(w.del) > 0 {
			b.Queue(s.deleteSQL, w.del)
		}
		if len(w.putK) > 0 && !viaCopy {
			b.Queue(s.upsertSQL, w.putK, w.putV)
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
		if len(w.newK) > 0 {
			if _, err := tx.CopyFrom(ctx, s.tableID, batchColumns, &copyRows{k: w.newK, v: w.newV, i: -1}); err != nil {
				return err
			}
		}
		if !viaCopy {
			return nil
		}
		if _, err := tx.CopyFrom(ctx, batchTable, batchColumns, &copyRows{k: w.putK, v: w.putV, i: -1}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.upsertCopiedSQL)
		return err
	})
}

// isUniqueViolation reports a unique_violation (23505): a put hinted
// absent met an existing row.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// copyMin is the number of puts from which Apply sends them by COPY into a
// temporary table and upserts from there, rather than as two array
// parameters of one upsert: measured on batches of 8192 (BenchmarkApply),
// COPY took 10% less time and half the client CPU; below a few hundred
// rows its extra round trips cost more than it saves.
const copyMin = 256

// The temporary table a batch is copied into: one per session, created by
// the first large batch of a connection, emptied at every commit.
const createBatchSQL = "CREATE TEMP TABLE IF NOT EXISTS ampbraze_pgstore_batch (key bytea NOT NULL, value bytea NOT NULL) ON COMMIT DELETE ROWS"

var (
	batchTable   = pgx.Identifier{"pg_temp", "ampbraze_pgstore_batch"}
	batchColumns = []string{"key", "value"}
)

// copyRows is a pgx.CopyFromSource over the puts of a batch.
type copyRows struct {
	k, v [][]byte
	i    int
	row  [2]any
}

func (r *copyRows) Next() bool { r.i++; return r.i < len(r.k) }
func (r *copyRows) Values() ([]any, error) {
	r.row[0], r.row[1] = r.k[r.i], r.v[r.i]
	return r.row[:], nil
}
func (r *copyRows) Err() error { return nil }

// writes is a batch split by how Apply sends it, each part in key order.
type writes struct {
	putK, putV [][]byte // upserted
	newK, newV [][]byte // copied straight into the table (hinted absent)
	del        [][]byte
}

// splitOps keeps the last op of each key and splits the batch into
// upserts, inserts and deletes, each in key order: a statement may not
// upsert a key twice, and two transactions that lock their rows in the
// same order cannot deadlock. Puts hinted absent are inserts when there
// are at least minNew of them (a COPY of a few rows costs more round trips
// than it saves); otherwise they are upserts.
func splitOps(ops []diff.Op, minNew int) writes {
	idx := make([]int, len(ops))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return bytes.Compare(ops[a].Key, ops[b].Key) })
	last := func(j int) bool { return j+1 == len(idx) || !bytes.Equal(ops[idx[j+1]].Key, ops[idx[j]].Key) }
	absent := 0
	for j, i := range idx {
		if ops[i].Absent && !ops[i].Delete && last(j) {
			absent++
		}
	}
	insert := absent >= minNew
	var w writes
	if insert {
		w.newK, w.newV = make([][]byte, 0, absent), make([][]byte, 0, absent)
	}
	w.putK = make([][]byte, 0, len(ops)-cap(w.newK))
	w.putV = make([][]byte, 0, cap(w.putK))
	for j, i := range idx {
		if !last(j) {
			continue // a later op of the same key wins
		}
		op := ops[i]
		if op.Delete {
			w.del = append(w.del, op.Key)
			continue
		}
		v := op.Value
		if v == nil {
			v = []byte{} // an empty value, not SQL NULL
		}
		if insert && op.Absent {
			w.newK, w.newV = append(w.newK, op.Key), append(w.newV, v)
			continue
		}
		w.putK, w.putV = append(w.putK, op.Key), append(w.putV, v)
	}
	return w
}

// Scan implements diff.Store: the rows whose key has the prefix, in key
// order, from one REPEATABLE READ snapshot, fetched from a server-side
// cursor a page at a time. fn may call the Store (another connection of
// the pool serves it).
func (s *Store) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	if s.closed.Load() {
		return diff.ErrClosed
	}
	if s.noTables {
		return nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s.wrap("scan", err)
	}
	// Read only: ending it by a rollback is as good as a commit, and the
	// rollback must run also when ctx is cancelled.
	defer tx.Rollback(context.WithoutCancel(ctx))
	if end := prefixEnd(prefix); end != nil {
		_, err = tx.Exec(ctx, s.scanSQL, nonNil(prefix), end)
	} else {
		_, err = tx.Exec(ctx, s.scanAllSQL, nonNil(prefix))
	}
	if err != nil {
		return s.wrap("scan", err)
	}
	fetch := fmt.Sprintf("FETCH %d FROM pgstore_scan", s.cfg.scanBatch)
	for {
		if closed := s.closed.Load(); closed {
			return diff.ErrClosed
		}
		rows, err := tx.Query(ctx, fetch)
		if err != nil {
			return s.wrap("scan", err)
		}
		n := 0
		for rows.Next() {
			n++
			if n%scanCheckEvery == 0 {
				// The page is already read: pgx would not notice a
				// cancellation before the next fetch.
				if err := ctx.Err(); err != nil {
					rows.Close()
					return s.wrap("scan", err)
				}
			}
			k, err := rawBytea(rows, 0)
			if err != nil {
				rows.Close()
				return s.wrap("scan", err)
			}
			v, err := rawBytea(rows, 1)
			if err != nil {
				rows.Close()
				return s.wrap("scan", err)
			}
			if err := fn(k, v); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.wrap("scan", err)
		}
		if n < s.cfg.scanBatch {
			return nil
		}
	}
}

// scanCheckEvery is how many rows of a page Scan reads between checks of
// its context.
const scanCheckEvery = 256

// rawBytea returns column i of the current row without copying: pgx reads
// bytea in the binary format, which is the bytes themselves. The slice is
// valid until the next row.
func rawBytea(rows pgx.Rows, i int) ([]byte, error) {
	if rows.FieldDescriptions()[i].Format != pgx.BinaryFormatCode {
		var b []byte
		err := rows.Scan(scanAt(i, &b)...)
		return b, err
	}
	v := rows.RawValues()[i]
	if v == nil {
		return nil, fmt.Errorf("%w: NULL in a column that should not hold one", diff.ErrCorrupt)
	}
	return v, nil
}

// scanAt builds Scan destinations that decode only column i.
func scanAt(i int, dst *[]byte) []any {
	d := make([]any, i+1)
	d[i] = dst
	return d
}

// prefixEnd returns the smallest key greater than every key with prefix,
// or nil when there is none (an empty prefix, or one of 0xff bytes only).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// nonNil turns a nil prefix into an empty one: a nil []byte is sent as SQL
// NULL, and key >= NULL matches nothing.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Close implements diff.Store: it releases the scope locks still held and,
// for a Store made by Open, closes the pool once the calls in flight have
// returned their connections. Calls after Close fail with diff.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	locks := make([]*scopeLock, 0, len(s.locks))
	for l := range s.locks {
		locks = append(locks, l)
	}
	s.mu.Unlock()
	for _, l := range locks {
		_ = l.release() // ending the session releases the lock in any case
	}
	if s.ownsPool {
		s.pool.Close()
	}
	return nil
}
