// Package storetest is the conformance suite of objstore.Store: the
// contract every store keeps whatever is behind it (List in byte order of
// the keys, plain string prefixes, sizes and modification times, ListDir
// folders that walk depth-first into List's order, Open's content, a
// missing object matching fs.ErrNotExist, a cancelled context, a consumer
// that stops early, and listings that span pages). objstore runs it on
// FSStore, and each adapter (s3store, gcsstore, azurestore) on its
// emulator; a new store runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
//			bucket := newBucket(t)
//			for k, v := range objects {
//				put(t, bucket, k, v)
//			}
//			return mystore.New(bucket)
//		}, storetest.WithPageSize(func(s objstore.Store, n int) objstore.Store {
//			return mystore.New(s.(*mystore.Store).Bucket(), mystore.WithPageSize(n))
//		}))
//	}
//
// What only one store does (its URLs, its credentials, folder marker
// objects, how many requests a listing makes) stays in that store's tests.
package storetest

import (
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/objstore"
)

// Option configures Run.
type Option func(*config)

type config struct {
	repage func(s objstore.Store, pageSize int) objstore.Store
	slack  time.Duration
}

// WithPageSize declares that the store lists in pages whose size can be
// chosen. repage returns a store over the same objects as s (a store that
// open returned) that asks for pageSize entries per list request. The
// suite then repeats its listings at page sizes of 1, 2 and 3, and checks
// a listing of a few pages and a context cancelled between two pages.
// Without it those cases are skipped, saying so.
func WithPageSize(repage func(s objstore.Store, pageSize int) objstore.Store) Option {
	return func(c *config) { c.repage = repage }
}

// WithModTimeSlack sets how far a listed ModTime may fall outside the
// moments open started and returned (default 2s: S3 and Azure report
// whole seconds, and an emulator's clock may run slightly apart).
func WithModTimeSlack(d time.Duration) Option {
	return func(c *config) { c.slack = d }
}

// Open returns a new store holding exactly objects (key to content), and
// nothing else. The store's objects are written while Open runs, so their
// modification times fall between its start and its return.
type Open func(t *testing.T, objects map[string][]byte) objstore.Store

// Run runs the suite as subtests of t. open is called a few times, each
// for a store of its own; the subtests run one after the other, so open
// may share one server among them.
func Run(t *testing.T, open Open, opts ...Option) {
	cfg := config{slack: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{open: open, cfg: cfg}
	t.Run("Tree", h.testTree)
	t.Run("Cancel", h.testCancel)
	t.Run("Pages", h.testPages)
}
