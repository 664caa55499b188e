package currents_test

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedCurrents returns the folder of Braze's reference schemas and
// samples (../shared/currents relative to the repository root), or skips
// the test when it is absent: Braze's licence forbids copying those files
// into the repository, so the tests that check the decoder against them
// run only where they exist. Every generated event type is still decoded,
// from files written with the package's own schemas, by
// TestEveryEventTypeRoundTrips, which needs none of them.
func sharedCurrents(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("CURRENTS_SHARED"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "schemas")); err != nil {
			t.Skipf("skipping: CURRENTS_SHARED=%s holds no Braze reference data (it may not be copied into the repository): %v", dir, err)
		}
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Skipf("skipping: cannot locate ../shared/currents, Braze's reference data (it may not be copied into the repository): %v", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared", "currents")
			if _, err := os.Stat(filepath.Join(shared, "schemas")); err != nil {
				t.Skipf("skipping: Braze's reference data, which may not be copied into the repository, is not at %s (set CURRENTS_SHARED to its folder)", shared)
			}
			return shared
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("skipping: no go.mod above the working directory, so ../shared/currents (Braze's reference data, not in the repository) cannot be located")
		}
		dir = parent
	}
}
