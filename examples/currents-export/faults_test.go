package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/examples/internal/proctest"
	"github.com/ampbraze/ampbraze/objstore"
)

// A run killed with SIGKILL, or stopped with SIGTERM, leaves nothing in
// the output folder but whole parts of committed batches: no line cut in
// the middle, and none of the events that the next run exports again.
// Twelve runs are stopped in turn, each resuming the last: some at a
// random moment, some just after a commit, some in the middle of writing
// a batch. A final run completes, and the output holds every event exactly
// once, with nothing left in the staging folder.
func TestRegression_Issue16_KilledRunsLeaveNoPartialOutput(t *testing.T) {
	bin := exportProgram.Path(t) // skips with -short, saying why
	in := t.TempDir()
	want := writeCorpus(t, in, 200, 500)
	for i, format := range []string{"ndjson", "csv"} {
		t.Run(format, func(t *testing.T) { killRuns(t, bin, in, format, want, uint64(i)) })
	}
}

// killRuns is TestRegression_Issue16_KilledRunsLeaveNoPartialOutput for
// one output format.
func killRuns(t *testing.T, bin, in, format string, want map[string][]string, seed uint64) {
	out := t.TempDir()
	args := []string{"-input", in, "-out", out, "-commit-events", "5000", "-format", format}
	rng := rand.New(rand.NewPCG(16, seed))
	// partBytes is the size of every part file under out, staged or not.
	partBytes := func() int64 {
		var n int64
		filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "part-") {
				if info, err := d.Info(); err == nil {
					n += info.Size()
				}
			}
			return nil
		})
		return n
	}
	for round := range 12 {
		before := len(doneFiles(t, out))
		p := proctest.Start(t, exec.Command(bin, args...))
		deadline := time.Now().Add(30 * time.Second)
		var when string
		switch round % 4 {
		case 0: // at a random moment
			when = "at random"
			time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		case 1: // just after a commit
			when = "after a commit"
			for len(doneFiles(t, out)) == before && !p.Exited() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		default: // while a batch is being written: after 0.1 to 2 MB more
			when = "while writing a batch"
			target := partBytes() + 100_000 + rng.Int64N(2_000_000)
			for partBytes() < target && !p.Exited() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
		if round%3 == 2 {
			p.Cmd.Process.Signal(syscall.SIGTERM)
			p.Wait(t, time.Minute)
		} else {
			p.Kill(t)
		}
		t.Logf("round %d: stopped %s (SIGTERM: %v), %d files done before, %d after", round, when, round%3 == 2, before, len(doneFiles(t, out)))
		// Whatever is in the output folder parses, holds no event twice,
		// and holds only events of files the checkpoint marks done: the
		// next run reads the others again.
		done := doneFiles(t, out)
		for typ := range want {
			seen := map[string]bool{}
			for _, id := range ids(t, out, typ) {
				if seen[id] {
					t.Fatalf("round %d: %s written twice: %v", round, id, partsHolding(t, filepath.Join(out, typ), id))
				}
				seen[id] = true
				if file, err := strconv.ParseInt(id[:8], 16, 64); err != nil || !done[int(file)] {
					t.Fatalf("round %d: %s, of file %d, is in the output, but the checkpoint does not mark the file done: %v",
						round, id, file, partsHolding(t, filepath.Join(out, typ), id))
				}
			}
		}
	}
	p := proctest.Start(t, exec.Command(bin, args...))
	if code := p.Wait(t, 2*time.Minute); code != exitOK {
		t.Fatalf("final run: exit %d\n%s\n%s", code, &p.Out, &p.Err)
	}
	checkExactlyOnce(t, out, want)
	if left, _ := os.ReadDir(filepath.Join(out, stagingDir)); len(left) != 0 {
		t.Errorf("staging folder holds %d entries after a complete run", len(left))
	}
}

// The output folder on a full filesystem (a 6 MiB tmpfs): the run fails
// naming the full disk, and what it leaves in the output folder is whole
// parts of committed batches only. Once the filesystem has room, the next
// run exports the rest, every event exactly once.
func TestRegression_Issue16_FullDiskThenRerun(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "tiny")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mounting a tmpfs (CI runs as root): %v %s", err, msg)
		}
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, msg)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	in, out := t.TempDir(), filepath.Join(mnt, "out")
	want := writeCorpus(t, in, 60, 500) // about 17 MB of NDJSON
	code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-commit-events", "2500")
	if code != exitFatal || !strings.Contains(stderr, "no space left") {
		t.Fatalf("exit %d, want %d and the full disk named\n%s\n%s", code, exitFatal, stdout, stderr)
	}
	t.Logf("first run: %s", strings.TrimSpace(stderr))
	done := doneFiles(t, out)
	if len(done) == 0 || len(done) == 60 {
		t.Fatalf("%d files done before the disk filled; want some", len(done))
	}
	for typ := range want {
		for _, id := range ids(t, out, typ) { // whole lines only
			if file, _ := strconv.ParseInt(id[:8], 16, 64); !done[int(file)] {
				t.Fatalf("%s, of file %d not marked done, is in the output", id, file)
			}
		}
	}
	if msg, err := exec.Command("mount", "-o", "remount,size=64m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v %s", err, msg)
	}
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-commit-events", "2500"); code != exitOK {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, out, want)
}

// A commit that fails after the checkpoint's save (here the
// deduplicator's ids cannot be saved) leaves its batch staged: the run
// fails, and the next run moves the batch into the output folder rather
// than losing it (its files are done) or writing it twice, and saves the
// batch's ids, so that a redelivery of its events is still caught.
func TestRegression_Issue16_FailureAfterCommitPointKeepsBatch(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	want := writeCorpus(t, in, 12, 5)
	c := testConfig(t, in, out, "-commit-events", "20")
	errSave := errors.New("ids not saved")
	saves := 0
	c.saveIDs = func(d *currents.Deduper, path string) error {
		if saves++; saves == 2 {
			return errSave
		}
		return d.SaveFile(path)
	}
	rep, err := export(context.Background(), c, quiet(), newProgress(&bytes.Buffer{}, quiet()))
	if !errors.Is(err, errSave) {
		t.Fatalf("err %v, want the failed save", err)
	}
	// Files are read in key order, the Open files first: the first batch
	// is 4 Open files (one part), the second 2 Open and 2 Send (two).
	if len(doneFiles(t, out)) != 8 || len(rep.outputs) != 1 {
		t.Fatalf("%d files done, %d parts published; want 8 (two batches) and 1 (the first batch's)", len(doneFiles(t, out)), len(rep.outputs))
	}
	staged, _ := filepath.Glob(filepath.Join(out, stagingDir, "run-*", "*", "part-*"))
	if len(staged) != 2 {
		t.Fatalf("staged parts %v, want the second batch's 2", staged)
	}
	code, stdout, stderr := runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(stdout, "Read 4 files") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, out, want)

	// The ids of the batch whose save failed were kept with it and saved
	// by the rerun's sweep: Currents delivering two of its files again
	// (an Open and a Send) adds nothing.
	for _, n := range []int{9, 0} {
		name := fmt.Sprintf("+0+%010d.avro", n)
		var orig string
		filepath.WalkDir(in, func(path string, _ fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, name) {
				orig = path
			}
			return err
		})
		b, err := os.ReadFile(orig)
		if err != nil {
			t.Fatalf("corpus file %d: %v", n, err)
		}
		again := strings.TrimSuffix(orig, name) + fmt.Sprintf("+0+%010d.avro", 100+n)
		if err := os.WriteFile(again, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr = runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(stdout, "Read 2 files") {
		t.Fatalf("run after the redelivery: exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, out, want)
}

// A second run on the same checkpoint, or into the same output folder
// with a checkpoint of its own, stops at once, naming the lock, rather
// than exporting beside the first (and sweeping its staged batches away).
func TestExportSecondRunRefused(t *testing.T) {
	in := t.TempDir()
	writeCorpus(t, in, 2, 3)
	for _, tc := range []struct{ lock, what string }{
		{".currents-checkpoint.lock", "checkpoint"},
		{stagingDir + ".lock", "output folder"},
	} {
		out := t.TempDir()
		unlock, err := lockRun(filepath.Join(out, tc.lock), tc.what)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"-input", in, "-out", out}
		if tc.what == "output folder" {
			args = append(args, "-checkpoint", filepath.Join(t.TempDir(), "own-checkpoint"))
		}
		code, stdout, stderr := runExport(t, args...)
		unlock()
		if code != exitFatal || !strings.Contains(stderr, "another currents-export run is using this "+tc.what) {
			t.Fatalf("%s locked: exit %d\n%s\n%s", tc.what, code, stdout, stderr)
		}
		if parts, _ := filepath.Glob(filepath.Join(out, "*", "part-*")); len(parts) > 0 {
			t.Errorf("%s locked: the refused run wrote %v", tc.what, parts)
		}
	}
}

// The sweep at a run's start moves the parts of a batch that the
// checkpoint marks committed into the output folder, after it has saved
// the deduplicator's ids kept with the batch; removes a batch it does not
// mark, ids and all; leaves workers' batches to their workers; and forgets
// the markers once there are more than maxMarkers.
func TestSweepRuns(t *testing.T) {
	out := t.TempDir()
	stage := func(batch, typ, name, body string) {
		path := filepath.Join(out, stagingDir, batch, typ, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, uncommitted, worker := "run-20261203T000000Z-00000000-000001", "run-20261203T000000Z-00000000-000002", "w1_abc-000001"
	stage(committed, typSend, "part-20261203T000000Z.ndjson", "committed\n")
	stage(uncommitted, typSend, "part-20261203T000000Z-2.ndjson", "uncommitted\n")
	stage(worker, typSend, "part-20261203T000000Z.ndjson", "worker\n")
	stageIDs := func(batch string, ids ...string) {
		d := currents.NewDeduper(time.Hour)
		for _, id := range ids {
			d.Seen(typSend, id, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
		}
		var b bytes.Buffer
		d.WriteUnsaved(&b)
		stage(batch, "", stagedIDs, b.String())
	}
	stageIDs(committed, "id-committed")
	stageIDs(uncommitted, "id-uncommitted")
	damaged := "run-20261203T000000Z-00000000-000003"
	stage(damaged, typSend, "part-20261203T000000Z.ndjson", "damaged ids\n")
	stage(damaged, "", stagedIDs, "ampbraze-dedupe\x01\x01\x01") // cut short
	// A part of an earlier run has the committed part's name already.
	if err := os.MkdirAll(filepath.Join(out, typSend), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, typSend, "part-20261203T000000Z.ndjson"), []byte("earlier\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cpPath := filepath.Join(out, ".currents-checkpoint")
	cp, err := objstore.OpenFileCheckpoint(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	cp.MarkDone(context.Background(), batchMarker(committed))
	cp.MarkDone(context.Background(), batchMarker(damaged))
	cp.MarkDone(context.Background(), "currents/some-object.avro")
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}

	dedupePath := cpPath + ".dedupe"
	var logged bytes.Buffer
	published, err := sweepRuns(out, cp, currents.NewDeduper(time.Hour), dedupePath, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	wantPath := filepath.Join(out, typSend, "part-20261203T000000Z-2.ndjson")
	wantDamaged := filepath.Join(out, typSend, "part-20261203T000000Z-3.ndjson")
	if len(published) != 2 || published[0] != wantPath || published[1] != wantDamaged {
		t.Fatalf("published %v, want %s and %s", published, wantPath, wantDamaged)
	}
	if !strings.Contains(logged.String(), "damaged") {
		t.Errorf("no warning about the damaged ids:\n%s", logged.String())
	}
	saved := currents.NewDeduper(time.Hour)
	if err := saved.LoadFile(dedupePath); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	if saved.Stats().Held != 1 || !saved.Seen(typSend, "id-committed", at) {
		t.Errorf("saved ids: %d held, want the committed batch's one", saved.Stats().Held)
	}
	if ids, _ := filepath.Glob(filepath.Join(out, "*", stagedIDs)); len(ids) > 0 || !errors.Is(statErr(filepath.Join(out, stagedIDs)), fs.ErrNotExist) {
		t.Errorf("the batch's ids were published as a part: %v", ids)
	}
	for path, want := range map[string]string{
		wantPath:    "committed\n",
		wantDamaged: "damaged ids\n",
		filepath.Join(out, typSend, "part-20261203T000000Z.ndjson"):                     "earlier\n",
		filepath.Join(out, stagingDir, worker, typSend, "part-20261203T000000Z.ndjson"): "worker\n",
	} {
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", path, b, err, want)
		}
	}
	for _, gone := range []string{committed, uncommitted, damaged} {
		if _, err := os.Stat(filepath.Join(out, stagingDir, gone)); !os.IsNotExist(err) {
			t.Errorf("staging folder %s still there (%v)", gone, err)
		}
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	cpSaved, err := os.ReadFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cpSaved), "some-object") {
		t.Errorf("checkpoint after the sweep:\n%s", cpSaved)
	}

	// Past maxMarkers, a sweep forgets them all.
	for i := range maxMarkers + 1 {
		cp.MarkDone(context.Background(), batchMarker(fmt.Sprintf("run-x-%d", i)))
	}
	if _, err := sweepRuns(out, cp, currents.NewDeduper(time.Hour), dedupePath, quiet()); err != nil {
		t.Fatal(err)
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	if saved, _ := os.ReadFile(cpPath); strings.Contains(string(saved), "committed batch") || !strings.Contains(string(saved), "some-object") {
		t.Errorf("checkpoint after a sweep past %d markers:\n%.300s", maxMarkers, saved)
	}
}

func statErr(path string) error {
	_, err := os.Stat(path)
	return err
}

// doneFiles returns the numbers of the corpus files (writeCorpus) that the
// checkpoint in out marks done.
func doneFiles(t *testing.T, out string) map[int]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, ".currents-checkpoint"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	done := map[int]bool{}
	for _, m := range regexp.MustCompile(`\+0\+(\d+)\.avro`).FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		done[n] = true
	}
	return done
}
