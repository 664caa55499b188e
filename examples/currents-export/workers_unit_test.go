package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/pgdedupe"
	"github.com/ampbraze/ampbraze/examples/internal/input"
	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/ampbraze/ampbraze/objstore/pgclaim"
	"github.com/jackc/pgx/v5"
)

func TestWorkerFlags(t *testing.T) {
	base := []string{"-input", "in", "-out", "out", "-workers-db", "postgres://db/x"}
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"-checkpoint", "cp"}, "-checkpoint and -workers-db"},
		{[]string{"-worker-id", "a_b"}, `-worker-id "a_b"`},
		{[]string{"-worker-lease", "10ms"}, "-worker-lease 10ms"},
		{[]string{"-workers-table", ""}, "must not be empty"},
	} {
		_, err := parseFlags(append(slices.Clone(base), tc.extra...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.extra, err, tc.want)
		}
	}
	c, err := parseFlags(base, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.workers.id == "" || strings.IndexFunc(c.workers.id, func(r rune) bool { return !validIDRune(r) }) >= 0 {
		t.Errorf("default worker id %q", c.workers.id)
	}
}

// newTestWorker opens a worker on in and out in a schema of its own.
func newTestWorker(t *testing.T, schema, in, out, id string, extra ...string) (*worker, *input.Location) {
	t.Helper()
	c := testConfig(t, in, out, append([]string{"-workers-db", pgtest.URL(), "-workers-schema", schema, "-worker-id", id}, extra...)...)
	w, err := newWorker(context.Background(), c, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	w.rep = &report{byType: map[string]int64{}}
	loc, err := input.Open(context.Background(), in, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w, loc
}

// An id another worker commits between this worker's check and its
// commit makes the commit give the batch up: nothing of it is published,
// its objects are released, and the run exports them again without that
// id (the other worker's output holds it).
func TestWorkerGivesUpBatchOnCommittedDuplicate(t *testing.T) {
	schema := pgtest.Schema(t, "cxw_")
	in, out := t.TempDir(), t.TempDir()
	want := writeCorpus(t, in, 4, 5)
	w, loc := newTestWorker(t, schema, in, out, "a")
	ctx := context.Background()
	prog := newProgress(&bytes.Buffer{}, quiet())
	src := currents.NewSource(loc.Store, loc.Prefix, append(sourceFilters(w.c), currents.WithCheckpoint(claimOnly{w}))...)
	if err := w.pass(ctx, src, prog); err != nil {
		t.Fatal(err)
	}
	if w.b == nil || len(w.b.keys) != 4 {
		t.Fatalf("open batch %+v, want the 4 files uncommitted", w.b)
	}
	keys, dir := w.b.keys, w.b.dir
	send := "users.messages.email.Send"
	dup := want[send][2]
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		_, err := w.ids.Record(ctx, tx, []pgdedupe.ID{{EventType: send, ID: dup, Hour: time.Now()}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.commit(ctx); err != nil {
		t.Fatal(err)
	}
	if w.givenUp != 1 || w.commits != 0 {
		t.Fatalf("given up %d, commits %d; want 1 and 0", w.givenUp, w.commits)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("staging folder of the given-up batch: %v", err)
	}
	if parts, _ := filepath.Glob(filepath.Join(out, "*", "part-*")); len(parts) != 0 {
		t.Errorf("published %v", parts)
	}
	st, err := w.claims.Status(ctx, keys...)
	if err != nil || len(st.Claimable) != 4 {
		t.Fatalf("status %+v, %v; want the 4 files released", st, err)
	}
	if err := w.run(ctx, loc.Store, loc.Prefix, prog); err != nil {
		t.Fatal(err)
	}
	wantSend := slices.DeleteFunc(slices.Clone(want[send]), func(id string) bool { return id == dup })
	if got := ids(t, out, send); !slices.Equal(got, wantSend) {
		t.Errorf("sends %v, want %v", got, wantSend)
	}
	open := "users.messages.email.Open"
	if got := ids(t, out, open); !slices.Equal(got, want[open]) {
		t.Errorf("opens %v, want %v", got, want[open])
	}
	if w.commits != 1 || w.rep.files != 4 || w.rep.duplicates != 1 {
		t.Errorf("commits %d, files %d, duplicates %d; want 1, 4, 1", w.commits, w.rep.files, w.rep.duplicates)
	}
}

// The sweep publishes a batch whose worker committed it and stopped before
// publishing; removes an uncommitted one whose worker holds no claim; and
// leaves alone the batches of a worker holding claims, and its own.
func TestWorkerSweep(t *testing.T) {
	schema := pgtest.Schema(t, "cxw_")
	out := t.TempDir()
	w, _ := newTestWorker(t, schema, t.TempDir(), out, "me")
	ctx := context.Background()
	other := func(owner string) *pgclaim.Claims {
		c, err := pgclaim.New(ctx, w.pool, pgclaim.WithSchema(schema), pgclaim.WithTable("currents_export_objects"),
			pgclaim.WithOwner(owner), pgclaim.WithRenewInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	const typ = "users.messages.email.Send"
	stage := func(batch string) string {
		path := filepath.Join(out, stagingDir, batch, typ, "part-20261203T000000Z.ndjson")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(`{"id":"`+batch+`"}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(out, stagingDir, batch)
	}
	dead := other("dead")
	dead.Claim(ctx, "k1")
	if err := dead.Commit(ctx, "dead_r1-000001", []string{"k1"}, nil); err != nil {
		t.Fatal(err)
	}
	committed := stage("dead_r1-000001")
	gone := stage("gone_r1-000001")
	other("busy").Claim(ctx, "k2")
	busy := stage("busy_r1-000001")
	mine := stage("me_" + w.runTag + "-000001")
	earlier := stage("me_0-000001") // an earlier run of this worker id

	w.sweep(ctx)
	published := filepath.Join(out, typ, publishedName("dead_r1-000001", "part-20261203T000000Z.ndjson"))
	if b, err := os.ReadFile(published); err != nil || !bytes.Contains(b, []byte("dead_r1")) {
		t.Errorf("committed batch not published: %q, %v", b, err)
	}
	for _, dir := range []string{committed, gone, earlier} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", filepath.Base(dir), err)
		}
	}
	for _, dir := range []string{busy, mine} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(dir), err)
		}
	}
}

func TestPublishedNameAndOwner(t *testing.T) {
	if got := publishedName("w1_abc-000002", "part-20261203T000000Z-2.ndjson"); got != "part-w1_abc-000002-20261203T000000Z-2.ndjson" {
		t.Errorf("publishedName = %q", got)
	}
	for batch, want := range map[string]string{"host-1.example-42_abc-000001": "host-1.example-42", "noseparator": "", "_x": ""} {
		if got := batchOwner(batch); got != want {
			t.Errorf("batchOwner(%q) = %q, want %q", batch, got, want)
		}
	}
}
