package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
)

// The deduplicator's file grows by the new ids at each commit; a record
// torn by a crash is reported and ignored, and the ids committed before it
// still catch duplicates.
func TestRegression_Issue16_DedupeLogTornTail(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	writeCorpus(t, in, 6, 10)
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-commit-events", "20"); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	path := filepath.Join(out, ".currents-checkpoint.dedupe")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := currents.NewDeduper(24 * time.Hour)
	if err := d.LoadFile(path); err != nil || d.Stats().Held != 60 {
		t.Fatalf("load: %v, %d ids", err, d.Stats().Held)
	}
	// A crash in the middle of the next commit's append.
	torn := append(b, 0x90, 0x03, 'A', 0, 1, 2)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	// Every file again (a lost checkpoint): all are duplicates.
	os.Remove(filepath.Join(out, ".currents-checkpoint"))
	code, stdout, stderr := runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(stderr, "cut short by a crash") || !strings.Contains(stdout, "60 duplicates dropped") {
		t.Fatalf("after a torn tail: exit %d\n%s\n%s", code, stdout, stderr)
	}
	d = currents.NewDeduper(24 * time.Hour)
	if err := d.LoadFile(path); err != nil || d.Stats().TornTail != 0 {
		t.Errorf("the next commit did not replace the torn record: %v, %+v", err, d.Stats())
	}
}
