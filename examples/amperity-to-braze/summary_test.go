package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 17: -summary-json writes the run summary for schedulers; rejects
// lines carry the run id and time; -log-format json.
func TestRegression_Issue17_SummaryJSONAndRejectsRunID(t *testing.T) {
	f := newFixture(t)
	code, out, errOut := f.run(context.Background(), "-input", f.path("day1.csv"), "-summary-json", f.path("summary.json"), "-log-format", "json")
	if code != exitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = f.run(context.Background(), "-input", f.path("day2.csv"), "-summary-json", f.path("summary.json"), "-log-format", "json")
	if code != exitRejected {
		t.Fatalf("day 2: exit %d\n%s\n%s", code, out, errOut)
	}
	b, err := os.ReadFile(f.path("summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum runSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if sum.Status != "rejected" || sum.Exit != exitRejected || len(sum.Files) != 1 || sum.Total.Rows != 10 || sum.Total.Sent != 3 ||
		sum.Total.BadRows != 1 || sum.Total.DataPoints == 0 || sum.RunID == "" || sum.Files[0].RowsPerSecond <= 0 {
		t.Errorf("summary %+v", sum)
	}
	rej := f.rejects()
	if len(rej) != 1 || rej[0].RunID != sum.RunID || rej[0].Time == "" {
		t.Errorf("rejects %+v, want the run id %s and a time", rej, sum.RunID)
	}
	sc := bufio.NewScanner(strings.NewReader(errOut))
	var started, finished bool
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		started = started || line["msg"] == "run started"
		finished = finished || (line["msg"] == "run finished" && line["run_id"] == sum.RunID)
	}
	if !started || !finished {
		t.Errorf("no start or end log line:\n%s", errOut)
	}
}

// Issue 17: -h names Parquet and BRAZE_API_KEY.
func TestRegression_Issue17_HelpNamesFormatsAndKey(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"BRAZE_API_KEY", "parquet", "Parquet"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("-h does not mention %s:\n%s", want, errOut.String())
		}
	}
}

// Issue 17: the checkpoint of processed exports lives beside the state,
// not inside the store's directory; one left there by an earlier version
// is moved, so no export is synced again.
func TestRegression_Issue17_CheckpointBesideState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := f.path("drop")
	day1, _ := os.ReadFile(f.path("day1.csv"))
	writeFile(t, filepath.Join(dir, "a.csv"), day1)
	if code, out, errOut := f.run(ctx, "-input", dir+"/"); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	beside := f.path("state-processed-braze_users.txt")
	if b, err := os.ReadFile(beside); err != nil || string(b) != "a.csv\n" {
		t.Fatalf("checkpoint beside the state: %q, %v", b, err)
	}
	// An earlier version's checkpoint, inside the state directory.
	old := filepath.Join(f.path("state"), "processed-braze_users.txt")
	if err := os.Rename(beside, old); err != nil {
		t.Fatal(err)
	}
	before := f.fake.Stats().Requests
	code, out, errOut := f.run(ctx, "-input", dir+"/")
	if code != exitOK || !strings.Contains(out, "Nothing to sync") || f.fake.Stats().Requests != before {
		t.Fatalf("after the move: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(beside); err != nil {
		t.Errorf("the old checkpoint was not moved: %v", err)
	}
}
