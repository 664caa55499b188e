package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/internal/cputime"
	"github.com/ampbraze/ampbraze/objstore"
)

// BenchmarkExportVsDecode exports a corpus of 300 synthetic Currents files
// (written by currentstest: 300,000 email Send and Open events) to NDJSON
// with the program's checkpoint, deduplication and batch commits, and, in
// the same iteration, reads the same files with the decode-only loop (a
// Source over the same store, every event decoded and counted) as the
// baseline. It reports both rates, their ratio (export/decode-only, wall
// and CPU, paired within each iteration so a loaded machine affects both
// alike; the wall ratio is the throughput the target is about, the CPU
// ratio what it would be on one core), the syncs per output part file and the commits per run. The
// checkpoint's and the deduplicator's own syncs happen inside package
// currents; count them with strace (see currents/BENCHMARKS.md).
func BenchmarkExportVsDecode(b *testing.B) {
	const files, perFile = 300, 1000
	in := b.TempDir()
	writeCorpus(b, in, files, perFile)
	total := float64(files * perFile)
	ctx := context.Background()

	var decodeWall, exportWall, decodeCPU, exportCPU time.Duration
	var syncs, parts, commits int64
	for i := 0; b.Loop(); i++ {
		// Baseline: the decode-only loop.
		t0, c0 := time.Now(), cputime.Process()
		src := currents.NewSource(objstore.NewFSStore(os.DirFS(in)), "currents/")
		n := 0
		for ke, err := range src.All(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			if ke.Event.EventID() != "" {
				n++
			}
		}
		decodeWall += time.Since(t0)
		decodeCPU += cputime.Process() - c0
		if n != files*perFile {
			b.Fatalf("decoded %d events", n)
		}

		// The export, into a fresh output folder (so its checkpoint is
		// empty).
		out := filepath.Join(b.TempDir(), "out")
		c := testConfig(b, in, out)
		var s atomic.Int64
		c.syncFile = func(f *os.File) error { s.Add(1); return f.Sync() }
		t0, c0 = time.Now(), cputime.Process()
		rep, err := export(ctx, c, quiet(), newProgress(&bytes.Buffer{}, quiet()))
		exportWall += time.Since(t0)
		exportCPU += cputime.Process() - c0
		if err != nil || rep.written != int64(files*perFile) {
			b.Fatalf("export: %v, %d written", err, rep.written)
		}
		syncs += s.Load()
		parts += int64(len(rep.outputs))
		commits += int64(rep.commits)
		// Each iteration's output goes, so that the iterations do not pile
		// up gigabytes of page cache: on this VM, page cache in memory the
		// guest has not used before costs about 8 times as much to write
		// (see currents/BENCHMARKS.md).
		if err := os.RemoveAll(out); err != nil {
			b.Fatal(err)
		}
	}
	iters := float64(b.N)
	b.ReportMetric(total*iters/exportWall.Seconds(), "events/s")
	b.ReportMetric(total*iters/decodeWall.Seconds(), "decode-events/s")
	b.ReportMetric(decodeWall.Seconds()/exportWall.Seconds(), "ratio-wall")
	if exportCPU > 0 {
		b.ReportMetric(decodeCPU.Seconds()/exportCPU.Seconds(), "ratio-cpu")
	}
	b.ReportMetric(float64(syncs)/float64(parts), "syncs/part")
	b.ReportMetric(float64(commits)/iters, "commits/run")
}
