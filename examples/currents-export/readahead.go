package main

import (
	"context"
	"sync"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/objstore"
)

// chunkEvents is the number of events a chunk carries: enough to make the
// hand-over between the goroutines cheap, few enough to bound the memory
// held ahead of the writer.
const chunkEvents = 1024

// chunk is a run of one Currents file's events, decoded ahead of the
// writer, or an error of the listing.
type chunk struct {
	file   currents.File
	first  bool // the file's first chunk
	events []currents.Event
	// err ends the file (a decoding failure, after events) or, with no
	// file, reports a listing or key failure.
	err error
	// done is set on the file's last chunk when the file was read to its
	// end without error.
	done bool
}

// readAhead lists and decodes the files of src on a goroutine of its own,
// so that decoding one chunk overlaps writing the previous: on two cores
// the export then runs at about the rate of the slower half rather than
// of both added up. The consumer reads the channel until it is closed, or
// calls stop, which ends the goroutine and waits for it.
//
// src's checkpoint must not mark files done by itself (lookupOnly): a file
// is done when the writer has written it, not when it was decoded.
func readAhead(ctx context.Context, src *currents.Source) (<-chan chunk, func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan chunk, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		send := func(c chunk) bool {
			select {
			case ch <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for f, err := range src.Files(ctx) {
			if err != nil {
				if !send(chunk{err: err}) {
					return
				}
				continue
			}
			c := chunk{file: f, first: true, events: make([]currents.Event, 0, chunkEvents)}
			failed := false
			for ev, err := range src.Events(ctx, f) {
				if err != nil {
					c.err, failed = err, true
					break
				}
				c.events = append(c.events, ev)
				if len(c.events) == chunkEvents {
					if !send(c) {
						return
					}
					c = chunk{file: f, events: make([]currents.Event, 0, chunkEvents)}
				}
			}
			c.done = !failed
			if !send(c) {
				return
			}
		}
	}()
	stop := func() {
		cancel()
		for range ch { // let a blocked send see the cancellation
		}
		wg.Wait()
	}
	return ch, stop
}

// lookupOnly is a checkpoint whose MarkDone does nothing, so that the
// Source skips the files done in earlier runs while the writer marks a
// file done itself once its events are written.
type lookupOnly struct{ *objstore.FileCheckpoint }

// MarkDone leaves the marking to the writer.
func (lookupOnly) MarkDone(context.Context, string) error { return nil }
