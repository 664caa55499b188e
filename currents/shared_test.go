package currents_test

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedCurrents returns the folder of Braze's reference schemas and
// samples (../shared/currents relative to the repository root), or skips
// the test when it is absent: those files may not be copied into the
// repository, so the tests that read them run only where they exist.
func sharedCurrents(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("CURRENTS_SHARED"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "schemas")); err != nil {
			t.Skipf("skipping: CURRENTS_SHARED=%s holds no Braze reference data: %v", dir, err)
		}
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Skipf("skipping: cannot locate ../shared/currents: %v", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared", "currents")
			if _, err := os.Stat(filepath.Join(shared, "schemas")); err != nil {
				t.Skipf("skipping: Braze reference data not found at %s (set CURRENTS_SHARED to its folder)", shared)
			}
			return shared
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("skipping: no go.mod above the working directory, cannot locate ../shared/currents")
		}
		dir = parent
	}
}
