package diff_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
)

// TestMemoryStoreConformance runs the store conformance suite on
// MemoryStore, which keeps its contents through Close: reopening it is
// using it again, as a test "restarting the process" does.
func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) diff.Store { return diff.NewMemoryStore() },
		storetest.WithReopen(func(t *testing.T, closed diff.Store) diff.Store { return closed }))
}

// TestRegression_Issue15_NoStorageEngineLinked: importing diff (or
// amperity, which imports it) linked 58 pebble packages plus sentry,
// prometheus and protobuf. The pebble store now lives in diff/pebblestore;
// neither package depends on a storage engine.
func TestRegression_Issue15_NoStorageEngineLinked(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no go command on PATH to list the dependencies with: %v", err)
		}
		t.Skipf("no go command on PATH to list the dependencies with (%v); CI runs this test", err)
	}
	for _, pkg := range []string{"github.com/ampbraze/ampbraze/diff", "github.com/ampbraze/ampbraze/amperity"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, banned := range []string{"pebble", "sentry", "prometheus", "protobuf", "pgx", "redis"} {
				if strings.Contains(dep, banned) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
