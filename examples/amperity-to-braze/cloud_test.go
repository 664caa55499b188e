package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/gcstest"
)

// TestGCSFolderWithCheckpoint syncs a gs:// folder of exports from a GCS
// emulator the program finds through STORAGE_EMULATOR_HOST: both exports
// in key order, the rejected row named by its gs:// URL, and a rerun that
// finds nothing new. (The Azure forms go through the same input package,
// tested against Azurite there and in currents-export.)
func TestGCSFolderWithCheckpoint(t *testing.T) {
	f := newFixture(t)
	server := gcstest.Start(t, "acme")
	day1, _ := os.ReadFile(f.path("day1.csv"))
	day2, _ := os.ReadFile(f.path("day2.csv"))
	server.Put("acme", "braze/customers_2026-11-28.csv", day2, time.Time{})
	server.Put("acme", "braze/customers_2026-11-27.csv", day1, time.Time{})
	server.Put("acme", "braze/_SUCCESS", nil, time.Time{})
	server.Put("acme", "elsewhere/other.csv", []byte("not,an,export\n"), time.Time{})
	server.SetEnv(t)

	ctx := context.Background()
	code, out, errOut := f.run(ctx, "-input", "gs://acme/braze/")
	if code != exitRejected { // day 2's bad row
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects(); got != 8+3 {
		t.Errorf("sent %d objects, want 11", got)
	}
	if u, _ := f.fake.User("C-1001"); u.Attributes["loyalty_tier"] != "platinum" {
		t.Errorf("C-1001 loyalty_tier = %v: files applied out of order?", u.Attributes["loyalty_tier"])
	}
	if rej := f.rejects(); len(rej) != 1 || rej[0].File != "gs://acme/braze/customers_2026-11-28.csv" {
		t.Errorf("rejects = %+v", rej)
	}
	code, out, errOut = f.run(ctx, "-input", "gs://acme/braze/")
	if code != exitOK || !strings.Contains(out, "Nothing to sync") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
}
