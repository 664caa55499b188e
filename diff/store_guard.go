package diff

import (
	"context"
	"sync/atomic"
	"time"
)

// guardedStore is the engine's access to its Store: it makes every call
// after Engine.Close fail with ErrClosed instead of reaching a closed store
// (pebble panics then), lets Close wait for the calls in flight, and
// refuses writes on a read-only engine.
//
// A counter of calls in flight, not a RWMutex: a store call made inside a
// Scan callback must not wait for a Close that waits for the Scan.
type guardedStore struct {
	s        Store
	readOnly bool
	closed   atomic.Bool
	inFlight atomic.Int64
}

// enter registers a call; false once Close has begun.
func (g *guardedStore) enter() bool {
	g.inFlight.Add(1)
	if g.closed.Load() {
		g.inFlight.Add(-1)
		return false
	}
	return true
}

func (g *guardedStore) leave() { g.inFlight.Add(-1) }

func (g *guardedStore) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	if !g.enter() {
		return dst[:0], false, ErrClosed
	}
	defer g.leave()
	return g.s.Get(ctx, key, dst)
}

func (g *guardedStore) Apply(ctx context.Context, ops []Op, durable bool) error {
	if g.readOnly {
		return ErrReadOnly
	}
	if !g.enter() {
		return ErrClosed
	}
	defer g.leave()
	return g.s.Apply(ctx, ops, durable)
}

// Scan stops at the next key once Close has begun, so Close does not wait
// for a scan of the whole state.
func (g *guardedStore) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	if !g.enter() {
		return ErrClosed
	}
	defer g.leave()
	return g.s.Scan(ctx, prefix, func(k, v []byte) error {
		if g.closed.Load() {
			return ErrClosed
		}
		return fn(k, v)
	})
}

// Close closes the store once the calls in flight have returned. Calls
// begun after it started fail with ErrClosed.
func (g *guardedStore) Close() error {
	if g.closed.Swap(true) {
		return nil
	}
	for g.inFlight.Load() > 0 {
		time.Sleep(time.Millisecond)
	}
	return g.s.Close()
}
