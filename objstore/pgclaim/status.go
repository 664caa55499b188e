package pgclaim

import (
	"context"
	"iter"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Outstanding is what Status found of keys not yet done.
type Outstanding struct {
	// Held are the keys another worker holds under a running lease.
	Held []string
	// Claimable are the keys any worker may claim now: pending, released,
	// or held under a lease that ran out. Keys the table does not know are
	// claimable too.
	Claimable []string
	// Mine are the keys this worker holds.
	Mine []string
	// NextExpiry is when the first lease of Held runs out (the zero time
	// when Held is empty), by the database's clock as seen from here.
	NextExpiry time.Time
}

// Len returns the number of keys not done.
func (o Outstanding) Len() int { return len(o.Held) + len(o.Claimable) + len(o.Mine) }

// Status reports which of keys are not done yet, and who holds them. A
// worker that found keys held by others waits on it: until every key is
// done, or some became claimable because a worker died.
func (c *Claims) Status(ctx context.Context, keys ...string) (Outstanding, error) {
	var o Outstanding
	if err := c.check(); err != nil {
		return o, err
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	rows, err := c.pool.Query(ctx, `SELECT k, t.state, t.owner, t.lease_until - now() FROM unnest($1::text[]) AS k
		LEFT JOIN `+c.table+` AS t ON t.key = k WHERE t.state IS DISTINCT FROM 'done' ORDER BY k`, keys)
	if err != nil {
		return o, c.wrap("status", err)
	}
	now := time.Now()
	for rows.Next() {
		var (
			key          string
			state, owner *string
			left         *time.Duration
		)
		if err := rows.Scan(&key, &state, &owner, &left); err != nil {
			rows.Close()
			return o, c.wrap("status", err)
		}
		switch {
		case state != nil && *state == "claimed" && owner != nil && *owner == c.owner:
			o.Mine = append(o.Mine, key)
		case state != nil && *state == "claimed" && left != nil && *left >= 0:
			o.Held = append(o.Held, key)
			if exp := now.Add(*left); o.NextExpiry.IsZero() || exp.Before(o.NextExpiry) {
				o.NextExpiry = exp
			}
		default:
			o.Claimable = append(o.Claimable, key)
		}
	}
	if err := rows.Err(); err != nil {
		return o, c.wrap("status", err)
	}
	return o, nil
}

// Committed returns which of the batch names given to Commit were
// committed.
func (c *Claims) Committed(ctx context.Context, batches ...string) (map[string]bool, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	rows, err := c.pool.Query(ctx, "SELECT id FROM "+c.commits+" WHERE id = ANY($1::text[])", batches)
	if err != nil {
		return nil, c.wrap("look up commits", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, c.wrap("look up commits", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// Holding reports whether owner holds any claim that no other worker has
// taken over, its lease running or not. A worker holds claims on
// everything it has not committed yet, so a worker holding none has
// nothing uncommitted: whatever it left behind (an unpublished batch, say)
// may be cleaned up. A dead worker holds claims until other workers claim
// its keys again after the leases ran out.
func (c *Claims) Holding(ctx context.Context, owner string) (bool, error) {
	if err := c.check(); err != nil {
		return false, err
	}
	var holds bool
	err := c.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+c.table+" WHERE owner = $1 AND state = 'claimed')", owner).Scan(&holds)
	if err != nil {
		return false, c.wrap("look up an owner", err)
	}
	return holds, nil
}

// DoneKeys yields the keys done, in no particular order.
func (c *Claims) DoneKeys(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := c.check(); err != nil {
			yield("", err)
			return
		}
		rows, err := c.pool.Query(ctx, "SELECT key FROM "+c.table+" WHERE state = 'done'")
		if err != nil {
			yield("", c.wrap("list done keys", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				yield("", c.wrap("list done keys", err))
				return
			}
			if !yield(k, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield("", c.wrap("list done keys", err))
		}
	}
}
