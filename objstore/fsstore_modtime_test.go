package objstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"
	"time"
)

// TestFSStoreModTime: a folder listing reports each file's modification
// time, through List and ListDir alike, and a followed link reports its
// target's; folders have none.
func TestFSStoreModTime(t *testing.T) {
	t1 := time.Date(2025, 4, 1, 17, 5, 0, 0, time.UTC)
	t2 := time.Date(2025, 4, 2, 8, 30, 0, 0, time.UTC)
	check := func(t *testing.T, s *FSStore, want map[string]time.Time) {
		t.Helper()
		got := map[string]time.Time{}
		for obj, err := range s.List(context.Background(), "") {
			if err != nil {
				t.Fatal(err)
			}
			got[obj.Key] = obj.ModTime
		}
		for e, err := range s.ListDir(context.Background(), "d/") {
			if err != nil {
				t.Fatal(err)
			}
			if e.IsDir != e.ModTime.IsZero() {
				t.Errorf("ListDir entry %+v: a file has a time, a folder none", e)
			}
			if !e.IsDir && !e.ModTime.Equal(got[e.Key]) {
				t.Errorf("ListDir %s: ModTime %v, List %v", e.Key, e.ModTime, got[e.Key])
			}
		}
		if len(got) != len(want) {
			t.Errorf("listed %v, want %v", got, want)
		}
		for k, w := range want {
			if !got[k].Equal(w) {
				t.Errorf("%s: ModTime %v, want %v", k, got[k], w)
			}
		}
	}
	t.Run("MapFS", func(t *testing.T) {
		s := NewFSStore(fstest.MapFS{
			"d/a":   {Data: []byte("1"), ModTime: t1},
			"d/e/b": {Data: []byte("2"), ModTime: t2},
		})
		check(t, s, map[string]time.Time{"d/a": t1, "d/e/b": t2})
	})
	t.Run("DirFS", func(t *testing.T) {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "d", "e"), 0o755)
		for name, tm := range map[string]time.Time{"d/a": t1, "d/e/b": t2} {
			p := filepath.Join(root, filepath.FromSlash(name))
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, tm, tm); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]time.Time{"d/a": t1, "d/e/b": t2}
		if runtime.GOOS != "windows" {
			if err := os.Symlink(filepath.Join(root, "d", "e", "b"), filepath.Join(root, "d", "link")); err != nil {
				t.Fatal(err)
			}
			want["d/link"] = t2 // the target's time
		}
		check(t, NewFSStore(os.DirFS(root)), want)
	})
}

// TestFSStoreSymlinkErrors: a dangling link and a link to a directory are
// *ObjectErrors matching ErrSymlink, naming the link; the listing goes on.
func TestFSStoreSymlinkErrors(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows; the Unix runs check this")
	}
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "dir"), 0o755)
	os.WriteFile(filepath.Join(root, "z"), []byte("z"), 0o644)
	if err := os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "a-dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "dir"), filepath.Join(root, "b-todir")); err != nil {
		t.Fatal(err)
	}
	var keys, errKeys []string
	for obj, err := range NewFSStore(os.DirFS(root)).List(context.Background(), "") {
		if err != nil {
			var oe *ObjectError
			if !errors.As(err, &oe) || !errors.Is(err, ErrSymlink) {
				t.Fatalf("error %v is not an *ObjectError matching ErrSymlink", err)
			}
			errKeys = append(errKeys, oe.Key)
			continue
		}
		keys = append(keys, obj.Key)
	}
	if len(errKeys) != 2 || errKeys[0] != "a-dangling" || errKeys[1] != "b-todir" || len(keys) != 1 || keys[0] != "z" {
		t.Errorf("errors for %q, objects %q", errKeys, keys)
	}
}
