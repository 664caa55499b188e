package pgdedupe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const send, open = "users.messages.email.Send", "users.messages.email.Open"

var hour0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func openTest(t *testing.T, opts ...Option) *IDs {
	t.Helper()
	d, err := Open(context.Background(), pgtest.URL(), append([]Option{WithSchema(pgtest.Schema(t, "pgdedupe_"))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// record runs Record in a transaction of its own and commits it.
func record(t *testing.T, d *IDs, ids []ID) []ID {
	t.Helper()
	var dups []ID
	err := pgx.BeginFunc(context.Background(), d.pool, func(tx pgx.Tx) error {
		var err error
		dups, err = d.Record(context.Background(), tx, ids)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dups
}

func idsOf(typ string, hour time.Time, from, n int) []ID {
	var out []ID
	for i := from; i < from+n; i++ {
		out = append(out, ID{EventType: typ, ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), Hour: hour})
	}
	return out
}

func TestRecordAndSeen(t *testing.T) {
	for _, n := range []int{10, copyMin + 10} { // the array path and the COPY path
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			d := openTest(t)
			ctx := context.Background()
			first := idsOf(send, hour0, 0, n)
			if dups := record(t, d, first); len(dups) != 0 {
				t.Fatalf("first record: %d duplicates", len(dups))
			}
			// The second batch overlaps the first by 5 ids, and repeats one
			// of its own: only the overlap is reported.
			second := append(idsOf(send, hour0.Add(time.Hour), n-5, 10), idsOf(send, hour0, n+1, 1)...)
			dups := record(t, d, second)
			want := idsOf(send, time.Time{}, n-5, 5)
			if !slices.Equal(dups, want) {
				t.Fatalf("duplicates %v, want %v", dups, want)
			}
			ask := []string{first[0].ID, second[9].ID, "never", first[1].ID}
			seen, err := d.Seen(ctx, send, ask)
			if err != nil || !slices.Equal(seen, []bool{true, true, false, true}) {
				t.Fatalf("Seen %v, %v", seen, err)
			}
			// Ids are kept per event type.
			if seen, _ := d.Seen(ctx, open, ask[:1]); seen[0] {
				t.Error("an id of another type counted as seen")
			}
			if dups := record(t, d, idsOf(open, hour0, 0, 3)); len(dups) != 0 {
				t.Errorf("same ids, another type: %v", dups)
			}
		})
	}
}

// Two workers record the same id at once: the second waits for the
// first's transaction, and finds the id only if the first commits.
func TestRecordRace(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	for _, commit := range []bool{true, false} {
		ids := idsOf(send, hour0, map[bool]int{true: 100, false: 200}[commit], 3)
		tx1, err := d.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if dups, err := d.Record(ctx, tx1, ids); err != nil || len(dups) != 0 {
			t.Fatalf("tx1: %v, %v", dups, err)
		}
		type result struct {
			dups []ID
			err  error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			r.err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
				var err error
				r.dups, err = d.Record(ctx, tx, reversed(ids))
				return err
			})
			done <- r
		}()
		select {
		case r := <-done:
			t.Fatalf("tx2 did not wait for tx1: %+v", r)
		case <-time.After(300 * time.Millisecond):
		}
		if commit {
			err = tx1.Commit(ctx)
		} else {
			err = tx1.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if commit && len(r.dups) != 3 || !commit && len(r.dups) != 0 {
			t.Errorf("tx1 committed %v: tx2 found %d duplicates", commit, len(r.dups))
		}
	}
}

// reversed returns ids in the opposite order: a second worker sending
// them so must not deadlock with the first.
func reversed(ids []ID) []ID {
	r := slices.Clone(ids)
	slices.Reverse(r)
	return r
}

func TestPrune(t *testing.T) {
	d := openTest(t, WithWindow(24*time.Hour))
	ctx := context.Background()
	record(t, d, idsOf(send, hour0, 0, 3))
	record(t, d, idsOf(open, hour0, 0, 3))
	record(t, d, idsOf(send, hour0.Add(24*time.Hour), 10, 1)) // still in the window of hour0
	if n, err := d.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("prune within the window: %d, %v", n, err)
	}
	record(t, d, idsOf(send, hour0.Add(25*time.Hour), 20, 1))
	if n, err := d.Prune(ctx); err != nil || n != 3 {
		t.Fatalf("prune: %d, %v; want the 3 sends of hour0", n, err)
	}
	if seen, _ := d.Seen(ctx, open, []string{idsOf(open, hour0, 0, 1)[0].ID}); !seen[0] {
		t.Error("the opens were pruned by the sends' clock")
	}
}

func TestWindowRoundsUp(t *testing.T) {
	d := openTest(t, WithWindow(90*time.Minute))
	if d.Window() != 2*time.Hour {
		t.Errorf("window %s", d.Window())
	}
}

func TestVersionRefused(t *testing.T) {
	d := openTest(t)
	pgtest.Exec(t, "UPDATE "+d.meta+" SET value = 'ampbraze-pgdedupe/0'")
	_, err := New(context.Background(), d.pool, WithSchema(d.cfg.schema))
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("open of another version: %v", err)
	}
}

func TestWithPoolConfigAdjustsTheOpenedPool(t *testing.T) {
	d := openTest(t, WithPoolConfig(func(cfg *pgxpool.Config) { cfg.MaxConns = 3 }))
	if got := d.pool.Config().MaxConns; got != 3 {
		t.Fatalf("pool MaxConns = %d, want the 3 set by WithPoolConfig", got)
	}
}
