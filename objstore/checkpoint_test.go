package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// cpKey is a key laid out as Braze Currents names its files: the topic
// folder, and a file name that repeats the topic.
func cpKey(hour string, offset int) string {
	const topic = "dataexport.prod-01.S3.integration.0123456789abcdef01234567"
	return fmt.Sprintf("currents/%s/event_type=users.messages.email.Send/date=%s/version=6/us-01/%s+0+%d.avro", topic, hour, topic, offset)
}

func TestFileCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "done.txt")

	cp, err := OpenFileCheckpoint(path)
	if err != nil {
		t.Fatalf("open missing: %v", err)
	}
	if err := cp.Save(); err != nil { // nothing to save: no file created
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("Save of an unchanged checkpoint wrote a file: %v", err)
	}
	k1 := cpKey("2025-04-01-17", 1)
	k2 := cpKey("2025-04-03-00", 2)
	k3 := "not/a/currents/key.avro"
	for _, k := range []string{k2, k1, k3, k1} {
		if err := cp.MarkDone(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if done, _ := cp.Done(ctx, k1); !done {
		t.Error("k1 not done after MarkDone")
	}
	if done, _ := cp.Done(ctx, "other"); done {
		t.Error("unknown key done")
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{k1, k2, k3}
	slices.Sort(want)
	if string(b) != strings.Join(want, "\n")+"\n" {
		t.Errorf("file content:\n%s", b)
	}

	re, err := OpenFileCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if re.Len() != 3 {
		t.Errorf("reopened Len = %d", re.Len())
	}
	for _, k := range want {
		if done, _ := re.Done(ctx, k); !done {
			t.Errorf("%s lost on reopen", k)
		}
	}

	// Prune drops the keys drop reports, keeps the rest.
	if n := re.Prune(func(k string) bool { return strings.Contains(k, "/date=2025-04-01-") }); n != 1 {
		t.Errorf("Prune dropped %d", n)
	}
	if done, _ := re.Done(ctx, k1); done {
		t.Error("k1 kept after Prune")
	}
	if err := re.Save(); err != nil {
		t.Fatal(err)
	}
	re2, _ := OpenFileCheckpoint(path)
	if re2.Len() != 2 {
		t.Errorf("after prune and save: Len = %d", re2.Len())
	}

	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q", names)
	}
}

func TestFileCheckpointErrors(t *testing.T) {
	ctx := context.Background()
	// The directory of the checkpoint does not exist: Save fails, and says so.
	bad, _ := OpenFileCheckpoint(filepath.Join(t.TempDir(), "missing-dir", "cp"))
	bad.MarkDone(ctx, "k")
	var ce *CheckpointError
	if err := bad.Save(); !errors.As(err, &ce) || !strings.Contains(err.Error(), "checkpoint") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Save into a missing directory: %v", err)
	}
	// A path that is a directory cannot be opened as a checkpoint.
	if _, err := OpenFileCheckpoint(t.TempDir()); err == nil {
		t.Error("opened a directory as a checkpoint")
	}
}

func TestFileCheckpointConcurrent(t *testing.T) {
	ctx := context.Background()
	cp, _ := OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				k := cpKey("2025-04-01-17", g*1000+i)
				cp.MarkDone(ctx, k)
				cp.Done(ctx, k)
				if i%25 == 0 {
					if err := cp.Save(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	if cp.Len() != 400 {
		t.Errorf("Len = %d", cp.Len())
	}
}

func TestFileCheckpointKeyForms(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp")
	cp, _ := OpenFileCheckpoint(path)
	const topic = "dataexport.prod-01.S3.integration.0123456789abcdef01234567"
	keys := []string{
		"a", "/a", "a/", "//a", "a//b",
		topic + "+0+1.avro",                        // no directory
		"p/" + topic + "/x/" + topic + "+0+1.avro", // name compressed
		"p/" + topic + "/x/" + topic,               // the topic alone: not compressed
		"p/" + topic + "/x/" + topic + "x+0+1.avro",
		"p/" + topic + "/x/+0+1.avro", // would collide with a compressed name without the mark
		"p/" + topic + "/x/other.avro",
	}
	for _, k := range keys {
		if err := cp.MarkDone(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if cp.Len() != len(keys) {
		t.Fatalf("Len = %d, want %d", cp.Len(), len(keys))
	}
	for _, k := range []string{"b", "/b", "p/" + topic + "/x/" + topic + "+0+2.avro", "p/" + topic + "/y/" + topic + "+0+1.avro"} {
		if done, _ := cp.Done(ctx, k); done {
			t.Errorf("%q reported done", k)
		}
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := slices.Sorted(slices.Values(keys))
	if string(b) != strings.Join(want, "\n")+"\n" {
		t.Errorf("saved:\n%q\nwant\n%q", strings.Split(string(b), "\n"), want)
	}
	re, err := OpenFileCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if done, _ := re.Done(ctx, k); !done {
			t.Errorf("%q lost on reopen", k)
		}
	}
}

func TestFileCheckpointAppends(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp")
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cp, _ := OpenFileCheckpoint(path)
	cp.MarkDone(ctx, "b")
	cp.MarkDone(ctx, "a")
	if err := cp.Save(); err != nil { // no file yet: written whole, sorted
		t.Fatal(err)
	}
	cp.MarkDone(ctx, "d")
	cp.MarkDone(ctx, "c")
	cp.MarkDone(ctx, "a") // already there: not appended again
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "a\nb\nd\nc\n" {
		t.Fatalf("after an append: %q", got)
	}
	if err := cp.Save(); err != nil || read() != "a\nb\nd\nc\n" {
		t.Fatalf("an unchanged Save wrote: %q, %v", read(), err)
	}

	// A crash tore the last append: "e" and half of "ff" reached the disk,
	// then zeros where the file system had not written the data yet.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("e\n\x00\x00\x00\nf")
	f.Close()
	re, err := OpenFileCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if re.Len() != 5 {
		t.Errorf("Len = %d, want a to e", re.Len())
	}
	if done, _ := re.Done(ctx, "f"); done {
		t.Error("the torn key counts as done")
	}
	re.MarkDone(ctx, "ff")
	if err := re.Save(); err != nil { // the torn tail forces a rewrite
		t.Fatal(err)
	}
	if got := read(); got != "a\nb\nc\nd\ne\nff\n" {
		t.Errorf("after the rewrite: %q", got)
	}

	// The file vanished between saves: the append fails, and the next
	// Save rewrites it whole.
	re.MarkDone(ctx, "g")
	os.Remove(path)
	if err := re.Save(); err == nil {
		t.Fatal("append to a removed file succeeded")
	}
	if err := re.Save(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "a\nb\nc\nd\ne\nff\ng\n" {
		t.Errorf("after recovery: %q", got)
	}
}

// TestRegression_Issue16_CheckpointKeysRoundTrip: keys holding a NUL byte,
// a carriage return or a line feed used to be refused by MarkDone, and
// lines holding NUL or CR were silently dropped on opening. Every key now
// comes back exactly as marked, through both a rewrite and an append.
func TestRegression_Issue16_CheckpointKeysRoundTrip(t *testing.T) {
	ctx := context.Background()
	odd := []string{
		"", "a\x00b", "\x00", "\x00\x00x", "\x00+x", "a\rb", "a\r", "a\nb", "\n", `"quoted"`, `"`, "a\"b",
		"bad\xffutf8", "tab\there", "dir\x00/name", "dir/\x00name", "d/\x00+x", "d/t+x",
		"p/t/x/t+0+1.avro", "p/t/x/\x00+0+1.avro", // a name that looks like a compressed one
	}
	plain := []string{"a", "b/c", "p/t/x/t+0+2.avro"}
	for _, appendToo := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "cp")
		cp, err := OpenFileCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		marks := odd
		if appendToo {
			// The first Save rewrites; the odd keys go in by appends.
			for _, k := range plain {
				cp.MarkDone(ctx, k)
			}
			if err := cp.Save(); err != nil {
				t.Fatal(err)
			}
		} else {
			marks = append(slices.Clone(odd), plain...)
		}
		for _, k := range marks {
			if err := cp.MarkDone(ctx, k); err != nil {
				t.Fatalf("MarkDone(%q): %v", k, err)
			}
		}
		if err := cp.Save(); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if strings.ContainsAny(string(b), "\r\x00") {
			t.Errorf("the file holds a raw CR or NUL: %q", b)
		}
		re, err := OpenFileCheckpoint(path)
		if err != nil {
			t.Fatalf("reopen: %v\n%q", err, b)
		}
		want := append(slices.Clone(odd), plain...)
		if re.Len() != len(want) || re.Torn() != 0 {
			t.Errorf("append=%v: reopened Len = %d, Torn = %d, want %d keys and 0\n%q", appendToo, re.Len(), re.Torn(), len(want), b)
		}
		for _, k := range want {
			if done, _ := re.Done(ctx, k); !done {
				t.Errorf("append=%v: %q lost on reopen", appendToo, k)
			}
		}
		for _, k := range []string{"a\x00", "a\rc", "quoted", "p/t/x/+0+1.avro", "\x00x"} {
			if done, _ := re.Done(ctx, k); done {
				t.Errorf("append=%v: %q reported done", appendToo, k)
			}
		}
		// A rewrite of what was read gives the same keys again.
		re.Prune(func(string) bool { return false })
		re.MarkDone(ctx, "zz")
		re.rewrite = true
		if err := re.Save(); err != nil {
			t.Fatal(err)
		}
		re2, err := OpenFileCheckpoint(path)
		if err != nil || re2.Len() != len(want)+1 {
			t.Errorf("after a rewrite: %v, Len = %d", err, re2.Len())
		}
		for _, k := range want {
			if done, _ := re2.Done(ctx, k); !done {
				t.Errorf("append=%v: %q lost by a rewrite", appendToo, k)
			}
		}
	}
}

// TestRegression_Issue16_CheckpointDamage: a line that no Save writes is an
// error naming the file and the line, not a silently dropped key; the
// torn remains of an interrupted append are skipped, counted and logged.
func TestRegression_Issue16_CheckpointDamage(t *testing.T) {
	for _, tt := range []struct {
		name, content string
		line          int    // the error's line, 0 for none
		keys, torn    int    // when no error
		msg           string // in the error
	}{
		{"crlf", "a\r\nb\r\n", 1, 0, 0, "carriage return"},
		{"cr inside", "a\nb\rc\nd\n", 2, 0, 0, "carriage return"},
		{"bad quote", "a\n\"b\n", 2, 0, 0, "quoted key"},
		{"blank lines", "a\n\nb\n\n", 0, 2, 0, ""},
		{"torn tail", "a\nb\n\x00\x00\x00\nc\nd", 0, 3, 2, ""},
		{"no newline", "a\nb", 0, 1, 1, ""},
		{"old file", "a\nb/c\n\xff\xfe\n", 0, 3, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cp")
			os.WriteFile(path, []byte(tt.content), 0o644)
			var logged strings.Builder
			log := slog.New(slog.NewTextHandler(&logged, nil))
			cp, err := OpenFileCheckpoint(path, WithCheckpointLogger(log))
			if tt.line > 0 {
				var ce *CheckpointError
				if !errors.As(err, &ce) || ce.Line != tt.line || ce.Path != path || !strings.Contains(err.Error(), tt.msg) ||
					!strings.Contains(err.Error(), fmt.Sprintf("line %d", tt.line)) {
					t.Fatalf("got %v, want a *CheckpointError at line %d about %q", err, tt.line, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cp.Len() != tt.keys || cp.Torn() != tt.torn {
				t.Errorf("Len = %d, Torn = %d, want %d and %d", cp.Len(), cp.Torn(), tt.keys, tt.torn)
			}
			if tt.torn > 0 != strings.Contains(logged.String(), "torn") {
				t.Errorf("log: %q", logged.String())
			}
			if tt.torn > 0 {
				// The next Save rewrites the file without the torn lines.
				if err := cp.Save(); err != nil {
					t.Fatal(err)
				}
				re, err := OpenFileCheckpoint(path)
				if err != nil || re.Torn() != 0 || re.Len() != tt.keys {
					t.Errorf("after the rewrite: %v, Torn = %d, Len = %d", err, re.Torn(), re.Len())
				}
			}
		})
	}
}

// TestCheckpointRefuseTornLines: with RefuseTornLines a torn line is an
// error naming it, where the default skips it.
func TestCheckpointRefuseTornLines(t *testing.T) {
	for _, tt := range []struct {
		content string
		line    int
	}{
		{"a\n\x00\x00garbage\nb\n", 2},
		{"a\nb", 2},
		{"a\nb\n", 0},
	} {
		path := filepath.Join(t.TempDir(), "cp")
		os.WriteFile(path, []byte(tt.content), 0o644)
		cp, err := OpenFileCheckpoint(path, RefuseTornLines())
		var ce *CheckpointError
		switch {
		case tt.line == 0 && (err != nil || cp.Len() != 2):
			t.Errorf("%q: %v", tt.content, err)
		case tt.line > 0 && (!errors.As(err, &ce) || !errors.Is(err, ErrTornLine) || ce.Line != tt.line):
			t.Errorf("%q: got %v, want a torn line %d", tt.content, err, tt.line)
		}
	}
}

// PruneFolders forgets every key of the folders drop names, whatever the
// encoding of their names (a topic-repeating Currents name, a plain one),
// keeps the others, and the next Save rewrites the file without them.
func TestPruneFolders(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "checkpoint")
	cp, err := OpenFileCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	old := "c/dataexport.S3.integration.x/event_type=a/date=2025-04-01-10/"
	kept := []string{"c/dataexport.S3.integration.x/event_type=a/date=2025-04-01-11/dataexport.S3.integration.x+0+1.avro", "top.avro", "c/other"}
	for _, k := range append([]string{old + "dataexport.S3.integration.x+0+1.avro", old + "plain.avro", old + "\x00nul"}, kept...) {
		cp.MarkDone(ctx, k)
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	var asked []string
	n := cp.PruneFolders(func(folder string) bool {
		asked = append(asked, folder)
		return folder == old
	})
	slices.Sort(asked)
	if want := []string{"", "c/", old, "c/dataexport.S3.integration.x/event_type=a/date=2025-04-01-11/"}; n != 3 || !slices.Equal(asked, want) {
		t.Fatalf("PruneFolders dropped %d keys, asked about %q; want 3 and %q", n, asked, want)
	}
	if cp.Len() != 3 {
		t.Errorf("Len = %d after PruneFolders, want 3", cp.Len())
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}
	re, err := OpenFileCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(re.keys.all())
	want := slices.Sorted(slices.Values(kept))
	if !slices.Equal(got, want) {
		t.Errorf("after PruneFolders and Save the file holds %q, want %q", got, want)
	}
}
