package pgstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/pebblestore"
	"github.com/ampbraze/ampbraze/diff/storetest"
	"github.com/ampbraze/ampbraze/internal/pgtest"
)

// benchNEnv sets the number of users of BenchmarkSyncVsPebble.
const benchNEnv = "PGSTORE_BENCH_N"

// BenchmarkSyncVsPebble syncs N synthetic users (PGSTORE_BENCH_N, default
// 200,000; 20 attributes of mixed types, keys in hash order, the same
// generator as diff's BenchmarkSync) through a diff.Engine on the pebble
// store (the baseline) and on this store, side by side:
//
//	first    first sync into an empty state
//	resync10 re-sync with 10% of the users changed in 1-3 attributes
//
// Each case is timed from opening the store to closing it (Plan in
// FullSnapshot mode, every change acknowledged as accepted, Commit), as
// diff's BenchmarkSync times its sdk cases. The postgres cases report
// their speed as a ratio of the pebble case run just before them
// (x-pebble). peakRSS-MiB is this process's peak resident memory during
// the case (reset before it), so for postgres it leaves out the server.
//
//	PGSTORE_BENCH_N=1000000 go test ./diff/pgstore -run '^$' -bench BenchmarkSyncVsPebble -benchtime 1x -count 1 -timeout 1h
func BenchmarkSyncVsPebble(b *testing.B) {
	n := 200_000
	if s := os.Getenv(benchNEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("%s=%q: want a positive number of users", benchNEnv, s)
		}
		n = v
	}
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "state.db")
	schema := testSchema(b)
	url := needPG(b)
	openers := map[string]func() (diff.Store, error){
		"pebble":   func() (diff.Store, error) { return pebblestore.Open(ctx, dir) },
		"postgres": func() (diff.Store, error) { return Open(ctx, url, WithSchema(schema)) },
	}
	reset := map[string]func(){
		"pebble": func() {
			if err := os.RemoveAll(dir); err != nil {
				b.Fatal(err)
			}
		},
		"postgres": func() { pgtest.Exec(b, "DROP SCHEMA IF EXISTS "+fmt.Sprintf("%q", schema)+" CASCADE") },
	}
	synced := map[string]bool{}
	version := map[string]int{}
	speed := map[string]float64{}
	for _, sc := range []string{"first", "resync10"} {
		for _, st := range []string{"pebble", "postgres"} {
			b.Run(sc+"/"+st, func(b *testing.B) {
				var res syncResult
				for range b.N {
					if sc == "first" {
						reset[st]()
						version[st] = 0
					} else if !synced[st] { // the first case was filtered out
						reset[st]()
						version[st] = 0
						if _, err := benchSync(openers[st], n, 0); err != nil {
							b.Fatal(err)
						}
					}
					if sc == "resync10" {
						version[st]++ // 10% changed from the state the last run left
					}
					var err error
					res, err = benchSync(openers[st], n, version[st])
					if err != nil {
						b.Fatal(err)
					}
					synced[st] = true
				}
				us := float64(n) / res.seconds
				speed[sc+"/"+st] = us
				b.ReportMetric(us, "users/s")
				b.ReportMetric(float64(res.hwmKiB)/1024, "peakRSS-MiB")
				b.ReportMetric(float64(res.changes), "changes")
				if base := speed[sc+"/pebble"]; st == "postgres" && base > 0 {
					b.ReportMetric(us/base, "x-pebble")
				}
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

type syncResult struct {
	seconds float64
	hwmKiB  int64
	changes int64
}

// benchSync opens a store, syncs the users of version through an engine
// on it, and closes it: the work of one run of a program.
func benchSync(open func() (diff.Store, error), n, version int) (syncResult, error) {
	ctx := context.Background()
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux)
	start := time.Now()
	s, err := open()
	if err != nil {
		return syncResult{}, err
	}
	var opts []diff.Option
	if os.Getenv("PGSTORE_BENCH_LOG") != "" {
		// The engine's debug log on stderr: among others, how long loading
		// the state fingerprints (the scan) took.
		opts = append(opts, diff.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	e, err := diff.NewEngine(ctx, s, opts...)
	if err != nil {
		s.Close()
		return syncResult{}, err
	}
	defer e.Close()
	changes, err := storetest.SyncAll(ctx, e, "bench", storetest.SyntheticUsers(n, version), diff.WithMode(diff.FullSnapshot))
	if err != nil {
		return syncResult{}, err
	}
	if err := e.Close(); err != nil {
		return syncResult{}, err
	}
	return syncResult{seconds: time.Since(start).Seconds(), hwmKiB: vmHWM(), changes: changes}, nil
}

// vmHWM returns this process's peak resident memory in KiB (Linux), or -1.
func vmHWM() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return -1
}
