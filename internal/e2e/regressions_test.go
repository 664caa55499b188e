package e2e

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ampbraze/ampbraze"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
	"github.com/ampbraze/ampbraze/diff"
)

// TestAllObjectsRejectedIn400 is the regression test of a bug this suite
// found in package braze (fixed in 58edf01): when Braze rejects every
// object of a request one by one it answers 400 "Valid data must be
// provided..." with errors[] naming each object, and TrackAll reported
// every object as Failed with the request's *APIError instead of Rejected
// with its *ItemError, so permanently bad users were retried forever and
// never reported with their reason.
func TestAllObjectsRejectedIn400(t *testing.T) {
	srv := brazetest.NewServer(t)
	srv.RejectExternalIDs(func(string) bool { return true })
	c := srv.Client()
	ids := []string{"a", "b", "c"}
	updates := func(yield func(braze.Update) bool) {
		for _, id := range ids {
			a := &braze.UserAttributes{ExternalID: id}
			if err := a.Set("tier", "gold"); err != nil {
				t.Fatal(err)
			}
			if !yield(braze.Update{Attributes: a, Ref: id}) {
				return
			}
		}
	}
	var got []string
	for r := range c.TrackAll(context.Background(), updates) {
		got = append(got, r.Ref.(string))
		var ie *braze.ItemError
		if r.Kind() != braze.ResultRejected || !errors.As(r.Err, &ie) {
			t.Errorf("update %v: status %s, error %v (%T); want rejected with Braze's *braze.ItemError", r.Ref, r.Kind(), r.Err, r.Err)
			continue
		}
		if ie.Type != "'external_id' is blacklisted and disallowed" {
			t.Errorf("update %v: item error %q, want Braze's reason", r.Ref, ie.Type)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Errorf("results for %v, want one per update %v", got, ids)
	}
	if st := srv.Stats(); st.BadRequests != 1 || st.ObjectErrors != len(ids) {
		t.Errorf("fake stats %+v: the scenario is not the 400 with item errors", st)
	}
}

// syncOnce plans records on a full-snapshot scope and syncs them with
// ampbraze.Sync, as a caller would; it returns the changes planned.
func syncOnce(t *testing.T, eng *diff.Engine, c *braze.Client, recs []diff.Record) []diff.Change {
	t.Helper()
	ctx := context.Background()
	input := func(yield func(diff.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
	plan, err := eng.Plan(ctx, "s", input, diff.WithMode(diff.FullSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	var planned []diff.Change
	_, err = ampbraze.Sync(ctx, c, plan, ampbraze.WithOutcomes(func(o ampbraze.Outcome) {
		if o.Kind == ampbraze.OutcomeBadRecord {
			t.Errorf("plan: %v", o.Err)
		}
		planned = append(planned, o.Change)
	}))
	if err != nil {
		t.Fatal(err)
	}
	return planned
}

// TestRejectedUserLeavingSnapshotCreatesNoProfile is the regression test of
// a bug this suite found in package diff (Plan.Ack with braze's
// rejections): Ack with any error used to mark what the change carried as
// "unknown", since a failed send may have been applied, so a user Braze
// rejected and never stored got a state entry; when that user then left a
// full snapshot, the next plan sent a removal (nulls) that created an
// empty profile in Braze. braze's rejection errors now report NotApplied
// (diff.NotApplied), and Ack keeps the state as it was for them.
func TestRejectedUserLeavingSnapshotCreatesNoProfile(t *testing.T) {
	srv := brazetest.NewServer(t)
	srv.RejectObjects(func(o brazetest.Object) bool { return o.Fields["tier"] == "platinum+" }, "'tier' is not valid")
	c := srv.Client()
	eng, err := diff.NewEngine(context.Background(), diff.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()

	day1 := []diff.Record{
		{Key: "x", Attrs: []diff.Attr{{Name: "tier", Value: diff.AnyValue("platinum+")}}},
		{Key: "y", Attrs: []diff.Attr{{Name: "tier", Value: diff.AnyValue("gold")}}},
	}
	syncOnce(t, eng, c, day1)
	if _, ok := srv.User("x"); ok {
		t.Fatalf("x was rejected but has a profile: the scenario is broken")
	}
	// Day 2: x has left the export.
	planned := syncOnce(t, eng, c, day1[1:])
	for _, ch := range planned {
		if ch.Key == "x" {
			t.Errorf("day 2 plans %s %v for x, which Braze rejected and never stored", ch.Delta, attrValues(ch))
		}
	}
	if u, ok := srv.User("x"); ok {
		t.Errorf("Braze now has a profile for x (%v), a user it rejected and who has left the export", u.Attributes)
	}
}
