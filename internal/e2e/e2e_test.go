package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
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

// verify checks, once a day's sync has converged, that Braze holds what
// it should, that the rejects report names every rejected user, and that
// the state holds exactly what Braze accepted.
func (h *harness) verify(p *pipeline, w *world, path string, firstRun int, final runStats, badRows []int64, planned map[string]diff.Change, plans bool) {
	t := h.t
	t.Helper()

	// 1. Braze's profiles equal the desired state, attribute by attribute.
	users := h.fake.Users()
	seen := map[string]bool{}
	var diffs []string
	for _, u := range users {
		if u.ExternalID == "" {
			diffs = append(diffs, fmt.Sprintf("profile %s has no external_id", u.BrazeID))
			continue
		}
		seen[u.ExternalID] = true
		want, ok := w.want[u.ExternalID]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: profile exists (rejected=%v), want none", u.ExternalID, w.rejected(u.ExternalID)))
			continue
		}
		if d := attrDiff(w.kinds, want, u.Attributes); len(d) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s (row %d): %s", u.ExternalID, w.rows[u.ExternalID], strings.Join(d, ", ")))
		}
	}
	for k := range w.want {
		if !seen[k] {
			diffs = append(diffs, fmt.Sprintf("%s (row %d): no profile in Braze", k, w.rows[k]))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Errorf("Braze differs from the desired state for %d users: %s", len(diffs), short(diffs, 15))
	}

	// 2. The day's rejects reports name every rejected user the day had
	// to send with Braze's reason and the user's row; no run ever reported
	// a user Braze accepted, and bad rows are reported with their row and
	// column. A user Braze rejected before is sent (and reported) again
	// only when its data changed: the state remembers the rejection.
	// Rejected users who vanished since they were sent may be reported: a
	// send of theirs that failed ambiguously (a cut connection) marks what
	// it carried as "unknown", and the delta engine then plans its
	// removal, which Braze rejects again.
	required, allowed, stillRejected := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, u := range w.snap.users {
		if w.rejected(u.key) && u.badDOB == "" {
			if _, ok := planned[u.key]; planned != nil && !ok {
				stillRejected[u.key] = true // rejected before, not planned today
				continue
			}
			required[u.key] = true
		}
	}
	for k := range w.sent {
		if w.rejected(k) && !required[k] {
			allowed[k] = true
		}
	}
	lastRun := h.runs
	gotRejected := map[string]bool{}
	var inputRows []int64
	for _, rep := range h.readReports() {
		if rep.Run < firstRun {
			continue
		}
		switch rep.Stage {
		case "braze":
			if !w.rejected(rep.Key) {
				t.Errorf("rejects report, run %d: %s reported rejected, but Braze rejects only other users: %s", rep.Run, rep.Key, rep.Reason)
			}
			if !strings.Contains(rep.Reason, "'external_id' is blacklisted and disallowed") {
				t.Errorf("rejects report, run %d: %s: reason %q does not carry Braze's error", rep.Run, rep.Key, rep.Reason)
			}
			if rep.Row != w.rows[rep.Key] {
				t.Errorf("rejects report, run %d: %s: row %d, want %d", rep.Run, rep.Key, rep.Row, w.rows[rep.Key])
			}
			gotRejected[rep.Key] = true
			if stillRejected[rep.Key] {
				t.Errorf("rejects report, run %d: %s was sent again, although Braze rejected it before and its data did not change", rep.Run, rep.Key)
			}
		case "input":
			if !strings.Contains(rep.Reason, `"Birthdate"`) {
				t.Errorf("rejects report, run %d: input error does not name the column: %s", rep.Run, rep.Reason)
			}
			if rep.Run == lastRun {
				inputRows = append(inputRows, rep.Row)
			}
		case "plan":
			if !strings.Contains(rep.Reason, diff.ErrIncompleteSnapshot.Error()) || len(badRows) == 0 {
				t.Errorf("rejects report, run %d: unexpected plan error: %s", rep.Run, rep.Reason)
			}
		default:
			t.Errorf("rejects report, run %d: unexpected %s error for %s (row %d): %s", rep.Run, rep.Stage, rep.Key, rep.Row, rep.Reason)
		}
	}
	if missing, extra := setDiff(required, gotRejected); len(missing) > 0 || !subset(extra, allowed) {
		t.Errorf("the day's rejects reports: %d rejected users missing (%s), %d extra (%s)", len(missing), short(missing, 5), len(extra), short(extra, 5))
	}
	if got := final.rejected; got > len(gotRejected) {
		t.Errorf("last run: %d results rejected, but %d users in the day's rejects reports", got, len(gotRejected))
	}
	slices.Sort(inputRows)
	slices.Sort(badRows)
	badRows = slices.Compact(badRows)
	if !slices.Equal(inputRows, badRows) {
		t.Errorf("last run's rejects report: input errors at rows %v, want the bad rows %v", inputRows, badRows)
	}

	for k := range w.want {
		w.sent[k] = true
	}
	for k := range required {
		w.sent[k] = true
	}
	if !plans {
		return
	}

	// 3. The state holds as sent exactly what Braze accepted, and remembers
	// what it rejected: a new plan of the same export plans nothing but
	// removals Braze rejects (see allowed above)...
	changes, errs := h.dryRun(p, records(t, p, path))
	for _, err := range errs {
		var ie *amperity.InputError
		if !errors.As(err, &ie) && !errors.Is(err, diff.ErrIncompleteSnapshot) {
			t.Errorf("verification plan: unexpected error %v", err)
		}
	}
	byKey := map[string]*user{}
	for _, u := range w.snap.users {
		byKey[u.key] = u
	}
	var extra []string
	for k, ch := range changes {
		switch {
		case required[k] || stillRejected[k]:
			t.Errorf("verification plan: rejected user %s planned %s again although its data did not change: %v", k, ch.Status, attrValues(ch))
		case allowed[k]:
			if ch.Status != diff.Removed {
				t.Errorf("verification plan: vanished rejected user %s planned as %s, want removed", k, ch.Status)
			}
		default:
			extra = append(extra, fmt.Sprintf("%s %s %v", k, ch.Status, attrNames(ch)))
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		t.Errorf("verification plan against the final export: %d changes for users Braze accepted (state and Braze disagree): %s", len(extra), short(extra, 10))
	}

	// ...and a plan of what Braze actually holds, as a full snapshot,
	// finds nothing to send and nothing to remove, except removals for the
	// rejected users, whose state is "unknown" since their failed sends.
	fromBraze, _ := h.dryRun(p, brazeRecords(p, w, users))
	var ds []string
	for k, ch := range fromBraze {
		if (required[k] || allowed[k] || stillRejected[k]) && ch.Status == diff.Removed {
			continue
		}
		ds = append(ds, fmt.Sprintf("%s %s %v", k, ch.Status, attrValues(ch)))
	}
	if len(ds) > 0 {
		slices.Sort(ds)
		t.Errorf("plan of Braze's profiles against the state: %d keys differ: %s", len(ds), short(ds, 10))
	}
}

func subset(xs []string, of map[string]bool) bool {
	for _, x := range xs {
		if !of[x] {
			return false
		}
	}
	return true
}

func attrNames(ch diff.Change) []string {
	var out []string
	for _, a := range ch.Attrs {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

func attrValues(ch diff.Change) []string {
	var out []string
	for _, a := range ch.Attrs {
		out = append(out, fmt.Sprintf("%s=%v", a.Name, a.Value))
	}
	slices.Sort(out)
	return out
}

func setDiff(want, got map[string]bool) (missing, extra []string) {
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

// brazeRecords turns the fake's profiles back into records of the value
// model, every attribute the mapper produces present (nil when Braze holds
// none), so that planning them against the state compares the state with
// what Braze holds.
func brazeRecords(p *pipeline, w *world, users []brazetest.User) iter.Seq2[diff.Record, error] {
	attrs := p.mapper.Attributes()
	return func(yield func(diff.Record, error) bool) {
		for _, u := range users {
			rec := diff.Record{Key: u.ExternalID}
			for _, name := range attrs {
				v, err := fromBraze(w.kinds[name], name, u.Attributes[name])
				if err != nil {
					if !yield(diff.Record{}, fmt.Errorf("%s: %s: %w", u.ExternalID, name, err)) {
						return
					}
					continue
				}
				rec.Attrs = append(rec.Attrs, diff.Attr{Name: name, Value: diff.Of(v)})
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// fromBraze converts a value the fake holds (decoded JSON) to the value
// model type the mapper gives that attribute.
func fromBraze(k kind, name string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindDate:
		s, _ := v.(string)
		return braze.ParseDate(s)
	case kindTime:
		s, _ := v.(string)
		return time.Parse(time.RFC3339Nano, s)
	case kindNumber:
		var text string
		switch n := v.(type) {
		case int64:
			text = strconv.FormatInt(n, 10)
		case float64:
			text = strconv.FormatFloat(n, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("number held as %T", v)
		}
		switch name {
		case "order_count":
			return strconv.ParseInt(text, 10, 64)
		case "predicted_clv":
			return strconv.ParseFloat(text, 64)
		}
		return json.Number(text), nil
	}
	return v, nil
}

// expectPlanDay1 checks the first plan: every readable row is new with all
// its attributes; the bad rows are errors.
func expectPlanDay1(t *testing.T, s *snapshot, w *world, pre map[string]diff.Change, errs []error) {
	t.Helper()
	var problems []string
	for _, u := range s.users {
		ch, ok := pre[u.key]
		if u.badDOB != "" {
			if ok {
				problems = append(problems, u.key+": bad row planned")
			}
			continue
		}
		if !ok {
			problems = append(problems, u.key+": not planned")
			continue
		}
		if ch.Status != diff.New {
			problems = append(problems, fmt.Sprintf("%s: status %s, want new", u.key, ch.Status))
		}
		got := map[string]any{}
		for _, a := range ch.Attrs {
			if !a.Value.IsNull() {
				got[a.Name] = a.Value.Any()
			}
		}
		if d := attrDiff(w.kinds, s.desired(u), got); len(d) > 0 {
			problems = append(problems, fmt.Sprintf("%s (row %d): mapped %s", u.key, w.rows[u.key], strings.Join(d, ", ")))
		}
	}
	if len(pre) != len(s.users)-countBad(s) {
		problems = append(problems, fmt.Sprintf("%d keys planned, want %d", len(pre), len(s.users)-countBad(s)))
	}
	inputErrs := 0
	for _, err := range errs {
		var ie *amperity.InputError
		switch {
		case errors.As(err, &ie):
			inputErrs++
		case errors.Is(err, diff.ErrIncompleteSnapshot):
		default:
			problems = append(problems, "unexpected plan error: "+err.Error())
		}
	}
	if inputErrs != countBad(s) {
		problems = append(problems, fmt.Sprintf("%d input errors, want %d", inputErrs, countBad(s)))
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Fatalf("day 1 plan: %d problems: %s", len(problems), short(problems, 15))
	}
}

func countBad(s *snapshot) int {
	n := 0
	for _, u := range s.users {
		if u.badDOB != "" {
			n++
		}
	}
	return n
}

// expectPlanDay2 checks the plan of the second export before it is sent:
// exactly the attributes that changed in value (not in spelling), the new
// users, the users Braze never accepted, and removals for the users who
// vanished.
func expectPlanDay2(t *testing.T, s *snapshot, ev evolution, w *world, pre map[string]diff.Change, errs []error, audiences []string) {
	t.Helper()
	var problems []string
	for _, err := range errs {
		problems = append(problems, "unexpected plan error: "+err.Error())
	}
	want := map[string]bool{}
	kinds := s.kinds()
	for _, u := range s.users {
		ch, ok := pre[u.key]
		switch {
		case w.rejectedState[u.key] && ev.changed[u.key] == nil:
			// Rejected yesterday, unchanged: not sent again.
			if ok {
				problems = append(problems, fmt.Sprintf("%s: rejected yesterday and unchanged, planned again %v", u.key, attrValues(ch)))
			}
		case w.rejectedState[u.key] && !ok:
			// Rejected yesterday, and what changed is only the removal of
			// values Braze never held: nothing to send.
		case !w.inState[u.key]: // new, or rejected, or unreadable yesterday
			want[u.key] = true
			if !ok {
				problems = append(problems, u.key+": never accepted, not planned")
				continue
			}
			got := map[string]any{}
			for _, a := range ch.Attrs {
				if !a.Value.IsNull() {
					got[a.Name] = a.Value.Any()
				}
			}
			if d := attrDiff(kinds, s.desired(u), got); len(d) > 0 {
				problems = append(problems, fmt.Sprintf("%s: never accepted, planned %s without its full record: %s", u.key, ch.Status, strings.Join(d, ", ")))
			}
		case ev.changed[u.key] != nil:
			want[u.key] = true
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: changed %v, not planned", u.key, keys(ev.changed[u.key])))
				continue
			}
			got := map[string]bool{}
			for _, a := range ch.Attrs {
				got[a.Name] = true
			}
			if missing, extra := setDiff(ev.changed[u.key], got); len(missing)+len(extra) > 0 {
				problems = append(problems, fmt.Sprintf("%s (row %d): planned %v, want the changed %v", u.key, w.rows[u.key], attrValues(ch), keys(ev.changed[u.key])))
			}
			desired := s.desired(u)
			for _, a := range ch.Attrs {
				if !same(kinds[a.Name], desired[a.Name], a.Value.Any()) {
					problems = append(problems, fmt.Sprintf("%s: %s planned as %v, want %v", u.key, a.Name, a.Value, desired[a.Name]))
				}
			}
		}
	}
	for k := range ev.vanished {
		if !w.inState[k] {
			// Sent but never accepted: after an ambiguous failure its
			// state is "unknown", so a removal may be planned.
			if ch, ok := pre[k]; ok && w.sent[k] && ch.Status == diff.Removed {
				want[k] = true
			}
			continue
		}
		want[k] = true
		ch, ok := pre[k]
		if !ok {
			problems = append(problems, k+": vanished, no removal planned")
			continue
		}
		if ch.Status != diff.Removed {
			problems = append(problems, fmt.Sprintf("%s: vanished, planned as %s", k, ch.Status))
		}
		for _, a := range ch.Attrs {
			wantV := any(nil)
			if slices.Contains(audiences, a.Name) {
				wantV = false
			}
			if a.Value.Any() != wantV {
				problems = append(problems, fmt.Sprintf("%s: vanished, %s removed as %v, want %v", k, a.Name, a.Value, wantV))
			}
		}
	}
	for k, ch := range pre {
		if !want[k] {
			problems = append(problems, fmt.Sprintf("%s (row %d): nothing changed in value, but planned %s %v", k, w.rows[k], ch.Status, attrValues(ch)))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Errorf("day 2 plan: %d problems: %s", len(problems), short(problems, 15))
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkFaultsHappened makes sure the suite did what it claims: the faults
// of the regime hit requests, so passing means surviving them.
func (h *harness) checkFaultsHappened(n int) {
	t := h.t
	statuses, cuts, _ := h.fake.tally()
	total := cuts
	for _, c := range statuses {
		total += c
	}
	t.Logf("fake answered %d requests: %v, %d connections cut; %+v", total, statuses, cuts, h.fake.Stats())
	if statuses[201]+statuses[200] == 0 {
		t.Errorf("the fake accepted no request")
	}
	if total < 150 {
		return // too few requests to expect every fault
	}
	for _, code := range []int{429, 503} {
		if statuses[code] == 0 {
			t.Errorf("no request was answered %d: the fault regime did not run", code)
		}
	}
	if cuts == 0 {
		t.Errorf("no connection was cut: the fault regime did not run")
	}
	if h.fake.Stats().ObjectErrors == 0 {
		t.Errorf("the fake rejected no object")
	}
}

// checkNoKeyLeak searches everything the sync produced for the API key:
// logs (at debug level), every error seen, the rejects report, the fake's
// recorded request dumps, and every request body.
func (h *harness) checkNoKeyLeak() {
	t := h.t
	logs := h.logs.String()
	if len(logs) == 0 {
		t.Errorf("no log output at debug level: the key check would be vacuous")
	}
	if strings.Contains(logs, h.apiKey) {
		i := strings.Index(logs, h.apiKey)
		t.Errorf("the API key appears in the logs: ...%s...", logs[max(0, i-200):i])
	}
	for text := range h.errTexts {
		if strings.Contains(text, h.apiKey) {
			t.Errorf("the API key appears in an error: %s", strings.ReplaceAll(text, h.apiKey, "<KEY>"))
		}
	}
	if len(h.errTexts) == 0 {
		t.Errorf("no error was seen: the key check of errors would be vacuous")
	}
	if b, err := os.ReadFile(h.reports.Name()); err != nil || strings.Contains(string(b), h.apiKey) {
		t.Errorf("the API key appears in the rejects report (or it cannot be read: %v)", err)
	}
	reqs := h.fake.Requests()
	if len(reqs) == 0 {
		t.Errorf("the fake recorded no request")
	}
	for _, r := range reqs {
		if dump := fmt.Sprintf("%+v %#v", r, r); strings.Contains(dump, h.apiKey) {
			t.Errorf("the API key appears in the fake's dump of request %d", r.Seq)
		}
	}
	if _, _, n := h.fake.tally(); n > 0 {
		t.Errorf("the API key appears in %d request bodies", n)
	}
	for _, s := range []string{h.client.String(), fmt.Sprintf("%v %+v %#v", h.client, h.client, h.client)} {
		if strings.Contains(s, h.apiKey) {
			t.Errorf("the API key appears in the client's description: %s", s)
		}
	}
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

// checkLedger checks that, for every key of the world, the attributes
// mustSend gives were accepted by Braze during the day's runs, with those
// values (nil values included: a removal is an update too).
func (h *harness) checkLedger(w *world, mustSend func(key string) map[string]any) {
	t := h.t
	t.Helper()
	var lost []string
	keys := map[string]bool{}
	for k := range w.want {
		keys[k] = true
	}
	for _, u := range w.snap.users {
		keys[u.key] = true
	}
	for k := range keys {
		for name, v := range mustSend(k) {
			got, ok := h.ledger[k][name]
			switch {
			case !ok:
				lost = append(lost, fmt.Sprintf("%s.%s (never accepted)", k, name))
			case v == nil || got == nil:
				if v != got {
					lost = append(lost, fmt.Sprintf("%s.%s: accepted %v, want %v", k, name, got, v))
				}
			case !same(w.kinds[name], v, got):
				lost = append(lost, fmt.Sprintf("%s.%s: accepted %v, want %v", k, name, got, v))
			}
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		t.Errorf("%d attribute updates lost: %s", len(lost), short(lost, 10))
	}
}
