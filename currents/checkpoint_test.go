package currents

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

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
	k1 := srcKey(typSend, "2025-04-01-17", 1)
	k2 := srcKey(typSend, "2025-04-03-00", 2)
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

	// Prune drops Currents keys queued before the hour, keeps the rest.
	if n := re.Prune(hour("2025-04-02-00")); n != 1 {
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
	cp, _ := OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	for _, k := range []string{"", "a\nb", "a\rb"} {
		if err := cp.MarkDone(ctx, k); err == nil {
			t.Errorf("MarkDone(%q) accepted", k)
		}
	}
	// The directory of the checkpoint does not exist: Save fails, and says so.
	bad, _ := OpenFileCheckpoint(filepath.Join(t.TempDir(), "missing-dir", "cp"))
	bad.MarkDone(ctx, "k")
	if err := bad.Save(); err == nil || !strings.Contains(err.Error(), "checkpoint") {
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
				k := srcKey(typSend, "2025-04-01-17", g*1000+i)
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
	if err := cp.MarkDone(ctx, "a\x00b"); err == nil {
		t.Error("NUL accepted")
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
