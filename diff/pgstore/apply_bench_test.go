package pgstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkApply compares Apply's two write paths (COPY into a temporary
// table then one upsert from it, and one upsert of two array parameters,
// forced by raising copyMin) on batches the size of the
// engine's (4096 acknowledgements, 8192 intents) of 22-byte keys and
// 200-byte values: half of each batch new keys, half overwrites, as in a
// first sync where acknowledgements overwrite intents.
//
//	go test ./diff/pgstore -run '^$' -bench BenchmarkApply -benchtime 20x
func BenchmarkApply(b *testing.B) {
	for _, size := range []int{4096, 8192} {
		for _, method := range []string{"unnest", "copy"} {
			for _, durable := range []bool{true, false} {
				b.Run(fmt.Sprintf("%s/batch=%d/durable=%v", method, size, durable), func(b *testing.B) {
					s := newTestStore(b)
					if method == "unnest" {
						s.copyMin = math.MaxInt
					}
					ctx := context.Background()
					ops := make([]diff.Op, size)
					for i := range ops {
						ops[i] = diff.Op{Key: make([]byte, 22), Value: make([]byte, 200)}
						ops[i].Key[0] = 3
					}
					next := uint64(0)
					b.ResetTimer()
					for range b.N {
						for i := range ops {
							k := next + uint64(i)
							if i%2 == 1 {
								k = next - uint64(size) + uint64(i) // overwrite a key of the previous batch
							}
							binary.BigEndian.PutUint64(ops[i].Key[5:], k)
							binary.BigEndian.PutUint64(ops[i].Value, k)
						}
						next += uint64(size)
						if err := s.Apply(ctx, ops, durable); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	}
}

// BenchmarkFirstSyncWrites replays on the store alone the writes of a
// first sync of 262,144 users (22-byte keys, 182-byte values, the engine's
// sizes for 20 attributes): intents of 8192 new keys in one durable batch
// each, then their acknowledgements in batches of 4096 overwriting the
// intents, every 16th durable, each batch with the scope's key count:
//
//	baseline     the intents upserted, the table's pages filled (fillfactor
//	             100): the store before diff.Op.Absent and fillFactor
//	absent-ff100 the intents hinted diff.Op.Absent (copied straight into
//	             the table), pages filled
//	absent       hinted, and the table as Open creates it (fillFactor)
//
// WAL-B/user is the WAL the server wrote per user; x-baseline the speed
// as a ratio of the baseline's run just before.
//
//	go test ./diff/pgstore -run '^$' -bench BenchmarkFirstSyncWrites -benchtime 3x
func BenchmarkFirstSyncWrites(b *testing.B) {
	const users, intents, acks = 262_144, 8192, 4096
	var base float64
	for _, method := range []string{"baseline", "absent-ff100", "absent"} {
		b.Run(method, func(b *testing.B) {
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				s := newTestStore(b)
				if method != "absent" { // the tables before fillFactor
					pgtest.Exec(b, "ALTER TABLE "+s.table+" SET (fillfactor=100)")
				}
				lsn0 := walLSN(b)
				b.StartTimer()
				count := []byte{0, 'k'}
				batches := 0
				for start := 0; start < users; start += intents {
					ops := make([]diff.Op, 0, intents+1)
					for i := start; i < start+intents; i++ {
						ops = append(ops, diff.Op{Key: benchKey(i), Value: make([]byte, 182), Absent: strings.HasPrefix(method, "absent")})
					}
					ops = append(ops, diff.Op{Key: count, Value: []byte{1}})
					if err := s.Apply(ctx, ops, true); err != nil {
						b.Fatal(err)
					}
					for a := start; a < start+intents; a += acks {
						ops = ops[:0]
						for i := a; i < a+acks; i++ {
							v := make([]byte, 182)
							v[0] = 1
							ops = append(ops, diff.Op{Key: benchKey(i), Value: v})
						}
						ops = append(ops, diff.Op{Key: count, Value: []byte{2}})
						batches++
						if err := s.Apply(ctx, ops, batches%16 == 0); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(walLSN(b)-lsn0)/users, "WAL-B/user")
				b.StartTimer()
			}
			us := float64(b.N*users) / b.Elapsed().Seconds()
			b.ReportMetric(us, "users/s")
			if method == "baseline" {
				base = us
			} else if base > 0 {
				b.ReportMetric(us/base, "x-baseline")
			}
		})
	}
}

// benchKey is a user key of the engine's shape: prefix, scope id, and 17
// bytes of the user's key, in hash order.
func benchKey(i int) []byte {
	k := make([]byte, 5, 22)
	k[0], k[4] = 3, 1
	h := uint64(i) * 0x9e3779b97f4a7c15
	return append(k, fmt.Sprintf("u%016x", h)...)
}

func walLSN(t testing.TB) int64 {
	conn, err := pgx.Connect(context.Background(), pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
