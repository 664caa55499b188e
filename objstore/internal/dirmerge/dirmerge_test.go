package dirmerge

import (
	"slices"
	"testing"

	"github.com/ampbraze/ampbraze/objstore"
)

type page struct {
	objs, dirs []string
}

func run(t *testing.T, pages []page, stopAfter int) []string {
	t.Helper()
	var m Merger
	var got []string
	yield := func(e objstore.DirEntry, err error) bool {
		if err != nil {
			t.Fatal(err)
		}
		if e.IsDir != (e.Size == -1) {
			t.Errorf("entry %+v: a folder has size -1, an object here has a size", e)
		}
		name := e.Key
		if e.IsDir {
			name += "(dir)"
		}
		got = append(got, name)
		return stopAfter == 0 || len(got) < stopAfter
	}
	for i, p := range pages {
		var objs []objstore.Object
		for _, k := range p.objs {
			objs = append(objs, objstore.Object{Key: k, Size: 1})
		}
		if !m.Page(objs, p.dirs, i == len(pages)-1, yield) {
			break
		}
	}
	return got
}

func TestMerger(t *testing.T) {
	tests := []struct {
		name  string
		pages []page
		want  []string
	}{
		{"one page", []page{{[]string{"a.avro", "a0", "c"}, []string{"a-b/", "a/", "b/"}}},
			[]string{"a-b/(dir)", "a.avro", "a/(dir)", "a0", "b/(dir)", "c"}},
		// A service that pages the merged order.
		{"merged pages", []page{{[]string{"a0"}, []string{"a/"}}, {nil, []string{"b/"}}, {[]string{"c"}, []string{"d/"}}},
			[]string{"a/(dir)", "a0", "b/(dir)", "c", "d/(dir)"}},
		// fake-gcs-server: objects paged, every prefix at or after the
		// page token repeated on each page.
		{"emulator pages", []page{{[]string{"a0", "b0"}, []string{"a/", "c/", "z/"}}, {[]string{"d0"}, []string{"z/"}}},
			[]string{"a/(dir)", "a0", "b0", "c/(dir)", "d0", "z/(dir)"}},
		// gofakes3-style repeats of an entry on the next page.
		{"repeats dropped", []page{{[]string{"a0"}, []string{"a/"}}, {[]string{"a0", "b0"}, []string{"a/"}}},
			[]string{"a/(dir)", "a0", "b0"}},
		{"empty", []page{{}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(t, tt.pages, 0); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMergerStops(t *testing.T) {
	pages := []page{{[]string{"a0", "b0"}, []string{"a/", "c/"}}, {[]string{"d0"}, nil}}
	for n := 1; n <= 5; n++ {
		got := run(t, pages, n)
		if len(got) != n {
			t.Errorf("stop after %d: got %q", n, got)
		}
	}
}

func TestIsFolderMarker(t *testing.T) {
	for _, c := range []struct {
		key  string
		size int64
		want bool
	}{{"a/", 0, true}, {"a/", 3, false}, {"a", 0, false}, {"", 0, false}} {
		if got := IsFolderMarker(c.key, c.size); got != c.want {
			t.Errorf("IsFolderMarker(%q, %d) = %v", c.key, c.size, got)
		}
	}
}
