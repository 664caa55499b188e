package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
	"github.com/ampbraze/ampbraze/objstore"
)

// retentionSetup exports a corpus of 48 files, 24 queued at 10:00 and 24
// at 11:00, then deletes the 10:00 ones from the input, as a bucket's
// lifecycle rule does. It returns the input and output folders and the
// ids exported.
func retentionSetup(t *testing.T) (in, out string, want map[string][]string) {
	t.Helper()
	in, out = t.TempDir(), t.TempDir()
	want = writeCorpus(t, in, 48, 2)
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out); code != exitOK || !strings.Contains(stdout, "Read 48 files") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	gone := 0
	filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasSuffix(path, "date=2026-11-27-10") {
			gone++
			if err := os.RemoveAll(path); err != nil {
				return err
			}
			return fs.SkipDir
		}
		return err
	})
	if gone != 2 { // one folder per event type
		t.Fatalf("removed %d hour folders, want 2", gone)
	}
	return in, out, want
}

// checkDone fails unless the checkpoint in out marks exactly the corpus
// files from..to-1 done.
func checkDone(t *testing.T, out string, from, to int) {
	t.Helper()
	done := doneFiles(t, out)
	for n := range 48 {
		if done[n] != (n >= from && n < to) {
			t.Fatalf("checkpoint marks %d files done (file %d: %v), want files %d to %d", len(done), n, done[n], from, to-1)
		}
	}
}

// A run that lists the whole input forgets the checkpoint keys of files
// queued before the oldest file the input still holds, and exports
// nothing again: the checkpoint does not grow with every file ever read.
func TestCheckpointForgetsFilesTheInputNoLongerHolds(t *testing.T) {
	in, out, want := retentionSetup(t)
	checkDone(t, out, 0, 48)
	code, stdout, stderr := runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(stdout, "Read 0 files") {
		t.Fatalf("run after the deletion: exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkDone(t, out, 24, 48)
	if !strings.Contains(stderr, "the checkpoint forgets") || !strings.Contains(stderr, "files=24") {
		t.Errorf("the run does not say what it forgot:\n%s", stderr)
	}
	checkExactlyOnce(t, out, want)
	code, stdout, stderr = runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(stdout, "Read 0 files") {
		t.Fatalf("next run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkExactlyOnce(t, out, want)
}

// No key is forgotten on a listing that may not be the checkpoint's whole
// input: narrowed by -types, -from or -to; an empty folder; a folder whose
// files the checkpoint does not know (an -input typo).
func TestCheckpointForgetsNothingOnANarrowListing(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(in string) []string
	}{
		{"types", func(in string) []string {
			return []string{"-input", in, "-types", "users.messages.email.Send,users.messages.email.Open"}
		}},
		{"from", func(in string) []string { return []string{"-input", in, "-from", "2026-01-01"} }},
		{"to", func(in string) []string { return []string{"-input", in, "-to", "2027-01-01"} }},
		{"empty folder", func(string) []string { return []string{"-input", t.TempDir()} }},
		{"another folder", func(in string) []string {
			// One file the checkpoint does not know, queued at 11:00.
			other := t.TempDir()
			err := filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
				if err != nil || !strings.HasSuffix(path, fmt.Sprintf("+0+%010d.avro", 30)) {
					return err
				}
				rel, _ := filepath.Rel(in, path)
				to := filepath.Join(other, strings.Replace(rel, "+0+0000000030.avro", "+0+0000000099.avro", 1))
				b, err := os.ReadFile(path)
				if err == nil {
					err = os.MkdirAll(filepath.Dir(to), 0o755)
				}
				if err == nil {
					err = os.WriteFile(to, b, 0o644)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return []string{"-input", other}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out, _ := retentionSetup(t)
			code, stdout, stderr := runExport(t, append(tc.args(in), "-out", out)...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if strings.Contains(stderr, "the checkpoint forgets") {
				t.Errorf("the run forgot keys:\n%s", stderr)
			}
			checkDone(t, out, 0, 48)
		})
	}
}

// BenchmarkForgetGone measures forgetting by folder (forgetGone) against
// the plain way, Prune with currents.QueuedBefore, which builds and
// parses every key, on a checkpoint of a million Currents keys (10 event
// types, 12 files an hour, about 11 months). Nothing is older than the
// cutoff, as in most runs: both walk every key and forget none.
func BenchmarkForgetGone(b *testing.B) {
	cp, err := objstore.OpenFileCheckpoint(filepath.Join(b.TempDir(), "checkpoint"))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := 0
	for hour := 0; keys < 1_000_000; hour++ {
		for typ := range 10 {
			for n := range 12 {
				cp.MarkDone(context.Background(), currentsdemo.Key("currents", fmt.Sprintf("users.messages.email.Type%d", typ), start.Add(time.Duration(hour)*time.Hour), n))
				keys++
			}
		}
	}
	w := &listingWatch{lookupOnly: lookupOnly{cp}, oldest: start.Format(dateLayout), sawDone: true}
	var byFolder, byKey time.Duration
	for b.Loop() {
		t0 := time.Now()
		if n, _ := w.forgetGone(""); n != 0 {
			b.Fatalf("forgot %d", n)
		}
		t1 := time.Now()
		if n := cp.Prune(currents.QueuedBefore(start)); n != 0 {
			b.Fatalf("forgot %d", n)
		}
		byFolder, byKey = byFolder+t1.Sub(t0), byKey+time.Since(t1)
	}
	b.ReportMetric(float64(byFolder.Nanoseconds())/float64(b.N*keys), "ns/key")
	b.ReportMetric(float64(byKey.Nanoseconds())/float64(b.N*keys), "baseline-ns/key")
	b.ReportMetric(float64(byKey)/float64(byFolder), "speedup")
}

func TestFolderQueuedBefore(t *testing.T) {
	hour := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	for folder, want := range map[string]bool{
		"c/dataexport.S3.integration.x/event_type=a/date=2026-11-27-10/version=1/us-01/": true,
		"event_type=a/date=2026-11-27-10/":                                               true,
		"c/event_type=a/date=2026-11-27-11/":                                             false, // the hour itself
		"c/event_type=a/date=2026-11-28-00/":                                             false,
		"c/date=2026-11-27-10/":                                                          false, // no event_type=
		"c/event_type=a/":                                                                false, // no date=
		"c/event_type=a/date=2026-11-27/":                                                false, // not an hour
		"c/event_type=a/date=2026-11-27-10/date=2026-11-27-09/":                          false, // two
		"": false,
	} {
		if got := folderQueuedBefore(folder, hour); got != want {
			t.Errorf("folderQueuedBefore(%q) = %v, want %v", folder, got, want)
		}
	}
}

func TestDateFolder(t *testing.T) {
	for key, want := range map[string]string{
		"c/dataexport.S3.integration.x/event_type=a/date=2026-11-27-10/version=1/us-01/f.avro": "2026-11-27-10",
		"date=2026-11-27-10/f.avro":                       "2026-11-27-10",
		"c/xdate=2026-11-27-09/date=2026-11-27-10/f.avro": "2026-11-27-10", // not a date= folder first
		"c/date=2026-11-27/date=2026-11-27-10/f.avro":     "2026-11-27-10", // not an hour first
		"c/event_type=a/date=2026-11-27-10.avro":          "",              // the file's name
		"c/event_type=a/f.avro":                           "",
		"":                                                "",
	} {
		if got := dateFolder(key); got != want {
			t.Errorf("dateFolder(%q) = %q, want %q", key, got, want)
		}
	}
}
