// Package ordered runs the batch pipeline that the mapper of package
// amperity and the delta engine of package diff share: one goroutine fills
// batches in input order, workers process them in parallel, and the caller
// gets them back in the order they were filled.
package ordered

import (
	"iter"
	"sync"
)

// Run returns an iterator over the batches that fill produces, each
// processed by a worker, in the order fill handed them over.
//
// fill runs on a goroutine of its own. It is given a first batch and hands
// each full batch over with send, which returns the next batch to fill and
// false once the consumer has stopped (fill should then return); fill
// sends its last, partial batch itself. newWorker is called once on each
// of the workers goroutines and returns the function that processes a
// batch there. depth bounds the batches handed over and not yet consumed.
// A batch the consumer is done with (when it asks for the next) is passed
// to reset and filled again: fresh is called at most depth+2 times.
//
// Every goroutine Run starts has ended when the iteration ends, also when
// the consumer's loop breaks or panics.
func Run[B any](workers, depth int, fresh func() *B, reset func(*B), fill func(first *B, send func(*B) (*B, bool)), newWorker func() func(*B)) iter.Seq[*B] {
	type job struct {
		b    *B
		done chan struct{}
	}
	return func(yield func(*B) bool) {
		work := make(chan job, workers)
		order := make(chan job, depth)
		// At most depth+2 batches exist: depth handed over, one being
		// consumed, one being filled. fill waits for a spare one rather
		// than making more, so none is ever dropped or made twice.
		limit := depth + 2
		spare := make(chan *B, limit)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1 + workers)
		go func() {
			defer wg.Done()
			defer close(work)
			defer close(order)
			made := 0
			next := func() (*B, bool) {
				select {
				case b := <-spare:
					return b, true
				default:
				}
				if made < limit {
					made++
					return fresh(), true
				}
				select {
				case b := <-spare:
					return b, true
				case <-stop:
					return nil, false
				}
			}
			send := func(b *B) (*B, bool) {
				j := job{b, make(chan struct{})}
				for _, c := range []chan<- job{order, work} {
					select {
					case c <- j:
					case <-stop:
						return nil, false
					}
				}
				return next()
			}
			first, _ := next()
			fill(first, send)
		}()
		for range workers {
			go func() {
				defer wg.Done()
				process := newWorker()
				for j := range work {
					process(j.b)
					close(j.done)
				}
			}()
		}
		// finish stops fill and waits for every goroutine; deferred, so it
		// also runs when the consumer stops early or panics.
		finish := sync.OnceFunc(func() {
			close(stop)
			for range order { // unblock fill
			}
			wg.Wait()
		})
		defer finish()
		for j := range order {
			<-j.done
			if !yield(j.b) {
				return
			}
			reset(j.b)
			spare <- j.b // never blocks: it holds fewer than limit
		}
	}
}
