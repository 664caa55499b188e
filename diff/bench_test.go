package diff_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/pebblestore"
)

// The sync benchmark: synthetic users with 20 attributes, N of them
// (DIFF_BENCH_N, default 200,000), in three scenarios:
//
//	first    first sync into an empty state
//	resync10 re-sync with 10% of the users changed in 1-3 attributes
//	resync0  re-sync with nothing changed
//
// each for the engine on the embedded pebble store (sdk, diff/pebblestore)
// and for the baseline, an in-memory Go map from key to the 20 attribute hashes. Each
// case runs in its own process (the test binary re-executed), so the peak
// resident memory reported (VmHWM) is that case's alone. The baseline
// builds its map before the measured re-sync and resets VmHWM after, so
// its figure is the map plus the re-sync.
//
//	DIFF_BENCH_N=10000000 go test ./diff -run '^$' -bench BenchmarkSync -benchtime 1x -count 1
func BenchmarkSync(b *testing.B) {
	n := 200_000
	if s := os.Getenv("DIFF_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	dir := b.TempDir()
	state := filepath.Join(dir, "state.db")
	for _, sc := range []string{"first", "resync0", "resync10"} {
		for _, impl := range []string{"sdk", "baseline"} {
			b.Run(sc+"/"+impl, func(b *testing.B) {
				var res benchResult
				for range b.N {
					if sc == "first" && impl == "sdk" {
						os.RemoveAll(state)
					}
					target := state
					if sc != "first" && impl == "sdk" {
						// A re-sync commits what it sends: each run starts
						// from a copy of the first sync's state, so the
						// second run of resync10 is not a resync0.
						target = state + ".run"
						if err := os.RemoveAll(target); err != nil {
							b.Fatal(err)
						}
						if err := os.CopyFS(target, os.DirFS(state)); err != nil {
							b.Fatal(err)
						}
					}
					res = runBenchChild(b, impl, sc, n, target)
				}
				b.ReportMetric(float64(n)/res.Seconds, "users/s")
				b.ReportMetric(float64(res.HWMKiB)/1024, "peakRSS-MiB")
				b.ReportMetric(float64(res.Changes), "changes")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

type benchResult struct {
	Seconds float64
	HWMKiB  int64
	Changes int64
}

func runBenchChild(b *testing.B, impl, scenario string, n int, state string) benchResult {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"DIFF_BENCH_CHILD="+impl+","+scenario+","+strconv.Itoa(n)+","+state)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", impl, scenario, err, out)
	}
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "BENCH "); ok {
			var r benchResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				b.Fatal(err)
			}
			return r
		}
	}
	b.Fatalf("no result from child:\n%s", out)
	return benchResult{}
}

// TestBenchChild is the body of one benchmark case; it runs only when
// BenchmarkSync re-executes the test binary.
func TestBenchChild(t *testing.T) {
	spec := os.Getenv("DIFF_BENCH_CHILD")
	if spec == "" {
		t.Skip("not a test: the body of one BenchmarkSync case, run only in the child process the benchmark starts")
	}
	parts := strings.Split(spec, ",")
	impl, scenario, state := parts[0], parts[1], parts[3]
	n, _ := strconv.Atoi(parts[2])
	version := 0
	switch scenario {
	case "resync10":
		version = 1
	}
	var res benchResult
	var err error
	switch impl {
	case "sdk":
		res, err = benchSDK(state, n, version)
	case "baseline":
		res, err = benchBaseline(n, scenario != "first", version)
	}
	if err != nil {
		t.Fatal(err)
	}
	res.HWMKiB = vmHWM()
	j, _ := json.Marshal(res)
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "BENCH %s\n", j)
	w.Flush()
}

// syntheticUsers yields n users with 20 attributes of mixed types. With
// version > 0, one user in ten has 1-3 attributes changed. Like
// amperity.ReuseRecords, it reuses one Attrs slice (a plan copies it).
func syntheticUsers(n, version int) iter.Seq2[diff.Record, error] {
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
					val = diff.String("value-" + strconv.FormatUint(v, 36))
				case 1:
					val = diff.Int(int64(v % 100_000))
				case 2:
					val = diff.Float(float64(v%10_000) / 7)
				case 3:
					val = diff.Bool(v%2 == 0)
				case 4:
					val = diff.Number(json.Number(strconv.FormatUint(v%1_000_000, 10) + ".50"))
				case 5:
					val = diff.Time(base.Add(time.Duration(v%1_000_000) * time.Second))
				}
				attrs[j] = diff.Attr{Name: benchAttrNames[j], Value: val}
			}
			if !yield(diff.Record{Key: "u" + strconv.FormatUint(h, 16), Attrs: attrs}, nil) {
				return
			}
		}
	}
}

var benchAttrNames = func() []string {
	s := make([]string, 20)
	for i := range s {
		s[i] = fmt.Sprintf("attr_%02d", i)
	}
	return s
}()

func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func benchSDK(state string, n, version int) (benchResult, error) {
	ctx := context.Background()
	var opts []diff.Option
	var storeOpts []pebblestore.Option
	if mb, _ := strconv.Atoi(os.Getenv("DIFF_BENCH_CACHE_MB")); mb > 0 {
		storeOpts = append(storeOpts, pebblestore.WithCacheSize(int64(mb)<<20))
	}
	if os.Getenv("DIFF_BENCH_LOG") != "" {
		// Debug log on stderr: shows, among others, how long loading the
		// state fingerprints took.
		l := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts = append(opts, diff.WithLogger(l))
		storeOpts = append(storeOpts, pebblestore.WithLogger(l))
	}
	start := time.Now()
	e, err := pebblestore.OpenEngine(ctx, state, storeOpts, opts...)
	if err != nil {
		return benchResult{}, err
	}
	p, err := e.Plan(ctx, "bench", syntheticUsers(n, version), diff.WithMode(diff.FullSnapshot))
	if err != nil {
		return benchResult{}, err
	}
	var changes int64
	for ch, err := range p.Changes() {
		if err != nil {
			return benchResult{}, err
		}
		changes++
		if err := p.Ack(ch, nil); err != nil {
			return benchResult{}, err
		}
	}
	if err := p.Commit(ctx); err != nil {
		return benchResult{}, err
	}
	if err := e.Close(); err != nil {
		return benchResult{}, err
	}
	return benchResult{Seconds: time.Since(start).Seconds(), Changes: changes}, nil
}

// benchBaseline is the in-memory reference: a map from key to the hashes
// of the 20 attributes, compared and updated in place.
func benchBaseline(n int, resync bool, version int) (benchResult, error) {
	state := make(map[string][]uint64)
	var enc diff.BenchHasher
	syncOnce := func(version int) (int64, error) {
		var changes int64
		for r, err := range syntheticUsers(n, version) {
			if err != nil {
				return 0, err
			}
			hs, ok := state[r.Key]
			if !ok {
				hs = make([]uint64, len(r.Attrs))
				state[r.Key] = hs
			}
			var out []diff.Attr
			for j, a := range r.Attrs {
				h, err := enc.Hash(a.Value)
				if err != nil {
					return 0, err
				}
				if !ok || hs[j] != h {
					out = append(out, a)
					hs[j] = h
				}
			}
			if len(out) > 0 {
				changes++
			}
		}
		return changes, nil
	}
	if resync {
		if _, err := syncOnce(0); err != nil {
			return benchResult{}, err
		}
		resetHWM()
	}
	start := time.Now()
	changes, err := syncOnce(version)
	return benchResult{Seconds: time.Since(start).Seconds(), Changes: changes}, err
}

func vmHWM() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return -1
}

// resetHWM resets VmHWM to the current RSS (Linux 4.0+).
func resetHWM() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
