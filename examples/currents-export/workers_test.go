package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
	"github.com/ampbraze/ampbraze/examples/internal/proctest"
	"github.com/ampbraze/ampbraze/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// exportProgram is the program, built once per test binary.
var exportProgram = proctest.NewProgram("currents-export")

// writeDupCorpus writes files Currents files of perFile events under dir,
// over two event types and a queue hour per 12 files, with Currents'
// duplicate deliveries: every tenth event of a file comes again in the
// next file of its type (read at the same time by another worker, most
// likely), every 25th again in the file 12 later (a later hour), and
// every 50th twice in its own file. It returns the distinct ids by type.
func writeDupCorpus(t testing.TB, dir string, files, perFile int) map[string][]string {
	t.Helper()
	types := []string{"users.messages.email.Send", "users.messages.email.Open"}
	hour := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	recs := make([][]map[string]any, files)
	distinct := map[string]map[string]bool{}
	for i := range files {
		typ := types[i%2]
		if distinct[typ] == nil {
			distinct[typ] = map[string]bool{}
		}
		for j := range perFile {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j)
			distinct[typ][id] = true
			rec := map[string]any{
				"id": id, "user_id": "u", "external_user_id": "e", "email_address": "a@example.com",
				"time": hour.Unix() + int64(j%3600), "campaign_id": "c", "message_variation_id": "v",
			}
			recs[i] = append(recs[i], rec)
			if j%50 == 0 {
				recs[i] = append(recs[i], rec)
			}
			if j%10 == 0 && i+2 < files {
				recs[i+2] = append(recs[i+2], rec)
			}
			if j%25 == 0 && i+24 < files {
				recs[i+24] = append(recs[i+24], rec)
			}
		}
	}
	for i, rs := range recs {
		typ := types[i%2]
		var b bytes.Buffer
		if err := currentstest.WriteFile(&b, typ, rs); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(currentsdemo.Key("currents", typ, hour.Add(time.Duration(i/12)*time.Hour), i)))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]string{}
	for typ, set := range distinct {
		for id := range set {
			out[typ] = append(out[typ], id)
		}
		slices.Sort(out[typ])
	}
	return out
}

// checkExactlyOnce fails the test unless the published output holds every
// id of want exactly once, and nothing else.
func checkExactlyOnce(t *testing.T, out string, want map[string][]string) {
	t.Helper()
	for typ, wantIDs := range want {
		got := ids(t, out, typ) // every id written, repeats included
		count := map[string]int{}
		for _, id := range got {
			count[id]++
		}
		var twice, missing []string
		for id, n := range count {
			if n > 1 {
				twice = append(twice, id)
			}
		}
		for _, id := range wantIDs {
			if count[id] == 0 {
				missing = append(missing, id)
			}
		}
		sort.Strings(twice)
		if len(twice) > 0 {
			t.Errorf("%s: %s is in %v", typ, twice[0], partsHolding(t, filepath.Join(out, typ), twice[0]))
		}
		if len(twice) > 0 || len(missing) > 0 || len(count) != len(wantIDs) {
			t.Errorf("%s: %d events written, %d distinct, want %d; %d written more than once (first %v), %d missing (first %v)",
				typ, len(got), len(count), len(wantIDs), len(twice), first(twice), len(missing), first(missing))
		}
	}
}

// partsHolding names the parts in dir that hold id.
func partsHolding(t *testing.T, dir, id string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	var holding []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte(id)); n > 0 {
			holding = append(holding, fmt.Sprintf("%s (%d)", filepath.Base(f), n))
		}
	}
	return holding
}

func first(s []string) []string { return s[:min(len(s), 3)] }

func startWorker(t *testing.T, bin string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, exec.Command(bin, args...))
}

// Issue 15: three workers export one bucket through PostgreSQL (claims
// and shared deduplication ids); one is killed with SIGKILL after it has
// published output and while it holds claims. The others take its
// objects over once its lease runs out. The published output holds every
// event exactly once, though the corpus has Currents' duplicate
// deliveries (within a file, in the next file of the type, and hours
// later), and nothing of the killed worker's unpublished batch is left.
func TestRegression_Issue15_CurrentsWorkersKilledExactlyOnce(t *testing.T) {
	start := time.Now()
	bin := exportProgram.Path(t)
	schema := pgtest.Schema(t, "cxw_")
	in, out := t.TempDir(), t.TempDir()
	want := writeDupCorpus(t, in, 360, 150)
	t.Logf("built and wrote the corpus in %s", time.Since(start))
	start = time.Now()
	args := func(id string) []string {
		return []string{"-input", in, "-out", out, "-workers-db", pgtest.URL(), "-workers-schema", schema,
			"-worker-id", id, "-worker-lease", "2s", "-commit-events", "300"}
	}
	var procs []*proctest.Proc
	for i := range 3 {
		procs = append(procs, startWorker(t, bin, args(fmt.Sprintf("w%d", i))...))
	}
	// Kill w1 once it has published a part, mid-run.
	victim := procs[1]
	deadline := time.Now().Add(time.Minute)
	for {
		parts, _ := filepath.Glob(filepath.Join(out, "*", "part-w1_*"))
		if len(parts) > 0 {
			break
		}
		select {
		case <-victim.Done():
			t.Fatalf("w1 ended before it could be killed (the corpus is too small for this machine)\n%s", &victim.Err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("w1 published nothing within a minute\n%s", &victim.Err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	victim.Kill(t)
	if st := victim.Cmd.ProcessState; st.ExitCode() != -1 {
		t.Fatalf("w1 ended by itself (exit %d) before the kill: nothing was taken over\n%s", st.ExitCode(), &victim.Err)
	}
	for _, i := range []int{0, 2} {
		if code := procs[i].Wait(t, 2*time.Minute); code != exitOK {
			t.Fatalf("w%d: exit %d\n%s\n%s", i, code, &procs[i].Out, &procs[i].Err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() { // what the workers did, beside the line per file
			for _, i := range []int{0, 2} {
				for _, line := range bytes.Split(procs[i].Err.Bytes(), []byte("\n")) {
					if !bytes.Contains(line, []byte("file done")) && len(line) > 0 {
						t.Logf("w%d: %s", i, line)
					}
				}
			}
		}
	})
	t.Logf("workers done in %s", time.Since(start))
	checkExactlyOnce(t, out, want)

	// The killed worker's objects were claimed again after its lease ran
	// out, and every object is done.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var total, done, reclaimed int
	err = conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE claims > 1) FROM "+
		pgx.Identifier{schema, "currents_export_objects"}.Sanitize()).Scan(&total, &done, &reclaimed)
	if err != nil {
		t.Fatal(err)
	}
	if total != 360 || done != 360 || reclaimed == 0 {
		t.Errorf("objects: %d, %d done, %d claimed more than once; want 360, 360, some (w1's taken over)", total, done, reclaimed)
	}
	t.Logf("%d objects taken over from the killed worker", reclaimed)
	if left, _ := os.ReadDir(filepath.Join(out, stagingDir)); len(left) != 0 {
		t.Errorf("staging folder not swept: %v", left)
	}

	// A worker started again finds nothing to do.
	again := startWorker(t, bin, args("w1")...)
	if code := again.Wait(t, time.Minute); code != exitOK {
		t.Fatalf("rerun: exit %d\n%s", code, &again.Err)
	}
	if !bytes.Contains(again.Out.Bytes(), []byte("Read 0 files")) {
		t.Errorf("rerun read files:\n%s", &again.Out)
	}
	checkExactlyOnce(t, out, want)
}
