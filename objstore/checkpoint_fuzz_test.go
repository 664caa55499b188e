package objstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCheckpoint: any file opens without panicking, either as keys (that
// a save and reopen keep) or as a *CheckpointError; and any key, marked
// beside others, comes back from the file exactly.
func FuzzCheckpoint(f *testing.F) {
	f.Add([]byte("a\nb/c\n"), "k")
	f.Add([]byte("a\n\x00\x00\nb"), "a\x00b")
	f.Add([]byte("\"a\\nb\"\n\"bad\n"), "\r\n")
	f.Add([]byte("a\r\n"), `"x"`)
	f.Add([]byte(""), "p/t/x/t+0+1.avro")
	f.Fuzz(func(t *testing.T, content []byte, key string) {
		ctx := context.Background()
		dir := t.TempDir()
		path := filepath.Join(dir, "cp")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		cp, err := OpenFileCheckpoint(path)
		if err != nil {
			var ce *CheckpointError
			if !errors.As(err, &ce) || ce.Line < 1 {
				t.Fatalf("error %v is not a *CheckpointError naming a line", err)
			}
			return
		}
		want := cp.Len()
		for _, k := range []string{key, "d/" + key} {
			if had, _ := cp.Done(ctx, k); !had {
				want++
			}
		}
		cp.MarkDone(ctx, key)
		cp.MarkDone(ctx, "d/"+key)
		if err := cp.Save(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); strings.ContainsAny(string(b), "\r\x00") {
			t.Fatalf("saved a raw CR or NUL: %q", b)
		}
		re, err := OpenFileCheckpoint(path)
		if err != nil {
			t.Fatalf("reopening a saved checkpoint: %v", err)
		}
		if got, _ := re.Done(ctx, key); !got || re.Len() != want || re.Torn() != 0 {
			t.Fatalf("key %q: done %v, Len %d want %d, Torn %d", key, got, re.Len(), want, re.Torn())
		}
		if got, _ := re.Done(ctx, "d/"+key); !got {
			t.Fatalf("key %q lost", "d/"+key)
		}
	})
}
