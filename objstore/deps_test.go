package objstore

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRegression_Issue16_NoCloudSDKLinked: objstore and currents, which
// reads from its stores, link no cloud SDK and not each other's callers:
// the adapters live in subpackages, and objstore is neutral between
// currents and amperity.
func TestRegression_Issue16_NoCloudSDKLinked(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no go command on PATH to list the dependencies with: %v", err)
		}
		t.Skipf("no go command on PATH to list the dependencies with (%v); CI runs this test", err)
	}
	for pkg, banned := range map[string][]string{
		"github.com/ampbraze/ampbraze/objstore": {"aws", "cloud.google.com", "googleapis", "azure", "/currents", "/amperity"},
		"github.com/ampbraze/ampbraze/currents": {"aws", "cloud.google.com", "googleapis", "azure", "/amperity"},
	} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if strings.Contains(dep, b) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
