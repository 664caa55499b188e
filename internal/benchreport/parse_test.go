package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/ampbraze/ampbraze/braze
BenchmarkTrackAll/sdk-2         	       3	 100 ns/op	  75000 objects/s	 10 B/op	       2 allocs/op
BenchmarkTrackAll/sdk-2         	       3	 300 ns/op	  70000 objects/s	 10 B/op	       2 allocs/op
BenchmarkTrackAll/sdk-2         	       3	 200 ns/op	  72000 objects/s	 10 B/op	       2 allocs/op
BenchmarkTrackAll/baseline-2    	       3	 150 ns/op	  80000 objects/s	 20 B/op	       4 allocs/op
BenchmarkTrackAll/baseline-2    	       3	 170 ns/op	  80000 objects/s	 20 B/op	       4 allocs/op
BenchmarkAlone-2    	       3	 50 ns/op
PASS
`

func TestParseAndTable(t *testing.T) {
	rs := parse(strings.NewReader(sample))
	if len(rs) != 3 {
		t.Fatalf("parsed %d results, want 3", len(rs))
	}
	if got := median(rs[0].metrics["ns/op"]); got != 200 {
		t.Errorf("median sdk ns/op = %v, want 200", got)
	}
	if got := median(rs[1].metrics["ns/op"]); got != 160 {
		t.Errorf("median baseline ns/op = %v, want 160", got)
	}
	var buf bytes.Buffer
	writeTable(&buf, rs)
	out := buf.String()
	for _, want := range []string{
		"| braze | BenchmarkTrackAll | sdk | baseline | 200 | 160 | 0.80x |",
		"| braze | BenchmarkAlone |  | (none) | 50 |",
		"72000 objects/s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
