package e2e

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// knownBugsEnv makes the minimal tests of package bugs found by this suite
// fail (and turns off the suite's workarounds for them). Without it they
// log the bug as "KNOWN BUG" and pass, so that CI stays usable for
// everyone until the owning package is fixed; the assertion itself is
// always run.
const knownBugsEnv = "E2E_KNOWN_BUGS"

func knownBug(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv(knownBugsEnv) != "" {
		t.Errorf(format, args...)
		return
	}
	t.Logf("KNOWN BUG (set "+knownBugsEnv+"=1 to fail on it): "+format, args...)
}

// Known bug 1 (package braze, Client.TrackAll / sendBatch): when Braze
// rejects every object of a request one by one it answers 400 "Valid data
// must be provided..." with errors[] naming each object (see
// braze-users-track.md, "Fatal", and brazetest's process). TrackAll turns
// that into one *APIError for the whole request, so every object's Result
// is Failed ("may be sent again later") instead of Rejected with its
// *ItemError. A sync then retries permanently bad users forever and cannot
// report why they were refused. It happens as soon as the rejected users
// of a run fill whole requests, which is the normal state of the runs
// after the first: only they are left to send.
func TestKnownBugAllObjectsRejectedIn400(t *testing.T) {
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
		if r.Status() != braze.Rejected || !errors.As(r.Err, &ie) {
			knownBug(t, "update %v: status %s, error %v (%T); want rejected with Braze's *braze.ItemError", r.Ref, r.Status(), r.Err, r.Err)
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
