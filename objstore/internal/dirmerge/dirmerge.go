// Package dirmerge turns the pages of a delimited cloud listing (objects and
// common prefixes, each list sorted, in separate arrays) into the single
// ascending stream that objstore.DirLister promises. The GCS and Azure
// adapters share it.
package dirmerge

import (
	"slices"
	"strings"

	"github.com/ampbraze/ampbraze/objstore"
)

// Merger merges the pages of one ListDir call. The zero value is ready.
//
// A cloud service pages the merged order (GCS and Azure count objects and
// prefixes together toward a page's size), so every entry of a page sorts
// before the next page's. Emulators do not all do that: fake-gcs-server
// pages the objects but sends every prefix after the page token on every
// page. So a Merger does not yield a prefix until an object that sorts
// after it arrives, or the listing ends, and it drops entries it has
// already passed. Against a real service that only delays a page's last
// prefixes to the next page; against such an emulator it keeps the order
// right. The prefixes it holds are at most one page's against the real
// services and every later prefix of the folder against the emulators.
type Merger struct {
	last    string
	started bool
	pending []string // prefixes not yet yielded, sorted, unique
}

// Page feeds one page: its objects and prefixes (each sorted ascending)
// and whether it is the last page. It yields the entries that can be
// placed now and reports whether the consumer wants more (false once
// yield returned false).
func (m *Merger) Page(objs []objstore.Object, prefixes []string, final bool, yield func(objstore.DirEntry, error) bool) bool {
	for _, p := range prefixes {
		if m.passed(p) {
			continue
		}
		if i, found := slices.BinarySearch(m.pending, p); !found {
			m.pending = slices.Insert(m.pending, i, p)
		}
	}
	for _, o := range objs {
		if m.passed(o.Key) {
			continue
		}
		for len(m.pending) > 0 && m.pending[0] < o.Key {
			if !m.dir(yield) {
				return false
			}
		}
		m.started, m.last = true, o.Key
		if !yield(objstore.DirEntry{Object: o}, nil) {
			return false
		}
	}
	if final {
		for len(m.pending) > 0 {
			if !m.dir(yield) {
				return false
			}
		}
	}
	return true
}

func (m *Merger) passed(key string) bool { return m.started && key <= m.last }

func (m *Merger) dir(yield func(objstore.DirEntry, error) bool) bool {
	p := m.pending[0]
	m.pending = m.pending[1:]
	m.started, m.last = true, p
	return yield(objstore.DirEntry{Object: objstore.Object{Key: p, Size: -1}, IsDir: true}, nil)
}

// IsFolderMarker reports an object that only marks a folder: a key ending
// in "/" with no content, which the GCS console's "Create folder", the S3
// console and several sync tools write. A local directory has no such
// object, so the adapters leave these out of their listings, which keeps
// a listing of a bucket the same as one of the same tree on disk, and
// keeps readers from opening a folder name as a file.
func IsFolderMarker(key string, size int64) bool {
	return size == 0 && strings.HasSuffix(key, "/")
}
