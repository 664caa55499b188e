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
	// Without a rate metric the ratio is taken from ns/op.
	if _, _, _, x := ratio(&result{metrics: map[string][]float64{"ns/op": {200}}}, &result{metrics: map[string][]float64{"ns/op": {100}}}); x != 0.5 {
		t.Errorf("ns/op ratio = %v, want 0.5", x)
	}
	var buf bytes.Buffer
	writeTable(&buf, rs)
	out := buf.String()
	for _, want := range []string{
		"| braze | BenchmarkTrackAll | sdk | baseline | objects/s | 72000 | 80000 | 0.90x |",
		"| braze | BenchmarkAlone |  | (none) | ns/op | 50 |",
		"72000 objects/s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
