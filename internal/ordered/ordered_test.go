package ordered

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

type batch struct {
	in, out []int
}

// run squares 0..n-1 in batches of size on workers goroutines and returns
// the results in order, with the number of batches allocated.
func run(t *testing.T, n, size, workers, depth int, stopAfter int) ([]int, int, *atomic.Bool) {
	t.Helper()
	var fresh atomic.Int64
	filled := &atomic.Bool{}
	seq := Run(workers, depth,
		func() *batch { fresh.Add(1); return &batch{} },
		func(b *batch) { b.in, b.out = b.in[:0], b.out[:0] },
		func(b *batch, send func(*batch) (*batch, bool)) {
			defer filled.Store(true)
			for i := range n {
				b.in = append(b.in, i)
				if len(b.in) == size {
					var ok bool
					if b, ok = send(b); !ok {
						return
					}
				}
			}
			if len(b.in) > 0 {
				send(b)
			}
		},
		func() func(*batch) {
			return func(b *batch) {
				for _, v := range b.in {
					b.out = append(b.out, v*v)
				}
			}
		})
	var got []int
	for b := range seq {
		got = append(got, b.out...)
		if stopAfter > 0 && len(got) >= stopAfter {
			break
		}
	}
	return got, int(fresh.Load()), filled
}

func TestRunKeepsOrderAndRecycles(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		got, fresh, _ := run(t, 10_000, 7, workers, workers+1, 0)
		if len(got) != 10_000 {
			t.Fatalf("%d workers: %d results", workers, len(got))
		}
		for i, v := range got {
			if v != i*i {
				t.Fatalf("%d workers: result %d is %d", workers, i, v)
			}
		}
		// depth+2 batches at most are made for 1,429 batches of input.
		if limit := workers + 1 + 2; fresh > limit {
			t.Errorf("%d workers: %d batches allocated, want at most %d", workers, fresh, limit)
		}
	}
}

func TestRunStopsFillWhenTheConsumerBreaks(t *testing.T) {
	before := runtime.NumGoroutine()
	got, _, filled := run(t, 1_000_000, 10, 2, 3, 50)
	if len(got) < 50 || len(got) > 60 {
		t.Fatalf("%d results before the break", len(got))
	}
	if !filled.Load() {
		t.Fatal("fill was still running after the iteration ended")
	}
	// Every goroutine has ended: none is left behind by the pipeline.
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines, %d before", n, before)
	}
}

func TestRunJoinsOnConsumerPanic(t *testing.T) {
	var filled atomic.Bool
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		seq := Run(2, 3,
			func() *batch { return &batch{} },
			func(*batch) {},
			func(b *batch, send func(*batch) (*batch, bool)) {
				defer filled.Store(true)
				for {
					var ok bool
					if b, ok = send(b); !ok {
						return
					}
				}
			},
			func() func(*batch) { return func(*batch) {} })
		for range seq {
			panic("consumer")
		}
	}()
	if !filled.Load() {
		t.Fatal("fill was still running after the panic")
	}
}
