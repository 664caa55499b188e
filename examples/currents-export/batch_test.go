package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
)

// writeCorpus writes files Currents files under dir/currents, alternating
// two event types, each with perFile events of unique ids; it returns the
// ids by type.
func writeCorpus(t testing.TB, dir string, files, perFile int) map[string][]string {
	t.Helper()
	types := []string{"users.messages.email.Send", "users.messages.email.Open"}
	hour := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	all := map[string][]string{}
	for i := range files {
		typ := types[i%2]
		var recs []map[string]any
		for j := range perFile {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j)
			all[typ] = append(all[typ], id)
			recs = append(recs, map[string]any{
				"id": id, "user_id": "u", "external_user_id": "e", "email_address": "a@example.com",
				"time": hour.Unix() + int64(j%3600), "campaign_id": "c", "message_variation_id": "v",
			})
		}
		var b bytes.Buffer
		if err := currentstest.WriteFile(&b, typ, recs); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(currentsdemo.Key("currents", typ, hour.Add(time.Duration(i/24)*time.Hour), i)))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, ids := range all {
		slices.Sort(ids)
	}
	return all
}

// testConfig is the configuration run would build for in and out.
func testConfig(t testing.TB, in, out string, extra ...string) *config {
	t.Helper()
	c, err := parseFlags(append([]string{"-input", in, "-out", out}, extra...), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Output parts are synced once, when they are closed at a commit, and not
// after every input file: 40 input files of two types give 2 part files and
// 2 syncs in one batch (the old program synced every open part after every
// file: 40 or more).
func TestRegression_Issue16_OneSyncPerOutputFile(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	want := writeCorpus(t, in, 40, 5)
	c := testConfig(t, in, out)
	var syncs atomic.Int64
	c.syncFile = func(f *os.File) error { syncs.Add(1); return f.Sync() }
	rep, err := export(context.Background(), c, quiet(), newProgress(&bytes.Buffer{}, quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.files != 40 || rep.written != 200 {
		t.Fatalf("files %d, written %d", rep.files, rep.written)
	}
	if n := len(rep.outputs); n != 2 || syncs.Load() != 2 {
		t.Errorf("%d output files, %d syncs; want 2 and 2", n, syncs.Load())
	}
	for typ, wantIDs := range want {
		if got := ids(t, out, typ); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: %d ids, want %d", typ, len(got), len(wantIDs))
		}
	}
}

// With small batches, each commit closes its parts (one sync each) and
// saves the checkpoint: every part file is synced exactly once, and the
// checkpoint and the deduplicator's ids are saved at each commit, so that a
// later run sees the committed files as done.
func TestRegression_Issue16_BatchCommits(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	want := writeCorpus(t, in, 20, 5)
	c := testConfig(t, in, out, "-commit-events", "20") // a commit every 4 files
	synced := map[string]int{}
	c.syncFile = func(f *os.File) error { synced[f.Name()]++; return f.Sync() }
	rep, err := export(context.Background(), c, quiet(), newProgress(&bytes.Buffer{}, quiet()))
	if err != nil {
		t.Fatal(err)
	}
	// Files come in key order, the ten opens first: 5 batches of 4 files,
	// [O O O O] [O O O O] [O O S S] [S S S S] [S S S S], so 3 parts of each
	// type.
	if len(rep.outputs) != 6 || len(synced) != 6 {
		t.Errorf("%d parts, %d synced: %v", len(rep.outputs), len(synced), synced)
	}
	for name, n := range synced {
		if n != 1 {
			t.Errorf("%s synced %d times", name, n)
		}
	}
	for typ, wantIDs := range want {
		if got := ids(t, out, typ); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: %d ids, want %d", typ, len(got), len(wantIDs))
		}
	}
	if code, stdout, _ := runExport(t, "-input", in, "-out", out); code != exitOK || !strings.Contains(stdout, "Read 0 files") {
		t.Errorf("rerun: exit %d\n%s", code, stdout)
	}
}

// A batch that cannot be made durable is not committed: its parts are
// removed and its files are not checkpointed, so the next run exports them
// again, and every event ends up exported exactly once (the committed
// batches are not re-exported, the failed one is not exported twice).
func TestRegression_Issue16_FailedCommitReexportsOnlyThatBatch(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	want := writeCorpus(t, in, 20, 5)
	c := testConfig(t, in, out, "-commit-events", "20")
	var n int
	errDisk := errors.New("disk full")
	c.syncFile = func(f *os.File) error {
		// Batches (files in key order, opens first): [O O O O] [O O O O]
		// [O O S S] ...; the fourth sync is the third batch's second part.
		if n++; n == 4 {
			return errDisk
		}
		return f.Sync()
	}
	rep, err := export(context.Background(), c, quiet(), newProgress(&bytes.Buffer{}, quiet()))
	if !errors.Is(err, errDisk) {
		t.Fatalf("err %v, want the sync failure", err)
	}
	if len(rep.outputs) != 2 {
		t.Errorf("after the failure, %d parts kept, want the 2 of the 2 committed batches: %v", len(rep.outputs), rep.outputs)
	}
	code, stdout, stderr := runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(stdout, "Read 12 files") || !strings.Contains(stdout, "0 duplicates dropped") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for typ, wantIDs := range want {
		if got := ids(t, out, typ); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: %d ids, want each of the %d once", typ, len(got), len(wantIDs))
		}
	}
}

// cancelAfter is a slog handler that cancels a context when it has seen n
// "file done" records.
type cancelAfter struct {
	slog.Handler
	n      int
	cancel context.CancelFunc
}

func (h *cancelAfter) Enabled(context.Context, slog.Level) bool { return true }

func (h *cancelAfter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "file done" {
		if h.n--; h.n == 0 {
			h.cancel()
		}
	}
	return nil
}

// Ctrl-C (a cancelled context) ends the run with "interrupted" and the
// counts, commits the files done, and is not reported as a fatal listing
// error.
func TestRegression_Issue16_Interrupted(t *testing.T) {
	// Cancelled before anything was listed.
	in, out := t.TempDir(), t.TempDir()
	want := writeCorpus(t, in, 10, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-input", in, "-out", out}, &stdout, &stderr)
	if code != exitFatal || !strings.Contains(stderr.String(), "interrupted") || strings.Contains(stderr.String(), "fatal") ||
		!strings.Contains(stdout.String(), "Read 0 files") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}

	// Cancelled after the fourth file: those four are committed, and the
	// next run exports the other six, every event once.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(&cancelAfter{Handler: slog.DiscardHandler, n: 4, cancel: cancel})
	rep, err := export(ctx, testConfig(t, in, out), log, newProgress(&bytes.Buffer{}, log))
	if err != nil || !rep.interrupted || rep.files != 4 {
		t.Fatalf("err %v, interrupted %v, files %d", err, rep.interrupted, rep.files)
	}
	var buf bytes.Buffer
	rep.print(&buf)
	if !strings.Contains(buf.String(), "Interrupted") || !strings.Contains(buf.String(), "Read 4 files") {
		t.Errorf("report:\n%s", &buf)
	}
	code, so, se := runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(so, "Read 6 files") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, so, se)
	}
	for typ, wantIDs := range want {
		if got := ids(t, out, typ); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: %d ids, want each of the %d once", typ, len(got), len(wantIDs))
		}
	}
}
