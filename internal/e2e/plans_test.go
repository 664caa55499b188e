package e2e

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/diff"
)

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
		if ch.Delta != diff.DeltaNew {
			problems = append(problems, fmt.Sprintf("%s: status %s, want new", u.key, ch.Delta))
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
				problems = append(problems, fmt.Sprintf("%s: never accepted, planned %s without its full record: %s", u.key, ch.Delta, strings.Join(d, ", ")))
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
			if ch, ok := pre[k]; ok && w.sent[k] && ch.Delta == diff.DeltaRemoved {
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
		if ch.Delta != diff.DeltaRemoved {
			problems = append(problems, fmt.Sprintf("%s: vanished, planned as %s", k, ch.Delta))
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
			problems = append(problems, fmt.Sprintf("%s (row %d): nothing changed in value, but planned %s %v", k, w.rows[k], ch.Delta, attrValues(ch)))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Errorf("day 2 plan: %d problems: %s", len(problems), short(problems, 15))
	}
}
