// Package storetest is the conformance suite of diff.Store: the contract
// every store must keep (point reads, atomic ordered batches, ordered
// prefix scans on a snapshot, durability across a reopen) and the
// plan-level tests that hold for an engine on any store (crash points,
// random sequences of snapshots against a model of the destination, Close
// with a plan open, the partitioning of a scope). Package diff runs it on its MemoryStore,
// diff/pebblestore on pebble; a new store runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) diff.Store {
//			s, err := mystore.Open(ctx, freshName(t))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		}, storetest.WithReopen(func(t *testing.T, closed diff.Store) diff.Store {
//			s, err := mystore.Open(ctx, closed.(*mystore.Store).Name())
//			...
//		}))
//	}
//
// The suite only writes keys that begin with a byte below 0x10, as the
// engine does, and never depends on pebble or any other engine.
package storetest

import (
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// Option configures Run.
type Option func(*config)

type config struct {
	reopen func(t *testing.T, closed diff.Store) diff.Store
	seeds  int
}

// WithReopen turns on the tests of persistence. reopen is given a store
// that the suite has closed (Close returned nil) and returns a new store
// on the same state, as the next process would open it. Without it those
// tests are skipped, saying so.
func WithReopen(reopen func(t *testing.T, closed diff.Store) diff.Store) Option {
	return func(c *config) { c.reopen = reopen }
}

// WithSeeds sets how many random sequences the property tests play
// (default 50; 10 with -short). Each runs a few plans, so a store whose
// durable Apply is slow may want fewer.
func WithSeeds(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.seeds = n
		}
	}
}

// Run runs the suite as subtests of t. open returns a new store that holds
// nothing, each time it is called; the suite closes every store it opens
// (directly, or through Engine.Close). Stores must be safe for concurrent
// use: run the suite with -race.
func Run(t *testing.T, open func(t *testing.T) diff.Store, opts ...Option) {
	cfg := config{seeds: 50}
	if testing.Short() {
		cfg.seeds = 10
	}
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{open: open, cfg: cfg}
	t.Run("Contract", func(t *testing.T) {
		for _, c := range contractChecks {
			t.Run(c.name, func(t *testing.T) {
				s := h.fresh(t)
				if err := c.check(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
	t.Run("Persistence", func(t *testing.T) {
		if cfg.reopen == nil {
			t.Skip("no reopen function given (storetest.WithReopen): persistence is not tested")
		}
		t.Run("DurableApplyAfterReopen", h.testDurableAfterReopen)
		t.Run("EnginePersists", h.testEnginePersists)
	})
	t.Run("Engine", func(t *testing.T) {
		t.Run("VersionRecorded", h.testVersionRecorded)
		t.Run("CloseWithPlanOpen", h.testCloseWithPlanOpen)
		t.Run("CrashPoints", h.testCrashPoints)
		t.Run("RandomSnapshots", h.testRandomSnapshots)
		t.Run("Partitioning", h.testPartitioning)
	})
}

// harness opens and closes the stores of one Run.
type harness struct {
	open func(t *testing.T) diff.Store
	cfg  config
}

// fresh opens a new store that the test's cleanup closes.
func (h *harness) fresh(t *testing.T) diff.Store {
	t.Helper()
	s := h.open(t)
	if s == nil {
		t.Fatal("storetest: open returned a nil store")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storetest: Close: %v", err)
		}
	})
	return s
}

// keepOpen lets several engines use one store in turn, as successive
// processes would, without the first Engine.Close closing it: the test's
// cleanup closes the store itself.
type keepOpen struct{ diff.Store }

func (keepOpen) Close() error { return nil }
