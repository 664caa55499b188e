package objstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func listKeys(t *testing.T, l Lister, prefix string) []string {
	t.Helper()
	var keys []string
	for obj, err := range l.List(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}

func TestFSStoreListOrderAndPrefix(t *testing.T) {
	fsys := fstest.MapFS{
		"a/x":       {Data: []byte("1")},
		"a-b/x":     {Data: []byte("22")},
		"a.avro":    {Data: []byte("333")},
		"b/c/d":     {Data: []byte("4444")},
		"b/c0":      {Data: []byte("5")},
		"b/c/e/f/g": {Data: []byte("6")},
		"empty":     {Mode: fs.ModeDir},
	}
	s := NewFSStore(fsys)
	tests := []struct {
		prefix string
		want   []string
	}{
		// Byte order of the whole key, as S3 lists: "a-b/x" < "a.avro" < "a/x".
		{"", []string{"a-b/x", "a.avro", "a/x", "b/c/d", "b/c/e/f/g", "b/c0"}},
		{"a", []string{"a-b/x", "a.avro", "a/x"}},
		{"a/", []string{"a/x"}},
		{"b/c", []string{"b/c/d", "b/c/e/f/g", "b/c0"}},
		{"b/c/", []string{"b/c/d", "b/c/e/f/g"}},
		{"b/c/e/f/g", []string{"b/c/e/f/g"}},
		{"zzz", nil},
	}
	for _, tt := range tests {
		if got := listKeys(t, s, tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	var sizes []int64
	for obj, err := range s.List(context.Background(), "b/") {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, obj.Size)
	}
	if !slices.Equal(sizes, []int64{4, 1, 1}) {
		t.Errorf("sizes = %v", sizes)
	}
}

// TestFSStoreListMatchesSortedKeys checks the walk against the definition:
// the sorted list of all keys with the prefix, on random trees whose names
// mix characters that sort before and after '/'.
func TestFSStoreListMatchesSortedKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "a-", "a.", "a0", "=", "+", "~"}
	for round := 0; round < 200; round++ {
		fsys := fstest.MapFS{}
		var all []string
		for i := 0; i < 1+r.IntN(25); i++ {
			depth := 1 + r.IntN(4)
			parts := make([]string, depth)
			for j := range parts {
				parts[j] = alphabet[r.IntN(len(alphabet))] + alphabet[r.IntN(len(alphabet))]
			}
			k := strings.Join(parts, "/")
			// A path cannot be both a file and a directory.
			clash := false
			for _, o := range all {
				if strings.HasPrefix(o, k+"/") || strings.HasPrefix(k, o+"/") || o == k {
					clash = true
				}
			}
			if !clash {
				fsys[k] = &fstest.MapFile{Data: []byte(k)}
				all = append(all, k)
			}
		}
		slices.Sort(all)
		prefix := ""
		if r.IntN(2) == 0 {
			prefix = all[r.IntN(len(all))]
			prefix = prefix[:r.IntN(len(prefix)+1)]
		}
		var want []string
		for _, k := range all {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		if got := listKeys(t, NewFSStore(fsys), prefix); !slices.Equal(got, want) {
			t.Fatalf("round %d: List(%q) = %q, want %q", round, prefix, got, want)
		}
	}
}

// failingDirFS fails ReadDir for one directory.
type failingDirFS struct {
	fstest.MapFS
	bad string
}

var errUnreadable = errors.New("unreadable directory")

func (f failingDirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errUnreadable}
	}
	return f.MapFS.ReadDir(name)
}

func TestFSStoreListContinuesAfterUnreadableDir(t *testing.T) {
	fsys := failingDirFS{MapFS: fstest.MapFS{"a/x": {}, "b/y": {}, "c/z": {}}, bad: "b"}
	var keys []string
	var errs []error
	for obj, err := range NewFSStore(fsys).List(context.Background(), "") {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keys = append(keys, obj.Key)
	}
	if !slices.Equal(keys, []string{"a/x", "c/z"}) || len(errs) != 1 || !errors.Is(errs[0], errUnreadable) {
		t.Errorf("keys %q, errors %v", keys, errs)
	}
}

func TestFSStoreListStopsOnCancelAndBreak(t *testing.T) {
	fsys := fstest.MapFS{"a/x": {}, "b/y": {}, "c/z": {}}
	n := 0
	for range NewFSStore(fsys).List(context.Background(), "") {
		n++
		break
	}
	if n != 1 {
		t.Errorf("yielded %d after break", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range NewFSStore(fsys).List(ctx, "") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("after cancel: %v", errs)
	}
}

func TestFSStoreOpen(t *testing.T) {
	s := NewFSStore(fstest.MapFS{"a/b.avro": {Data: []byte("content")}})
	rc, err := s.Open(context.Background(), "a/b.avro")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "content" {
		t.Errorf("read %q", b)
	}
	if _, err := s.Open(context.Background(), "a/missing.avro"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := s.Open(context.Background(), "../etc/passwd"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("invalid path: %v", err)
	}
}

// expand walks a DirLister depth-first, as Source does without filters.
func expand(t *testing.T, dl DirLister, prefix string) []string {
	t.Helper()
	var keys []string
	for e, err := range dl.ListDir(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("ListDir(%q): %v", prefix, err)
		}
		if e.IsDir {
			if !strings.HasSuffix(e.Key, "/") || e.Size != -1 {
				t.Fatalf("folder entry %+v", e)
			}
			keys = append(keys, expand(t, dl, e.Key)...)
			continue
		}
		keys = append(keys, e.Key)
	}
	return keys
}

func TestFSStoreListDir(t *testing.T) {
	fsys := fstest.MapFS{
		"a/x": {Data: []byte("1")}, "a-b/x": {}, "a.avro": {Data: []byte("333")}, "b/c/d": {}, "b/c0": {},
	}
	s := NewFSStore(fsys)
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b/", "a.avro", "a/", "b/"}},
		{"a", []string{"a-b/", "a.avro", "a/"}},
		{"a/", []string{"a/x"}},
		{"b/c", []string{"b/c/", "b/c0"}},
		{"a.avro", []string{"a.avro"}},
		{"zzz/", nil},
		{"a/x/", nil}, // a file, not a folder
	}
	for _, tt := range tests {
		var got []string
		for e, err := range s.ListDir(context.Background(), tt.prefix) {
			if err != nil {
				t.Fatalf("ListDir(%q): %v", tt.prefix, err)
			}
			if e.IsDir != strings.HasSuffix(e.Key, "/") {
				t.Errorf("entry %+v", e)
			}
			got = append(got, e.Key)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ListDir(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	if got := expand(t, s, ""); !slices.Equal(got, listKeys(t, s, "")) {
		t.Errorf("depth-first ListDir %q differs from List", got)
	}
}

// TestFSStoreListDirMatchesList checks, on random trees, that walking
// ListDir depth-first gives exactly List's keys in List's order.
func TestFSStoreListDirMatchesList(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "b", "a-", "a.", "a0", "=", "+", "~"}
	for round := 0; round < 200; round++ {
		fsys := fstest.MapFS{}
		for i := 0; i < 1+r.IntN(25); i++ {
			parts := make([]string, 1+r.IntN(4))
			for j := range parts {
				parts[j] = alphabet[r.IntN(len(alphabet))] + alphabet[r.IntN(len(alphabet))]
			}
			k := strings.Join(parts, "/")
			clash := false
			for o := range fsys {
				if strings.HasPrefix(o, k+"/") || strings.HasPrefix(k, o+"/") {
					clash = true
				}
			}
			if !clash {
				fsys[k] = &fstest.MapFile{}
			}
		}
		s := NewFSStore(fsys)
		prefix := ""
		if r.IntN(2) == 0 {
			for k := range fsys {
				prefix = k[:r.IntN(len(k)+1)]
				break
			}
		}
		if got, want := expand(t, s, prefix), listKeys(t, s, prefix); !slices.Equal(got, want) {
			t.Fatalf("round %d prefix %q: ListDir walk %q, List %q", round, prefix, got, want)
		}
	}
}

func TestFSStoreListDirUnreadable(t *testing.T) {
	fsys := failingDirFS{MapFS: fstest.MapFS{"a/x": {}, "b/y": {}}, bad: "b"}
	var errs []error
	for _, err := range NewFSStore(fsys).ListDir(context.Background(), "b/") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], errUnreadable) {
		t.Errorf("errors %v", errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs = nil
	for _, err := range NewFSStore(fsys).ListDir(ctx, "") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("cancelled: %v", errs)
	}
}
