package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/ampbraze/ampbraze/diff"
)

// -update-existing-only sends _update_existing_only: true, Amperity's
// "Update existing profiles only?": Braze updates the users it holds and
// creates none. Braze answers success for a user it skipped, and nothing
// in its answer says which users were skipped. Recorded as sent, a
// skipped user's attributes would never be sent again, not even once the
// user is created in Braze (by an app sign-up, say), and a later change
// would be sent without the flag, creating the profile. So such a run
// records nothing: its plan is a diff.WithDryRun plan (acknowledgements
// only count) on a scope that holds no users, every user of the export is
// new to it, and every run sends each user in full, with the flag. A user
// created in Braze between two runs gets its attributes at the next run.
// The price is the delta: every run sends the whole export.

// checkUpdateExistingOnly refuses the flags that need a state the run
// does not keep.
func checkUpdateExistingOnly(c *config, maxRemoved, maxChanged string) error {
	if !c.updateExistingOnly {
		return nil
	}
	switch {
	case c.fullSnapshot:
		return errors.New("-update-existing-only records nothing in the state, so it cannot know which users left the export: it cannot be combined with -full-snapshot")
	case maxRemoved != "" || maxChanged != "":
		return errors.New("-max-removed and -max-changed count users against the state, which -update-existing-only does not keep: leave them out")
	}
	return nil
}

// checkScopeForUpdateOnly refuses a scope that holds users synced without
// -update-existing-only. Its runs record nothing, so the scope's state
// would go on saying what Braze held before them, and a later run without
// the flag would skip a value that went back to what the state holds
// while Braze holds what -update-existing-only sent since.
func checkScopeForUpdateOnly(ctx context.Context, eng *diff.Engine, scope string) error {
	n, err := eng.ScopeKeys(ctx, scope)
	if err != nil {
		return fmt.Errorf("-update-existing-only: reading scope %q: %w", scope, err)
	}
	if n > 0 {
		return fmt.Errorf("-update-existing-only: scope %q holds %d users synced without it; give this sync a -scope of its own (its runs record nothing)", scope, n)
	}
	return nil
}
