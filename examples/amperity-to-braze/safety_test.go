package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// replaceLine returns the export with every line containing match
// replaced by with (or dropped when with is "").
func replaceLine(export, match, with string) string {
	var out []string
	for _, l := range strings.SplitAfter(export, "\n") {
		if strings.Contains(l, match) {
			if with != "" {
				out = append(out, with+"\n")
			}
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// nullsSent counts null values the fake received for each user.
func nullsSent(f *fixture) map[string]int {
	out := map[string]int{}
	for _, r := range f.fake.Requests() {
		objs, _ := r.Payload()["attributes"].([]any)
		for _, o := range objs {
			m, _ := o.(map[string]any)
			id, _ := m["external_id"].(string)
			for k, v := range m {
				if v == nil {
					out[id+"."+k]++
				}
			}
		}
	}
	return out
}

var snapshotArgs = []string{"-full-snapshot", "-scope", "braze:snapshot"}

// Issue 13, item 1 and "done when": a full snapshot with a bad value in
// row 2 sends no null for any user of the export.
func TestRegression_Issue13_BadCellInFullSnapshotSendsNoNull(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	day1, _ := os.ReadFile(f.path("day1.csv"))
	if code, out, errOut := f.run(ctx, append(snapshotArgs, "-input", f.path("day1.csv"))...); code != exitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	bad := replaceLine(string(day1), "C-1002", "a1f1,C-1002,Grace,Hopper,grace@example.com,1976-12-09,Arlington,USA,F,platinum,5890.00,fifty-one,2026-11-25 18:02:11,subscribed,true,false")
	writeFile(t, f.path("bad.csv"), []byte(bad))
	before := len(nullsSent(f))
	code, out, errOut := f.run(ctx, append(snapshotArgs, "-input", f.path("bad.csv"))...)
	if code != exitRejected {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitRejected, out, errOut)
	}
	if n := nullsSent(f); len(n) != before {
		t.Errorf("nulls sent: %v", n)
	}
	for _, id := range []string{"C-1001", "C-1002", "C-1003", "C-1008"} {
		if u, ok := f.fake.User(id); !ok || u.Attributes["email"] == nil || u.Attributes["first_name"] == nil {
			t.Errorf("%s lost attributes: %v", id, u.Attributes)
		}
	}
	if rej := f.rejects(); len(rej) != 1 || rej[0].Row != 2 || rej[0].Column != "order_count" {
		t.Errorf("rejects %+v", rej)
	}
}

// Issue 13, item 2: a header-only full snapshot exits non-zero and sends
// nothing.
func TestRegression_Issue13_EmptyFullSnapshotSendsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if code, out, errOut := f.run(ctx, append(snapshotArgs, "-input", f.path("day1.csv"))...); code != exitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	day1, _ := os.ReadFile(f.path("day1.csv"))
	header, _, _ := strings.Cut(string(day1), "\n")
	writeFile(t, f.path("empty.csv"), []byte(header+"\n"))
	before := f.fake.Stats().Requests
	code, out, errOut := f.run(ctx, append(snapshotArgs, "-input", f.path("empty.csv"))...)
	if code != exitFatal || !strings.Contains(errOut, "-force") {
		t.Fatalf("exit %d, want %d and a message naming -force\n%s\n%s", code, exitFatal, out, errOut)
	}
	if n := f.fake.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent", n)
	}
	// -force is the explicit way out.
	if code, out, errOut := f.run(ctx, append(snapshotArgs, "-input", f.path("empty.csv"), "-force")...); code != exitOK {
		t.Fatalf("-force: exit %d\n%s\n%s", code, out, errOut)
	}
	if u, _ := f.fake.User("C-1001"); u.Attributes["email"] != nil {
		t.Errorf("C-1001 after a forced empty snapshot: %v", u.Attributes)
	}
}

// The removal limit: a snapshot that lost most users is refused, with the
// flag to use; -dry-run shows the counts against the limits.
func TestFullSnapshotRemovalLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if code, out, errOut := f.run(ctx, append(snapshotArgs, "-input", f.path("day1.csv"))...); code != exitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	day1, _ := os.ReadFile(f.path("day1.csv"))
	lines := strings.SplitAfter(string(day1), "\n")
	writeFile(t, f.path("two.csv"), []byte(strings.Join(lines[:3], "")))
	before := f.fake.Stats().Requests
	code, out, errOut := f.run(ctx, append(snapshotArgs, "-input", f.path("two.csv"), "-max-removed", "25%")...)
	if code != exitFatal || !strings.Contains(errOut, "-max-removed") || !strings.Contains(errOut, "remove at least 3 of the 8 users") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := f.fake.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent", n)
	}
	code, out, errOut = f.run(ctx, append(snapshotArgs, "-input", f.path("two.csv"), "-max-removed", "25%", "-dry-run")...)
	if code != exitOK || !strings.Contains(out, "6 of 8 users removed (-max-removed: 2)") || !strings.Contains(out, "the real run would send nothing") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut = f.run(ctx, append(snapshotArgs, "-input", f.path("two.csv"), "-max-removed", "75%")...); code != exitOK {
		t.Fatalf("raised limit: exit %d\n%s\n%s", code, out, errOut)
	}
}

// Issue 13, item 6 and "done when": a 401 stops after at most 2 requests,
// exit 2 and one line naming the cause.
func TestRegression_Issue13_WrongKeyStopsAtOnce(t *testing.T) {
	f := newFixture(t, brazetest.WithAPIKey("the-right-key"))
	t.Setenv("BRAZE_API_KEY", "a-wrong-key")
	code, out, errOut := f.run(context.Background(), "-input", f.path("day1.csv"), "-batch-size", "1", "-concurrency", "1")
	if code != exitFatal || !strings.Contains(errOut, "HTTP 401") || !strings.Contains(errOut, "BRAZE_API_KEY") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := f.fake.Stats().Requests; n > 2 {
		t.Errorf("%d requests after a 401", n)
	}
	if rej := f.rejects(); len(rej) != 0 {
		t.Errorf("the 401 was reported as rejects: %+v", rej)
	}
}

// Issue 13, item 7 and "done when": a duplicate id is reported with its
// row, one row is sent, and the second run sends nothing.
func TestRegression_Issue13_DuplicateIDConverges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	day1, _ := os.ReadFile(f.path("day1.csv"))
	dup := string(day1) + "a1f9,C-1003,Alan,Turing,alan.turing@example.com,1982-06-23,Manchester,GB,M,gold,999.00,4,2026-08-03 12:00:00,unsubscribed,true,true\n"
	writeFile(t, f.path("dup.csv"), []byte(dup))
	code, out, errOut := f.run(ctx, "-input", f.path("dup.csv"))
	if code != exitRejected || !strings.Contains(out, "(1 duplicate ids)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if rej := f.rejects(); len(rej) != 1 || rej[0].Key != "C-1003" || rej[0].Row != 9 || !strings.Contains(rej[0].Reason, "duplicate") {
		t.Errorf("rejects %+v", rej)
	}
	if u, _ := f.fake.User("C-1003"); u.Attributes["email"] != "alan@example.com" {
		t.Errorf("C-1003 = %v, want the first row", u.Attributes)
	}
	before := f.attributeObjects()
	f.run(ctx, "-input", f.path("dup.csv"))
	if got := f.attributeObjects() - before; got != 0 {
		t.Errorf("second run sent %d objects", got)
	}
}

// Issue 13, item 4: without -schema every column became a string.
func TestRegression_Issue13_NoSchemaRefused(t *testing.T) {
	f := newFixture(t)
	writeFile(t, f.path("mapping.json"), []byte(`{"columns": {"customer_id": "external_id"}}`))
	var out, errOut strings.Builder
	args := []string{"-endpoint", f.fake.URL, "-mapping", f.path("mapping.json"), "-state", f.path("state"), "-input", f.path("day1.csv")}
	code := run(context.Background(), args, &out, &errOut)
	if code != exitFatal || !strings.Contains(errOut.String(), "-all-strings") || f.fake.Stats().Requests != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	code = run(context.Background(), append(args, "-all-strings"), &out, &errOut)
	if code != exitOK {
		t.Fatalf("-all-strings: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if u, _ := f.fake.User("C-1001"); u.Attributes["lifetime_value"] != "1240.50" {
		t.Errorf("C-1001 = %v", u.Attributes)
	}
}

// Issue 14, item 11: a rejects file that cannot be written was ignored.
func TestRegression_Issue14_RejectsWriteFailureIsFatal(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no /dev/full (CI is set): %v", err)
		}
		t.Skipf("no /dev/full on this system (%v): a failing rejects file is not checked", err)
	}
	f := newFixture(t)
	code, out, errOut := f.run(context.Background(), "-input", f.path("day2.csv"), "-rejects", "/dev/full")
	if code != exitFatal || !strings.Contains(errOut, "rejects file") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// Issue 14, item 12: a damaged checkpoint re-synced every export without a
// word; it is an error now, and a missing one is said out loud.
func TestRegression_Issue14_CheckpointDamageIsReported(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := f.path("drop")
	day1, _ := os.ReadFile(f.path("day1.csv"))
	writeFile(t, filepath.Join(dir, "a.csv"), day1)
	cp := f.path("checkpoint.txt")
	if code, out, errOut := f.run(ctx, "-input", dir+"/", "-checkpoint", cp); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	writeFile(t, cp, []byte("a.csv\n\x00\x00garbage\n"))
	code, out, errOut := f.run(ctx, "-input", dir+"/", "-checkpoint", cp)
	if code != exitFatal || !strings.Contains(errOut, "damaged at line 2") {
		t.Fatalf("garbled: exit %d\n%s\n%s", code, out, errOut)
	}
	os.Remove(cp)
	code, out, errOut = f.run(ctx, "-input", dir+"/", "-checkpoint", cp)
	if code != exitOK || !strings.Contains(errOut, "no checkpoint of processed exports") {
		t.Fatalf("deleted: exit %d\n%s\n%s", code, out, errOut)
	}
}

// A dry run creates nothing on disk (issue 14: the state is opened
// read-only; issue 17: not even the state directory).
func TestDryRunCreatesNothing(t *testing.T) {
	f := newFixture(t)
	code, out, errOut := f.run(context.Background(), "-input", f.path("day1.csv"), "-dry-run")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, p := range []string{"state", "rejects.ndjson"} {
		if _, err := os.Stat(f.path(p)); err == nil {
			t.Errorf("%s was created by a dry run", p)
		}
	}
	if !strings.Contains(out, "data points") {
		t.Errorf("dry run does not estimate data points:\n%s", out)
	}
}
