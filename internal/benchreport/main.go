// Command benchreport runs every package's benchmarks with their baselines
// and prints a table of SDK-versus-baseline ratios from the medians.
//
// Each benchmark that has a baseline names it as a sub-benchmark whose name
// starts with "baseline" (BenchmarkTrackAll/sdk beside
// BenchmarkTrackAll/baseline). The ratio compares the medians of the first
// rate metric both report (objects/s, rows/s, events/s, users/s, req/s),
// else of ns/op: above 1 the SDK is faster than its baseline, below 1 slower.
//
// Usage, from the repository root:
//
//	go run ./internal/benchreport              # all packages, -count 6
//	go run ./internal/benchreport -count 10 -pkg ./braze
//
// The raw `go test -bench` output is written to .bench/raw.txt and
// benchstat's summary of it to .bench/benchstat.txt, so the table can be
// checked and compared with an earlier run.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchstatVersion pins the benchstat used for the statistical summary.
const benchstatVersion = "golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

func main() {
	count := flag.Int("count", 6, "runs of each benchmark (medians are taken over them)")
	pkgs := flag.String("pkg", "./...", "packages to benchmark (space-separated)")
	bench := flag.String("bench", ".", "benchmark name pattern")
	benchtime := flag.String("benchtime", "", "passed to go test -benchtime when set")
	out := flag.String("out", ".bench", "directory for raw output and the benchstat summary")
	noStat := flag.Bool("nobenchstat", false, "skip the benchstat summary")
	flag.Parse()

	if err := run(*count, strings.Fields(*pkgs), *bench, *benchtime, *out, !*noStat, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(count int, pkgs []string, bench, benchtime, outDir string, withBenchstat bool, w io.Writer) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	args := []string{"test", "-run", "^$", "-bench", bench, "-benchmem", "-count", fmt.Sprint(count)}
	if benchtime != "" {
		args = append(args, "-benchtime", benchtime)
	}
	args = append(args, pkgs...)
	var raw bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Stdout = io.MultiWriter(&raw, os.Stderr)
	cmd.Stderr = os.Stderr
	fmt.Fprintf(os.Stderr, "$ go %s\n", strings.Join(args, " "))
	runErr := cmd.Run()
	rawPath := filepath.Join(outDir, "raw.txt")
	if err := os.WriteFile(rawPath, raw.Bytes(), 0o644); err != nil {
		return err
	}
	results := parse(&raw)
	fmt.Fprintf(w, "Command: go %s\n\n", strings.Join(args, " "))
	writeTable(w, results)
	if withBenchstat {
		st := exec.Command("go", "run", benchstatVersion, rawPath)
		var sb bytes.Buffer
		st.Stdout, st.Stderr = &sb, os.Stderr
		if err := st.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport: benchstat:", err)
		} else if err := os.WriteFile(filepath.Join(outDir, "benchstat.txt"), sb.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("go test: %w (the table covers what ran)", runErr)
	}
	return nil
}
