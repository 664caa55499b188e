package main

import (
	"context"
	"iter"
	"runtime"
	"sync"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/objstore"
)

// maxDecoders bounds the files decoded at once. The writer's share of the
// work (deduplication and the writes) is about two thirds of the decoders'
// (decoding and encoding), so past two or three decoders the writer sets
// the pace, and more would only hold more chunks in memory.
const maxDecoders = 4

// maxKeptLines is the largest lines buffer handed back for reuse: a
// chunk of typical events takes about 600 KB.
const maxKeptLines = 4 << 20

// readAhead lists the files of src on one goroutine and decodes and
// prepares them (see preparation) on decoders of their own, one file each
// at a time, while the caller writes: on two cores the export then runs at
// about the rate of the slowest goroutine rather than of all the work
// added up. The caller gets the chunks in the listing's order, whatever
// the decoders' pace (files are dealt to the decoders in turn and taken
// back in the same turn), so that deduplication keeps the first delivery
// in that order, as a single reader would.
//
// src's checkpoint must not mark files done by itself (lookupOnly): a file
// is done when the writer has written it, not when it was decoded.
type readAhead struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	outs   []chan chunk
	// free returns the buffers of written chunks to the decoders.
	free chan chunkBuffers
}

// chunkBuffers are the slices of a chunk, reused from chunk to chunk.
type chunkBuffers struct {
	events []currents.Event
	lines  []byte
	ends   []int
}

// decoders is the number of decoders for this machine.
func decoders() int { return min(runtime.GOMAXPROCS(0), maxDecoders) }

// startReadAhead starts reading src with n decoders.
func startReadAhead(ctx context.Context, src *currents.Source, prep preparation, n int) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	r := &readAhead{cancel: cancel, outs: make([]chan chunk, n), free: make(chan chunkBuffers, 4*n+2)}
	jobs := make([]chan job, n)
	for i := range n {
		jobs[i] = make(chan job, 1)
		r.outs[i] = make(chan chunk, 4)
	}
	r.wg.Add(n + 1)
	go func() { // the listing
		defer r.wg.Done()
		defer func() {
			for _, j := range jobs {
				close(j)
			}
		}()
		k := 0
		for f, err := range src.Files(ctx) {
			select {
			case jobs[k%n] <- job{file: f, err: err}:
			case <-ctx.Done():
				return
			}
			k++
		}
	}()
	for i := range n {
		go func() {
			defer r.wg.Done()
			defer close(r.outs[i])
			for j := range jobs[i] {
				if !r.decode(ctx, src, prep, j, r.outs[i]) {
					return
				}
			}
		}()
	}
	return r
}

// job is one item of the listing: a file or a listing failure.
type job struct {
	file currents.File
	err  error
}

// decode sends the chunks of one job to out, the last with last set; it
// reports false when ctx ended.
func (r *readAhead) decode(ctx context.Context, src *currents.Source, prep preparation, j job, out chan<- chunk) bool {
	send := func(c chunk) bool {
		prep.prepare(&c)
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if j.err != nil {
		return send(chunk{err: j.err, last: true})
	}
	c := r.newChunk(j.file, true)
	failed := false
	for ev, err := range src.Events(ctx, j.file) {
		if err != nil {
			c.err, failed = err, true
			break
		}
		c.events = append(c.events, ev)
		if len(c.events) == chunkEvents {
			if !send(c) {
				return false
			}
			c = r.newChunk(j.file, false)
		}
	}
	c.done, c.last = !failed, true
	return send(c)
}

// newChunk starts a chunk of f on buffers given back by the writer, if
// any.
func (r *readAhead) newChunk(f currents.File, first bool) chunk {
	var b chunkBuffers
	select {
	case b = <-r.free:
	default:
		b.events = make([]currents.Event, 0, chunkEvents)
	}
	return chunk{file: f, first: first, events: b.events[:0], lines: b.lines[:0], ends: b.ends[:0]}
}

// chunks yields the chunks in the listing's order until the listing is
// read to its end.
func (r *readAhead) chunks() iter.Seq[*chunk] {
	return func(yield func(*chunk) bool) {
		for k := 0; ; {
			c, ok := <-r.outs[k%len(r.outs)]
			if !ok {
				return // no job k: the listing ended
			}
			if !yield(&c) {
				return
			}
			if c.last {
				k++
			}
		}
	}
}

// release gives a written chunk's buffers back to the decoders. The chunk
// must not be used after.
func (r *readAhead) release(c *chunk) {
	clear(c.events)
	b := chunkBuffers{events: c.events[:0], lines: c.lines[:0], ends: c.ends[:0]}
	if cap(b.lines) > maxKeptLines {
		b.lines = nil // a chunk of unusually large events: not kept for all
	}
	select {
	case r.free <- b:
	default:
	}
}

// stop ends the goroutines and waits for them.
func (r *readAhead) stop() {
	r.cancel()
	for _, out := range r.outs {
		for range out { // let a blocked send see the cancellation
		}
	}
	r.wg.Wait()
}

// lookupOnly is a checkpoint whose MarkDone does nothing, so that the
// Source skips the files done in earlier runs while the writer marks a
// file done itself once its events are written.
type lookupOnly struct{ *objstore.FileCheckpoint }

// MarkDone leaves the marking to the writer.
func (lookupOnly) MarkDone(context.Context, string) error { return nil }
