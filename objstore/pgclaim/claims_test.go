package pgclaim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestClaimIsExclusive(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	a, b := openTest(t, schema, "a"), openTest(t, schema, "b")
	ctx := ctxT(t)
	got, err := a.Claim(ctx, "k2", "k1", "k3")
	if err != nil || !slices.Equal(got, []string{"k1", "k2", "k3"}) {
		t.Fatalf("a claims %v, %v", got, err)
	}
	if got, err := b.Claim(ctx, "k1", "k2", "k3", "k4"); err != nil || !slices.Equal(got, []string{"k4"}) {
		t.Fatalf("b claims %v, %v; want only the new k4", got, err)
	}
	if got, err := a.Claim(ctx, "k1", "k4"); err != nil || len(got) != 0 {
		t.Fatalf("a claims again %v, %v; want nothing (k1 is already a's, k4 b's)", got, err)
	}
	if err := a.Commit(ctx, "", []string{"k1"}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Release(ctx, "k2"); err != nil || n != 1 {
		t.Fatalf("release: %d, %v", n, err)
	}
	// k1 is done, k2 released, k3 still a's.
	if got, err := b.Claim(ctx, "k1", "k2", "k3"); err != nil || !slices.Equal(got, []string{"k2"}) {
		t.Fatalf("b claims %v, %v; want the released k2", got, err)
	}
}

// Four workers claim the same 300 keys at once, each in its own random
// order and batches: every key is claimed by exactly one.
func TestConcurrentClaimsNeverOverlap(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	var keys []string
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("k%03d", i))
	}
	openTest(t, schema, "setup") // create the tables once
	var (
		mu    sync.Mutex
		owner = map[string]string{}
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
	)
	for w := range 4 {
		c := openTest(t, schema, fmt.Sprintf("w%d", w))
		order := slices.Clone(keys)
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		wg.Go(func() {
			for i := 0; i < len(order); i += 7 {
				got, err := c.Claim(context.Background(), order[i:min(i+7, len(order))]...)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, k := range got {
					if o, ok := owner[k]; ok {
						errs <- fmt.Errorf("%s claimed by %s and %s", k, o, c.Owner())
					}
					owner[k] = c.Owner()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(owner) != len(keys) {
		t.Errorf("%d keys claimed, want %d", len(owner), len(keys))
	}
}

// A row locked by another transaction (a worker in the middle of its own
// claim) is skipped, not waited for.
func TestClaimSkipsLockedRows(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	c := openTest(t, schema, "a")
	ctx := ctxT(t)
	if _, err := c.Add(ctx, "k1", "k2"); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT key FROM "+c.table+" WHERE key = 'k1' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := c.Claim(short, "k1", "k2")
	if err != nil || !slices.Equal(got, []string{"k2"}) {
		t.Fatalf("claim beside a locked row: %v, %v; want k2 at once", got, err)
	}
	if got, err := c.ClaimNext(short, 10); err != nil || len(got) != 0 {
		t.Fatalf("ClaimNext: %v, %v; want nothing (k1 locked, k2 held)", got, err)
	}
	tx.Rollback(ctx)
	if got, err := c.ClaimNext(short, 10); err != nil || !slices.Equal(got, []string{"k1"}) {
		t.Fatalf("ClaimNext after the lock: %v, %v", got, err)
	}
}

// A dead worker's lease runs out: another worker claims its keys, and the
// first, should it come back, cannot commit them.
func TestExpiredLeaseIsClaimableAndLost(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	a := openTest(t, schema, "a", WithLease(time.Second))
	b := openTest(t, schema, "b", WithLease(time.Second))
	ctx := ctxT(t)
	if got, err := a.Claim(ctx, "k1", "k2"); err != nil || len(got) != 2 {
		t.Fatalf("a: %v, %v", got, err)
	}
	if got, _ := b.ClaimNext(ctx, 10); len(got) != 0 {
		t.Fatalf("b took %v under a running lease", got)
	}
	st, err := b.Status(ctx, "k1", "k2", "k3")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Held, []string{"k1", "k2"}) || !slices.Equal(st.Claimable, []string{"k3"}) || st.NextExpiry.IsZero() {
		t.Fatalf("status %+v", st)
	}
	if left := time.Until(st.NextExpiry); left <= 0 || left > 2*time.Second {
		t.Errorf("next expiry in %s, want within the 1s lease", left)
	}
	time.Sleep(1100 * time.Millisecond)
	if holds, err := b.Holding(ctx, "a"); err != nil || !holds {
		t.Errorf("a holding %v, %v after its lease ran out, before anyone took its keys", holds, err)
	}
	if got, err := b.Claim(ctx, "k1"); err != nil || !slices.Equal(got, []string{"k1"}) {
		t.Fatalf("b after expiry: %v, %v", got, err)
	}
	err = a.Commit(ctx, "a-1", []string{"k1", "k2"}, nil)
	var lost *LeaseLostError
	if !errors.Is(err, ErrLeaseLost) || !errors.As(err, &lost) || !slices.Equal(lost.Keys, []string{"k1"}) {
		t.Fatalf("a commits a lost key: %v", err)
	}
	if c, _ := a.Committed(ctx, "a-1"); c["a-1"] {
		t.Error("a failed commit was recorded")
	}
	// k2 ran out too, but nobody took it: it is still a's to commit.
	if err := a.Commit(ctx, "a-2", []string{"k2"}, nil); err != nil {
		t.Fatalf("a commits its expired but untaken key: %v", err)
	}
	if holds, err := b.Holding(ctx, "a"); err != nil || holds {
		t.Errorf("a holding %v, %v with nothing left", holds, err)
	}
	if c, _ := a.Committed(ctx, "a-1", "a-2"); !c["a-2"] || c["a-1"] {
		t.Errorf("committed %v", c)
	}
}

// The renewal goroutine keeps a live worker's keys; Close stops it and
// releases them at once.
func TestRenewalAndClose(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	a := openTest(t, schema, "a", WithLease(time.Second), WithRenewInterval(200*time.Millisecond))
	b := openTest(t, schema, "b", WithLease(time.Second))
	ctx := ctxT(t)
	if got, err := a.Claim(ctx, "k1"); err != nil || len(got) != 1 {
		t.Fatalf("a: %v, %v", got, err)
	}
	time.Sleep(2500 * time.Millisecond) // two and a half leases
	if got, err := b.Claim(ctx, "k1"); err != nil || len(got) != 0 {
		t.Fatalf("b took %v, %v from a renewing worker", got, err)
	}
	if holds, err := b.Holding(ctx, "a"); err != nil || !holds {
		t.Errorf("a holding %v, %v", holds, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := a.Claim(ctx, "k2"); !errors.Is(err, ErrClosed) {
		t.Errorf("Claim after Close: %v", err)
	}
	if got, err := b.Claim(ctx, "k1"); err != nil || len(got) != 1 {
		t.Fatalf("b after a closed: %v, %v; want k1 released at once", got, err)
	}
}

// Renew without the goroutine: the caller's call keeps the lease.
func TestRenewByCaller(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	a := openTest(t, schema, "a", WithLease(time.Second))
	b := openTest(t, schema, "b", WithLease(time.Second))
	ctx := ctxT(t)
	a.Claim(ctx, "k1", "k2")
	for range 4 {
		time.Sleep(400 * time.Millisecond)
		if n, err := a.Renew(ctx); err != nil || n != 2 {
			t.Fatalf("renew: %d, %v", n, err)
		}
	}
	if got, _ := b.Claim(ctx, "k1", "k2"); len(got) != 0 {
		t.Fatalf("b took %v from a worker renewing by hand", got)
	}
}

// Commit's fn runs in the transaction that marks the keys done: an error
// from it leaves the keys claimed and its writes undone.
func TestCommitIsOneTransaction(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	a := openTest(t, schema, "a")
	ctx := ctxT(t)
	pgtest.Exec(t, "CREATE TABLE "+pgx.Identifier{schema, "out"}.Sanitize()+" (v text)")
	insert := func(v string, fail error) func(context.Context, pgx.Tx) error {
		return func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, "out"}.Sanitize()+" VALUES ($1)", v); err != nil {
				return err
			}
			return fail
		}
	}
	a.Claim(ctx, "k1")
	boom := errors.New("boom")
	if err := a.Commit(ctx, "b1", []string{"k1"}, insert("x", boom)); !errors.Is(err, boom) {
		t.Fatalf("commit with failing fn: %v", err)
	}
	st, _ := a.Status(ctx, "k1")
	if !slices.Equal(st.Mine, []string{"k1"}) {
		t.Fatalf("after a failed commit: %+v; want k1 still a's", st)
	}
	if err := a.Commit(ctx, "b1", []string{"k1"}, insert("y", nil)); err != nil {
		t.Fatal(err)
	}
	var vals []string
	rows, _ := a.Pool().Query(ctx, "SELECT v FROM "+pgx.Identifier{schema, "out"}.Sanitize())
	vals, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(vals, []string{"y"}) {
		t.Errorf("rows %v, %v; want only the committed y", vals, err)
	}
	if st, _ := a.Status(ctx, "k1"); st.Len() != 0 {
		t.Errorf("k1 not done: %+v", st)
	}
	if c, _ := a.Committed(ctx, "b1"); !c["b1"] {
		t.Error("batch b1 not recorded")
	}
}

func TestVersionRefused(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	c := openTest(t, schema, "a")
	pgtest.Exec(t, "UPDATE "+c.meta+" SET value = 'ampbraze-pgclaim/99'")
	_, err := Open(context.Background(), pgtest.URL(), WithSchema(schema))
	var ve *VersionError
	if !errors.Is(err, ErrVersion) || !errors.As(err, &ve) || ve.Found != "ampbraze-pgclaim/99" {
		t.Fatalf("open of another version: %v", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	if _, err := Open(context.Background(), "postgres://a b:1:2"); err == nil {
		t.Fatal("no error for an unparsable URL")
	}
}

func TestWithPoolConfigAdjustsTheOpenedPool(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	c := openTest(t, schema, "a", WithPoolConfig(func(cfg *pgxpool.Config) { cfg.MaxConns = 3 }))
	if got := c.pool.Config().MaxConns; got != 3 {
		t.Fatalf("pool MaxConns = %d, want the 3 set by WithPoolConfig", got)
	}
}
