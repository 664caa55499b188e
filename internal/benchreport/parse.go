package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// result holds every sample of every metric of one benchmark variant.
type result struct {
	pkg     string
	name    string // without the -GOMAXPROCS suffix
	metrics map[string][]float64
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads `go test -bench` output. Benchmark lines look like
//
//	BenchmarkX/sdk-2   10   123 ns/op   45 B/op   6 allocs/op   7.5 objects/s
func parse(r io.Reader) []*result {
	byName := map[string]*result{}
	var order []*result
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		key := pkg + " " + name
		res := byName[key]
		if res == nil {
			res = &result{pkg: pkg, name: name, metrics: map[string][]float64{}}
			byName[key] = res
			order = append(order, res)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res.metrics[f[i+1]] = append(res.metrics[f[i+1]], v)
		}
	}
	return order
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// parent and leaf split "BenchmarkX/a/sdk" into "BenchmarkX/a" and "sdk".
func split(name string) (parent, leaf string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i+1:]
}

func isBaseline(leaf string) bool { return strings.HasPrefix(strings.ToLower(leaf), "baseline") }

// throughput picks the metric a variant and its baseline are compared on:
// the first rate metric both report (a unit ending in "/s", such as
// objects/s or rows/s; higher is better), else ns/op (lower is better).
func throughput(r, b *result) (unit string, higherBetter bool) {
	var units []string
	for k := range r.metrics {
		if strings.HasSuffix(k, "/s") && !strings.HasPrefix(k, "cpu") {
			if _, ok := b.metrics[k]; ok {
				units = append(units, k)
			}
		}
	}
	if len(units) > 0 {
		sort.Strings(units)
		return units[0], true
	}
	return "ns/op", false
}

// ratio is the variant's speed relative to the baseline's (above 1: the
// variant is faster), from the medians of the chosen metric.
func ratio(r, b *result) (unit string, v, bv float64, x float64) {
	unit, higher := throughput(r, b)
	v, bv = median(r.metrics[unit]), median(b.metrics[unit])
	switch {
	case v <= 0 || bv <= 0:
		return unit, v, bv, 0
	case higher:
		return unit, v, bv, v / bv
	default:
		return unit, v, bv, bv / v
	}
}

// writeTable prints, for every benchmark with a baseline sibling, the
// median of each variant and its ratio to each baseline, followed by the
// medians of the other metrics.
func writeTable(w io.Writer, results []*result) {
	groups := map[string][]*result{}
	var parents []string
	for _, r := range results {
		p, _ := split(r.name)
		k := r.pkg + " " + p
		if _, ok := groups[k]; !ok {
			parents = append(parents, k)
		}
		groups[k] = append(groups[k], r)
	}
	fmt.Fprintln(w, "| package | benchmark | variant | baseline | metric | variant median | baseline median | speed ratio | other medians (variant) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, k := range parents {
		var bases, others []*result
		for _, r := range groups[k] {
			if _, leaf := split(r.name); isBaseline(leaf) {
				bases = append(bases, r)
			} else {
				others = append(others, r)
			}
		}
		for _, r := range others {
			parent, leaf := split(r.name)
			if len(bases) == 0 {
				fmt.Fprintf(w, "| %s | %s | %s | (none) | ns/op | %s | | | %s |\n", short(r.pkg), parent, leaf, num(median(r.metrics["ns/op"])), extras(r))
				continue
			}
			for _, b := range bases {
				_, bleaf := split(b.name)
				unit, v, bv, x := ratio(r, b)
				rs := "n/a"
				if x > 0 {
					rs = fmt.Sprintf("%.2fx", x)
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", short(r.pkg), parent, leaf, bleaf, unit, num(v), num(bv), rs, extras(r))
			}
		}
	}
}

func extras(r *result) string {
	var keys []string
	for k := range r.metrics {
		if k != "ns/op" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, num(median(r.metrics[k]))+" "+k)
	}
	return strings.Join(parts, ", ")
}

func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func short(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/ampbraze/ampbraze/")
}
