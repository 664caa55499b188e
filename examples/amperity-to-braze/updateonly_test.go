package main

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// signUp creates a profile in the fake Braze the way an app sign-up
// would: not through this program.
func signUp(t *testing.T, fake *brazetest.Server, id string) {
	t.Helper()
	ua, err := braze.NewUserAttributes("external_id", id, maps.All(map[string]any{"signed_up_in_app": true}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Client().Track(context.Background(), braze.TrackRequest{Attributes: []*braze.UserAttributes{ua}}); err != nil {
		t.Fatal(err)
	}
}

func userIDs(fake *brazetest.Server) []string {
	var ids []string
	for _, u := range fake.Users() {
		ids = append(ids, u.ExternalID)
	}
	slices.Sort(ids)
	return ids
}

// With -update-existing-only, Braze ends up holding the export's values
// for the users it already had, creates no other, and a user created in
// Braze after a run gets its attributes at the next run, although the
// export did not change.
func TestUpdateExistingOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	signUp(t, f.fake, "C-1001")
	signUp(t, f.fake, "C-1002")
	args := []string{"-input", f.path("day1.csv"), "-update-existing-only", "-scope", "braze:existing-only"}

	code, out, errOut := f.run(ctx, args...)
	if code != exitOK {
		t.Fatalf("run 1: exit %d\n%s\n%s", code, out, errOut)
	}
	if got, want := userIDs(f.fake), []string{"C-1001", "C-1002"}; !slices.Equal(got, want) {
		t.Fatalf("run 1: Braze holds %q, want %q (no profile created)", got, want)
	}
	u, _ := f.fake.User("C-1001")
	if u.Attributes["loyalty_tier"] != "gold" || u.Attributes["first_name"] != "Ada" || u.Attributes["signed_up_in_app"] != true {
		t.Errorf("run 1: C-1001 = %v", u.Attributes)
	}
	// Every object of every request carried the flag.
	objects := 0
	for _, r := range f.fake.Requests() {
		if r.Path != "/users/track" || strings.Contains(r.Body, `"signed_up_in_app"`) {
			continue
		}
		var body struct {
			Attributes []map[string]any `json:"attributes"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatal(err)
		}
		for _, a := range body.Attributes {
			objects++
			if a["_update_existing_only"] != true {
				t.Errorf("object without _update_existing_only: true: %v", a)
			}
		}
	}
	if objects != 8 {
		t.Errorf("run 1 sent %d objects, want all 8 users of the export", objects)
	}

	// C-1003 signs up in the app; the export has not changed. A delta
	// state that had recorded run 1 would send nothing now.
	signUp(t, f.fake, "C-1003")
	if code, out, errOut := f.run(ctx, args...); code != exitOK {
		t.Fatalf("run 2: exit %d\n%s\n%s", code, out, errOut)
	}
	if got, want := userIDs(f.fake), []string{"C-1001", "C-1002", "C-1003"}; !slices.Equal(got, want) {
		t.Fatalf("run 2: Braze holds %q, want %q", got, want)
	}
	u, _ = f.fake.User("C-1003")
	if u.Attributes["loyalty_tier"] != "silver" || u.Attributes["last_name"] != "Turing" || u.Attributes["country"] != "GB" {
		t.Errorf("run 2: C-1003 = %v, want the export's attributes", u.Attributes)
	}

	// A sync without the flag on that scope then sends everything, since
	// the scope recorded nothing, and creates the other users.
	if code, out, errOut := f.run(ctx, "-input", f.path("day1.csv"), "-scope", "braze:existing-only"); code != exitOK {
		t.Fatalf("run without the flag: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := len(f.fake.Users()); n != 8 {
		t.Errorf("run without the flag: Braze holds %d users, want 8", n)
	}
	// Now that the scope holds users, the flag is refused on it: its runs
	// would leave that state stale.
	code, _, errOut = f.run(ctx, args...)
	if code != exitFatal || !strings.Contains(errOut, `scope \"braze:existing-only\" holds 8 users synced without it; give this sync a -scope of its own`) {
		t.Errorf("flag on a scope with users: exit %d\n%s", code, errOut)
	}
}

func TestUpdateExistingOnlyRefusesFlagsThatNeedState(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-full-snapshot", "-scope", "braze:snap"}, "cannot be combined with -full-snapshot"},
		{[]string{"-max-changed", "10%"}, "-max-removed and -max-changed count users against the state"},
	} {
		args := append([]string{"-input", f.path("day1.csv"), "-update-existing-only"}, tt.args...)
		code, _, errOut := f.run(context.Background(), args...)
		if code != exitFatal || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, want stderr with %q:\n%s", tt.args, code, tt.want, errOut)
		}
	}
	if n := len(f.fake.Users()); n != 0 {
		t.Errorf("refused runs created %d users", n)
	}
}
