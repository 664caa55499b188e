package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
	"github.com/ampbraze/ampbraze/diff"
)

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
			t.Errorf("verification plan: rejected user %s planned %s again although its data did not change: %v", k, ch.Delta, attrValues(ch))
		case allowed[k]:
			if ch.Delta != diff.DeltaRemoved {
				t.Errorf("verification plan: vanished rejected user %s planned as %s, want removed", k, ch.Delta)
			}
		default:
			extra = append(extra, fmt.Sprintf("%s %s %v", k, ch.Delta, attrNames(ch)))
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
		if (required[k] || allowed[k] || stillRejected[k]) && ch.Delta == diff.DeltaRemoved {
			continue
		}
		ds = append(ds, fmt.Sprintf("%s %s %v", k, ch.Delta, attrValues(ch)))
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
				rec.Attrs = append(rec.Attrs, diff.Attr{Name: name, Value: diff.AnyValue(v)})
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

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
