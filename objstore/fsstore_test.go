package objstore

import (
	"context"
	"errors"
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

// TestFSStoreOpenInvalidPath: a key that is not a valid fs path (one that
// climbs out of the root) is refused. The rest of Open is the suite's.
func TestFSStoreOpenInvalidPath(t *testing.T) {
	s := NewFSStore(fstest.MapFS{"a/b.avro": {Data: []byte("content")}})
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
}
