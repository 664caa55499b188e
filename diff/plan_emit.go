package diff

import (
	"time"
)

// Intents are written for up to intentChunk changes at a time, and at
// least every intentDelay while changes wait, so that the cost of a
// durable write is shared by many changes while none waits long.
const (
	intentChunk = 8192
	intentDelay = 250 * time.Millisecond
)

// emitter is the way out of Changes: it counts changes against the plan's
// limits, holds them back while limits apply, writes their intents and
// yields them. It runs on the goroutine iterating Changes.
type emitter struct {
	p     *Plan
	yield func(Change, error) bool

	maxRemovals, maxChanges int64 // -1: no limit
	limRemovals, limChanges Limit // the limits as given, for messages
	removals, changes       int64 // stored keys removed; stored keys changed or removed
	hold                    bool  // keep every change until the input is read
	held                    []Change
	spilled                 *spill // held changes beyond heldInMemory

	chunk      []Change // planned, intents not yet written
	chunkStart time.Time
	stopped    bool
}

func newEmitter(p *Plan, yield func(Change, error) bool, maxRemovals, maxChanges int64) *emitter {
	limRemovals, limChanges := p.cfg.limitsOf()
	return &emitter{
		p: p, yield: yield, maxRemovals: maxRemovals, maxChanges: maxChanges,
		limRemovals: limRemovals, limChanges: limChanges,
		// A scope that held nothing cannot lose or change anything: its
		// changes stream at once.
		hold: !p.cfg.dryRun && p.stored > 0 && (maxRemovals >= 0 || maxChanges >= 0),
	}
}

// recordError yields a per-record error; false ends the plan.
func (e *emitter) recordError(err error) bool {
	e.p.sumMu.Lock()
	e.p.sum.Errors++
	e.p.sumMu.Unlock()
	if !e.yield(Change{}, err) {
		e.stopped = true
		return false
	}
	return true
}

// change takes a planned change; false ends the plan.
func (e *emitter) change(ch Change) bool {
	// Only what replaces or removes values the destination accepted
	// counts: after an interrupted first sync, most keys hold nothing but
	// intents, and sending them again damages nothing.
	if ch.overwrites && ch.Delta == DeltaRemoved {
		e.removals++
	}
	if ch.overwrites {
		e.changes++
	}
	if err := e.overLimit(false); err != nil && !e.p.cfg.dryRun {
		e.p.fail(err)
		e.held, e.chunk = nil, nil
		return false
	}
	if e.hold {
		return e.keep(ch)
	}
	return e.send(ch)
}

// keep holds ch back, in memory or spilled to a temporary file.
func (e *emitter) keep(ch Change) bool {
	if len(e.held) < heldInMemory {
		e.held = append(e.held, ch)
		return true
	}
	var err error
	if e.spilled == nil {
		e.spilled, err = newSpill()
	}
	if err == nil {
		err = e.spilled.put(ch)
	}
	if err != nil {
		e.p.fail(err)
		return false
	}
	return true
}

// close releases what the emitter holds.
func (e *emitter) close() {
	e.spilled.close()
	e.spilled = nil
}

// overLimit returns the *LimitError of the counts so far, or nil.
func (e *emitter) overLimit(final bool) error {
	switch {
	case e.maxRemovals >= 0 && e.removals > e.maxRemovals:
		return &LimitError{What: "removals", Count: e.removals, Max: e.maxRemovals, Limit: e.limRemovals, Stored: e.p.stored, Final: final}
	case e.maxChanges >= 0 && e.changes > e.maxChanges:
		return &LimitError{What: "changes", Count: e.changes, Max: e.maxChanges, Limit: e.limChanges, Stored: e.p.stored, Final: final}
	}
	return nil
}

// send queues ch for yielding once its intent is durable.
func (e *emitter) send(ch Change) bool {
	if len(e.chunk) == 0 {
		e.chunkStart = time.Now()
	}
	e.chunk = append(e.chunk, ch)
	if len(e.chunk) >= intentChunk {
		return e.flush()
	}
	return e.tick()
}

// tick yields the queued changes if the oldest has waited long enough.
func (e *emitter) tick() bool {
	if len(e.chunk) > 0 && time.Since(e.chunkStart) >= intentDelay {
		return e.flush()
	}
	return true
}

// flush writes the intents of the queued changes in one durable batch,
// then yields them.
func (e *emitter) flush() bool {
	if len(e.chunk) == 0 {
		return true
	}
	if !e.p.cfg.dryRun {
		if err := e.p.writeIntents(e.chunk); err != nil {
			e.p.fail(err)
			return false
		}
	}
	for i, ch := range e.chunk {
		e.chunk[i] = Change{}
		e.p.emitted.Add(1)
		if !e.yield(ch, nil) {
			e.stopped = true
			clear(e.chunk)
			e.chunk = e.chunk[:0]
			return false
		}
	}
	e.chunk = e.chunk[:0]
	return true
}

// finish ends the plan once the input and the vanished keys are planned:
// a dry run reports the limit the real run would exceed; a held plan,
// within its limits, yields what it held.
func (e *emitter) finish() {
	if e.p.cfg.dryRun {
		if err := e.overLimit(true); err != nil {
			e.p.fail(err)
		}
	}
	for i, ch := range e.held {
		e.held[i] = Change{}
		if !e.send(ch) {
			return
		}
	}
	e.held = nil
	if e.spilled != nil {
		stopped := false
		err := e.spilled.all(e.p, func(ch Change) bool {
			stopped = !e.send(ch)
			return !stopped
		})
		if err != nil {
			e.p.fail(err)
			return
		}
		if stopped {
			return
		}
	}
	e.flush()
}
