package e2e

import (
	"context"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
)

// maxRuns bounds the reruns of one day's sync: a sync that has not
// converged by then fails the test.
const maxRuns = 12

func envSeed(t *testing.T) uint64 {
	if s := os.Getenv("E2E_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("E2E_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

func envUsers(t *testing.T) int {
	if s := os.Getenv("E2E_USERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 100 {
			t.Fatalf("E2E_USERS=%q: want an integer of at least 100", s)
		}
		return v
	}
	if testing.Short() {
		return 10_000
	}
	if raceEnabled {
		return defaultUsersRace
	}
	return 100_000
}

// defaultUsersRace is the default export under the race detector, which
// slows the pipeline about tenfold (the state store's point reads most):
// CI runs go test -race ./... on two shared cores, where 100,000 users
// take about five minutes of CPU. Set E2E_USERS to run the full size (or
// more) with -race.
const defaultUsersRace = 10_000

// world is what the test knows to be true, independently of the SDK: the
// users of the current export, what Braze should hold for each, and which
// keys the state should hold as sent.
type world struct {
	snap     *snapshot
	rows     map[string]int64 // data row of each key in the current file
	rejected func(string) bool
	// want is the profile Braze should hold, by key; keys absent from it
	// must have no profile at all.
	want map[string]map[string]any
	// inState are the keys whose changes Braze accepted: the state holds
	// them as sent.
	inState map[string]bool
	// sent are the keys whose changes were sent at least once: accepted,
	// or left "unknown" in the state by a failed send.
	sent  map[string]bool
	kinds map[string]kind
	// rejectedState are the keys Braze rejected whose rejection the state
	// remembers: they are not sent again until their data changes.
	rejectedState map[string]bool
	// changed is today's evolution: keys whose values changed since the
	// day before (nil on day 1).
	changed map[string]map[string]bool
}

// TestSyncUnderFaults syncs an export of E2E_USERS users (default 100,000)
// to the fake Braze under the fault regime, kills the process at random
// points until a run completes, checks everything, then does it all again
// with the export of the day after.
func TestSyncUnderFaults(t *testing.T) {
	seed := envSeed(t)
	n := envUsers(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with: E2E_SEED=%d E2E_USERS=%d go test -race -run %s ./internal/e2e/", seed, n, t.Name())
		}
	})
	t.Logf("seed %d, %d users", seed, n)
	start := time.Now()
	r := rand.New(rand.NewPCG(seed, 4))
	h := newHarness(t, seed)
	dir := t.TempDir()

	// Day 1: every user is new.
	snap1 := generate(seed, n)
	p, err := newPipeline(snap1)
	if err != nil {
		t.Fatalf("mapper: %v", err)
	}
	path1 := filepath.Join(dir, "day1.csv")
	rows1, err := snap1.writeCSV(path1, seed)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{snap: snap1, rows: rows1, rejected: rejectedByBraze(seed), want: map[string]map[string]any{}, inState: map[string]bool{}, sent: map[string]bool{}, kinds: snap1.kinds(), rejectedState: map[string]bool{}}
	var bad []int64
	for _, u := range snap1.users {
		if u.badDOB != "" {
			bad = append(bad, rows1[u.key])
			continue
		}
		if !w.rejected(u.key) {
			w.want[u.key] = snap1.desired(u)
		}
	}

	t.Logf("day 1: %d users, %d rejected by Braze, %d bad rows (%s)", n, countRejected(snap1, w), len(bad), time.Since(start).Round(time.Millisecond))

	// The kills cycle through the ways a process ends early, so that the
	// two days see each of them.
	kills := []killMode{killGraceful, killCancelAbandon, killStop}
	o := r.IntN(len(kills))
	h.fake.faultRegime(seed)
	firstRun := h.runs + 1
	final := h.converge(p, path1, r, n, []killMode{kills[o], kills[(o+1)%3]}, "day 1")
	h.fake.calm(seed)
	for k := range w.want {
		w.inState[k] = true
	}
	// The plan of day 2 checks the state left by day 1 exactly (see
	// expectPlanDay2), so day 1 skips the two verification plans.
	h.verify(p, w, path1, firstRun, final, bad, nil, false)
	for _, u := range snap1.users {
		if w.rejected(u.key) && u.badDOB == "" {
			w.rejectedState[u.key] = true
		}
	}
	// No update lost: every attribute of every accepted user went out in
	// a change Braze accepted, with the value wanted.
	h.checkLedger(w, func(k string) map[string]any { return w.want[k] })
	t.Logf("day 1 done (%s)", time.Since(start).Round(time.Millisecond))

	// Day 2: some users changed, left or joined audiences, vanished or
	// are new; every value may be spelled differently.
	snap2, ev := nextDay(seed, snap1)
	path2 := filepath.Join(dir, "day2.csv")
	rows2, err := snap2.writeCSV(path2, seed+1)
	if err != nil {
		t.Fatal(err)
	}
	pre2, pre2Errs := h.dryRun(p, records(t, p, path2))
	expectPlanDay2(t, snap2, ev, w, pre2, pre2Errs, p.audiences)

	w.snap, w.rows, w.changed = snap2, rows2, ev.changed
	w.want = map[string]map[string]any{}
	for _, u := range snap2.users {
		if !w.rejected(u.key) {
			w.want[u.key] = snap2.desired(u)
		}
	}
	for k := range ev.vanished {
		if w.inState[k] {
			// Gone from a full snapshot: every attribute removed, the
			// audience flags set to false.
			flags := map[string]any{}
			for _, a := range p.audiences {
				flags[a] = false
			}
			w.want[k] = flags
		}
	}
	t.Logf("day 2: %d changes planned (%d changed, %d new, %d vanished users)", len(pre2), len(ev.changed), len(ev.added), len(ev.vanished))

	h.fake.faultRegime(seed)
	h.ledger = ledger{}
	firstRun = h.runs + 1
	final = h.converge(p, path2, r, len(pre2), []killMode{kills[(o+2)%3], kills[o]}, "day 2")
	h.fake.calm(seed)
	h.verify(p, w, path2, firstRun, final, nil, pre2, true)
	// No update lost on day 2: every attribute the day's first plan had to
	// send for a user Braze accepts was accepted with that value.
	h.checkLedger(w, func(k string) map[string]any {
		ch, ok := pre2[k]
		if !ok || w.rejected(k) {
			return nil
		}
		m := map[string]any{}
		for _, a := range ch.Attrs {
			m[a.Name] = a.Value.Any()
		}
		return m
	})

	h.checkFaultsHappened(n)
	h.checkNoKeyLeak()
	t.Logf("done in %s, %d runs", time.Since(start).Round(time.Millisecond), h.runs)
}

func records(t *testing.T, p *pipeline, path string) iter.Seq2[diff.Record, error] {
	t.Helper()
	recs, closeFile, err := p.records(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFile() })
	return recs
}

func countRejected(s *snapshot, w *world) int {
	n := 0
	for _, u := range s.users {
		if w.rejected(u.key) && u.badDOB == "" {
			n++
		}
	}
	return n
}

// converge reruns the sync, killing the first runs at random points, until
// a run completes with nothing failed.
func (h *harness) converge(p *pipeline, path string, r *rand.Rand, pending int, kills []killMode, day string) runStats {
	t := h.t
	t.Helper()
	for i := range maxRuns {
		rp := runPlan{ackBatch: 1 + r.IntN(3000)}
		if i < len(kills) && pending > 1 {
			rp.kill = kills[i]
			rp.killAfter = 1 + r.IntN(pending)
		}
		began := time.Now()
		st := h.sync(p, path, rp)
		h.fake.quiesce(t)
		t.Logf("%s run %d: kill=%s after=%d ackBatch=%d: emitted %d accepted %d rejected %d failed %d planErrors %d killed=%v commit=%v (%s)",
			day, h.runs, rp.kill, rp.killAfter, rp.ackBatch, st.emitted, st.accepted, st.rejected, st.failed, st.planErrors, st.killed, st.commitErr,
			time.Since(began).Round(time.Millisecond))
		if st.commitErr != nil {
			t.Errorf("%s run %d: commit: %v", day, h.runs, st.commitErr)
		}
		if !st.killed && st.failed == 0 && st.commitErr == nil {
			return st
		}
		pending = max(1, pending-st.accepted)
	}
	t.Fatalf("%s: the sync did not converge in %d runs", day, maxRuns)
	return runStats{}
}

// TestExportMapsAsGenerated checks the first half of the pipeline alone:
// every user of a generated export, whatever the spelling of its values
// (country names, gender words, dates of birth in eight forms, decimals
// with trailing zeros, datetimes in other zones), is planned with exactly
// the values it was generated with, and every bad row is an error.
func TestExportMapsAsGenerated(t *testing.T) {
	seed := envSeed(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with: E2E_SEED=%d go test -run %s ./internal/e2e/", seed, t.Name())
		}
	})
	h := newHarness(t, seed)
	s := generate(seed, 3000)
	p, err := newPipeline(s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.csv")
	rows, err := s.writeCSV(path, seed)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{snap: s, rows: rows, rejected: rejectedByBraze(seed), kinds: s.kinds()}
	pre, errs := h.dryRun(p, records(t, p, path))
	expectPlanDay1(t, s, w, pre, errs)
}
