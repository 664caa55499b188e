package pgstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
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
