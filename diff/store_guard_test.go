package diff

import (
	"context"
	"errors"
	"testing"
	"time"
)

// blockingStore holds every Get until release is closed.
type blockingStore struct {
	*MemoryStore
	entered chan struct{}
	release chan struct{}
	closed  chan struct{}
}

func (s *blockingStore) Get(ctx context.Context, key, dst []byte) ([]byte, bool, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.MemoryStore.Get(ctx, key, dst)
}

func (s *blockingStore) Close() error { close(s.closed); return nil }

// TestGuardedStoreCloseWaitsForCalls: Engine.Close closes the store only
// after the calls in flight have returned, and every call after it fails
// with ErrClosed; a store call made inside a Scan callback while Close
// waits does not deadlock.
func TestGuardedStoreCloseWaitsForCalls(t *testing.T) {
	ctx := context.Background()
	bs := &blockingStore{MemoryStore: NewMemoryStore(), entered: make(chan struct{}), release: make(chan struct{}), closed: make(chan struct{})}
	g := &guardedStore{s: bs}
	got := make(chan error, 1)
	go func() { _, _, err := g.Get(ctx, []byte("k"), nil); got <- err }()
	<-bs.entered
	closeDone := make(chan error, 1)
	go func() { closeDone <- g.Close() }()
	select {
	case <-bs.closed:
		t.Fatal("the store was closed under a call in flight")
	case <-time.After(50 * time.Millisecond):
	}
	if err := g.Apply(ctx, []Op{{Key: []byte("k")}}, true); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply while closing: %v", err)
	}
	close(bs.release)
	if err := <-got; err != nil {
		t.Errorf("the call in flight: %v", err)
	}
	if err := <-closeDone; err != nil {
		t.Fatal(err)
	}
	<-bs.closed

	// A Scan whose callback reads the store, while Close waits for it.
	mem := NewMemoryStore()
	mem.Apply(ctx, []Op{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}}, true)
	g = &guardedStore{s: mem}
	inScan := make(chan struct{})
	goOn := make(chan struct{})
	scanErr := make(chan error, 1)
	go func() {
		scanErr <- g.Scan(ctx, nil, func(k, v []byte) error {
			if string(k) == "a" {
				close(inScan)
				<-goOn
				_, _, err := g.Get(ctx, []byte("b"), nil) // nested call during Close
				return err
			}
			return nil
		})
	}()
	<-inScan
	go func() { closeDone <- g.Close() }()
	for !g.closed.Load() { // Close has begun and waits for the scan
		time.Sleep(time.Millisecond)
	}
	close(goOn)
	select {
	case err := <-scanErr:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("scan during Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a store call inside a Scan callback deadlocked with Close")
	}
	if err := <-closeDone; err != nil {
		t.Fatal(err)
	}
}
