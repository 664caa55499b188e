package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// BenchmarkStoreApply measures one batch of 64 acknowledgements written to
// the store, without and with
// sync: the write path's own cost (the lock-file check, the commit
// generation and the sentinel file of a durable batch).
func BenchmarkStoreApply(b *testing.B) {
	ctx := context.Background()
	for _, durable := range []bool{false, true} {
		b.Run(fmt.Sprintf("durable=%v", durable), func(b *testing.B) {
			s, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ops := make([]diff.Op, 64)
			for i := range ops {
				ops[i] = diff.Op{Key: make([]byte, 13), Value: make([]byte, 40)}
				ops[i].Key[0] = keyUser
			}
			b.ResetTimer()
			for n := range b.N {
				for i := range ops {
					binary.BigEndian.PutUint64(ops[i].Key[5:], uint64(n*64+i))
				}
				if err := s.Apply(ctx, ops, durable); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
