package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// writeback starts the write-out of each writebackBytes as they are
// written, and a truncation moves it back, so that the bytes written after
// it are started too; the file's content is what was written.
func TestWriteback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "part")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &writeback{f: f}
	block := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	for range 9 {
		if _, err := w.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if w.off != 9<<20 || w.kicked != 8<<20 {
		t.Fatalf("off %d, kicked %d; want %d and %d", w.off, w.kicked, 9<<20, 8<<20)
	}
	if err := f.Truncate(3 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(3<<20, 0); err != nil {
		t.Fatal(err)
	}
	w.truncated(3 << 20)
	if w.off != 3<<20 || w.kicked != 3<<20 {
		t.Fatalf("after truncation: off %d, kicked %d", w.off, w.kicked)
	}
	for range 5 {
		if _, err := w.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if w.kicked != 7<<20 {
		t.Errorf("kicked %d, want %d", w.kicked, 7<<20)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Repeat(block, 8); !bytes.Equal(data, want) {
		t.Errorf("file holds %d bytes, want %d of the block", len(data), len(want))
	}
}
