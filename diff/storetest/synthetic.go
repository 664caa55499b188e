package storetest

import (
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/ampbraze/ampbraze/diff"
)

// SyntheticUsers yields n users with 20 attributes of mixed types (strings,
// integers, floats, booleans, decimals, times; keys in hash order, so
// lookups are random): the input of the stores' sync benchmarks, so that
// every store is measured on the same records. With version > 0, one user
// in ten has 1-3 attributes changed. Like amperity.ReuseRecords, it reuses
// one Attrs slice (a plan copies it).
func SyntheticUsers(n, version int) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		attrs := make([]diff.Attr, 20)
		for i := range n {
			h := mix64(uint64(i))
			changed := 0
			if version > 0 && h%10 == 0 {
				changed = 1 + int(h>>8%3)
			}
			for j := range 20 {
				v := uint64(i)*31 + uint64(j)
				if j < changed {
					v += uint64(version) * 1_000_003
				}
				var val diff.Value
				switch j % 6 {
				case 0:
					val = diff.StringValue("value-" + strconv.FormatUint(v, 36))
				case 1:
					val = diff.IntValue(int64(v % 100_000))
				case 2:
					val = diff.FloatValue(float64(v%10_000) / 7)
				case 3:
					val = diff.BoolValue(v%2 == 0)
				case 4:
					val = diff.NumberValue(json.Number(strconv.FormatUint(v%1_000_000, 10) + ".50"))
				case 5:
					val = diff.TimeValue(base.Add(time.Duration(v%1_000_000) * time.Second))
				}
				attrs[j] = diff.Attr{Name: syntheticNames[j], Value: val}
			}
			if !yield(diff.Record{Key: "u" + strconv.FormatUint(h, 16), Attrs: attrs}, nil) {
				return
			}
		}
	}
}

var syntheticNames = func() []string {
	s := make([]string, 20)
	for i := range s {
		s[i] = fmt.Sprintf("attr_%02d", i)
	}
	return s
}()

// mix64 is a 64-bit finaliser (murmur3's), spreading the keys.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
