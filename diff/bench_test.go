package diff_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/ampbraze/ampbraze/diff/storetest"
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
	changes, err := storetest.SyncAll(ctx, e, "bench", storetest.SyntheticUsers(n, version), diff.WithMode(diff.FullSnapshot))
	if err != nil {
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
		for r, err := range storetest.SyntheticUsers(n, version) {
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
