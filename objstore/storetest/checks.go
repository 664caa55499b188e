package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/objstore"
)

// tree is the store the listing cases read: names that sort around "/"
// ("a-b/" < "a.avro" < "a/" < "a0"), deep and shallow folders, and keys
// with the characters that URLs and query strings treat specially. Each
// content differs in length, so sizes tell objects apart.
var treeKeys = []string{
	"a/x", "a/y", "a/z/1", "a-b/x", "a.avro", "a0",
	"b/c/d", "b/c0", "b/c/e/f/g",
	"c/event_type=users.messages.email.Send/date=2025-04-01-17/f+0+1.avro",
	"c/with space/and+plus=eq.avro", "c/ü/unicode.avro", "c/A/upper.avro", "c/q?uery#frag%41.avro",
}

func tree() map[string][]byte {
	objs := map[string][]byte{}
	for i, k := range treeKeys {
		objs[k] = []byte(strings.Repeat("x", i+1))
	}
	return objs
}

type harness struct {
	open Open
	cfg  config
}

// opened is a store with what open was given and when it ran.
type opened struct {
	objstore.Store
	objects       map[string][]byte
	before, after time.Time
}

func (h *harness) fresh(t *testing.T, objects map[string][]byte) *opened {
	t.Helper()
	before := time.Now()
	s := h.open(t, objects)
	return &opened{Store: s, objects: objects, before: before.Add(-h.cfg.slack), after: time.Now().Add(h.cfg.slack)}
}

// withPageSize returns s listing pageSize entries a request.
func (h *harness) withPageSize(s *opened, pageSize int) *opened {
	c := *s
	c.Store = h.cfg.repage(s.Store, pageSize)
	return &c
}

func (h *harness) testTree(t *testing.T) {
	s := h.fresh(t, tree())
	variants := []struct {
		name string
		s    *opened
	}{{"Default", s}}
	if h.cfg.repage != nil {
		for _, n := range []int{1, 2, 3} {
			variants = append(variants, struct {
				name string
				s    *opened
			}{fmt.Sprintf("PageSize%d", n), h.withPageSize(s, n)})
		}
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Run("List", func(t *testing.T) { checkList(t, v.s) })
			t.Run("ListDir", func(t *testing.T) { checkListDir(t, v.s) })
			t.Run("StopEarly", func(t *testing.T) { checkStopEarly(t, v.s) })
		})
	}
	t.Run("Open", func(t *testing.T) { checkOpen(t, s) })
}

// List collects a listing, failing t on any error. Adapter tests use it
// for their own cases.
func List(t testing.TB, l objstore.Lister, prefix string) []objstore.Object {
	t.Helper()
	var objs []objstore.Object
	for o, err := range l.List(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		objs = append(objs, o)
	}
	return objs
}

// DirKeys collects the keys of a ListDir listing (folders end in "/"),
// failing t on any error.
func DirKeys(t testing.TB, dl objstore.DirLister, prefix string) []string {
	t.Helper()
	ks := []string{}
	for e, err := range dl.ListDir(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("ListDir(%q): %v", prefix, err)
		}
		ks = append(ks, e.Key)
	}
	return ks
}

// Keys returns the objects' keys, in order (empty, not nil, for none).
func Keys(objs []objstore.Object) []string {
	ks := []string{}
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

// checkObject checks what a listing says of one object against what the
// store was given.
func checkObject(t *testing.T, s *opened, o objstore.Object) {
	t.Helper()
	content, ok := s.objects[o.Key]
	switch {
	case !ok:
		t.Errorf("listed %q, which the store does not hold", o.Key)
	case o.Size != int64(len(content)):
		t.Errorf("%q: Size %d, want %d", o.Key, o.Size, len(content))
	case o.ModTime.Before(s.before) || o.ModTime.After(s.after):
		t.Errorf("%q: ModTime %v, want between %v and %v (when it was written)", o.Key, o.ModTime, s.before, s.after)
	}
}

// checkList: List yields exactly the keys that start with the prefix (a
// plain string prefix, not a folder), in ascending byte order.
func checkList(t *testing.T, s *opened) {
	// The order spelled out once, as S3 lists it: by bytes of the whole key.
	if got, want := Keys(List(t, s, "a")), []string{"a-b/x", "a.avro", "a/x", "a/y", "a/z/1", "a0"}; !slices.Equal(got, want) {
		t.Errorf("List(%q) = %q, want %q", "a", got, want)
	}
	for _, prefix := range []string{"", "a", "a/", "b/c", "b/c/", "b/c/e/f/g", "c/", "c/with space/", "c/ü", "c/q?", "zzz", "a/x/"} {
		want := []string{}
		for k := range s.objects {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		objs := List(t, s, prefix)
		if got := Keys(objs); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
		for _, o := range objs {
			checkObject(t, s, o)
		}
	}
}

// checkListDir: ListDir yields the objects directly under the prefix and
// each folder once, in byte order of their keys; folders carry no size or
// time, objects the same as List; walking the folders depth-first gives
// List's keys in List's order.
func checkListDir(t *testing.T, s *opened) {
	dl, ok := s.Store.(objstore.DirLister)
	if !ok {
		t.Skip("the store is not an objstore.DirLister")
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b/", "a.avro", "a/", "a0", "b/", "c/"}},
		{"a", []string{"a-b/", "a.avro", "a/", "a0"}},
		{"a/", []string{"a/x", "a/y", "a/z/"}},
		{"b/c", []string{"b/c/", "b/c0"}},
		{"b/c/", []string{"b/c/d", "b/c/e/"}},
		{"c/", []string{"c/A/", "c/event_type=users.messages.email.Send/", "c/q?uery#frag%41.avro", "c/with space/", "c/ü/"}},
		{"a.avro", []string{"a.avro"}},
		{"zzz/", nil},
		{"a/x/", nil}, // an object, not a folder
	}
	for _, tt := range tests {
		var got []string
		for e, err := range dl.ListDir(t.Context(), tt.prefix) {
			if err != nil {
				t.Fatalf("ListDir(%q): %v", tt.prefix, err)
			}
			checkEntry(t, s, e)
			got = append(got, e.Key)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ListDir(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	if got, want := expand(t, s, dl, ""), Keys(List(t, s, "")); !slices.Equal(got, want) {
		t.Errorf("depth-first ListDir\n%q\nList\n%q", got, want)
	}
}

func checkEntry(t *testing.T, s *opened, e objstore.DirEntry) {
	t.Helper()
	if e.IsDir != strings.HasSuffix(e.Key, "/") {
		t.Errorf("entry %+v: IsDir should be set exactly for keys ending in /", e)
	}
	if e.IsDir {
		if e.Size != -1 || !e.ModTime.IsZero() {
			t.Errorf("folder %+v: want Size -1 and no ModTime", e)
		}
		return
	}
	checkObject(t, s, e.Object)
}

// expand walks ListDir depth-first, as currents.Source does without
// filters.
func expand(t *testing.T, s *opened, dl objstore.DirLister, prefix string) []string {
	t.Helper()
	ks := []string{}
	for e, err := range dl.ListDir(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("ListDir(%q): %v", prefix, err)
		}
		checkEntry(t, s, e)
		if e.IsDir {
			ks = append(ks, expand(t, s, dl, e.Key)...)
		} else {
			ks = append(ks, e.Key)
		}
	}
	return ks
}

// checkStopEarly: a consumer that breaks out of a listing gets nothing
// more (an iterator that went on would panic).
func checkStopEarly(t *testing.T, s *opened) {
	for _, stopAt := range []int{1, 3} {
		if n := countUntil(t, s.List(t.Context(), ""), stopAt); n != stopAt {
			t.Errorf("List: %d objects, want to stop at %d", n, stopAt)
		}
		if dl, ok := s.Store.(objstore.DirLister); ok {
			if n := countUntil(t, dl.ListDir(t.Context(), ""), stopAt); n != stopAt {
				t.Errorf("ListDir: %d entries, want to stop at %d", n, stopAt)
			}
		}
	}
}

// countUntil consumes seq until it has seen stopAt items.
func countUntil[T any](t *testing.T, seq iter.Seq2[T, error], stopAt int) int {
	n := 0
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == stopAt {
			break
		}
	}
	return n
}

// checkOpen: Open returns each object's content; a missing object is an
// error matching fs.ErrNotExist.
func checkOpen(t *testing.T, s *opened) {
	for k, want := range s.objects {
		rc, err := s.Open(t.Context(), k)
		if err != nil {
			t.Errorf("Open(%q): %v", k, err)
			continue
		}
		b, err := io.ReadAll(rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil || string(b) != string(want) {
			t.Errorf("Open(%q) read %q, %v; want %q", k, b, err, want)
		}
	}
	// "b/c" names a folder, "a/x/y" a key below an object: neither is an object.
	for _, k := range []string{"a/missing", "zzz", "a/x/y", "b/c"} {
		rc, err := s.Open(t.Context(), k)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) of a missing object: %v, want an error matching fs.ErrNotExist", k, err)
		}
	}
}

// testCancel: with a cancelled context, List and ListDir yield one error
// matching context.Canceled and stop, and Open fails with it.
func (h *harness) testCancel(t *testing.T) {
	s := h.fresh(t, map[string][]byte{"k0": []byte("0"), "k1": []byte("1"), "d/k2": []byte("2")})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var errs []error
	for _, err := range s.List(ctx, "") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("List, cancelled: %v, want one error matching context.Canceled", errs)
	}
	if dl, ok := s.Store.(objstore.DirLister); ok {
		errs = nil
		for _, err := range dl.ListDir(ctx, "") {
			errs = append(errs, err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Errorf("ListDir, cancelled: %v, want one error matching context.Canceled", errs)
		}
	}
	rc, err := s.Open(ctx, "k0")
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Open, cancelled: %v, want an error matching context.Canceled", err)
	}
}

// testPages: a listing that spans several pages gives every key once, in
// order, and a context cancelled between two pages ends the listing with
// one error.
func (h *harness) testPages(t *testing.T) {
	if h.cfg.repage == nil {
		t.Skip("the store does not list in pages (no WithPageSize)")
	}
	objs := map[string][]byte{}
	var want []string
	for i := range 25 {
		k := fmt.Sprintf("p/%d", i) // not zero-padded: the order is by bytes, not numbers
		objs[k] = []byte("x")
		want = append(want, k)
	}
	slices.Sort(want)
	s := h.fresh(t, objs)
	for _, n := range []int{7, 25, 1000} {
		if got := Keys(List(t, h.withPageSize(s, n), "p/")); !slices.Equal(got, want) {
			t.Errorf("page size %d: List gave %q, want %q", n, got, want)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []string
	var errs []error
	for o, err := range h.withPageSize(s, 2).List(ctx, "") {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, o.Key)
		if len(got) == 2 {
			cancel()
		}
	}
	if !slices.Equal(got, want[:2]) || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("cancelled after the first page: got %q, errors %v; want %q and one error matching context.Canceled", got, errs, want[:2])
	}
}
