package diff

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/ampbraze/ampbraze/internal/ordered"
)

// A batch is a run of consecutive input records planned by one worker.
type batch struct {
	recs  []Record
	attrs []Attr // backing store of the records' Attrs
	index []int64
	fps   []uint64 // stored state fingerprints (see stateTable)
	pre   []error  // set when the record was rejected before planning
	out   []planned
}

type planned struct {
	ch  Change
	ok  bool
	err error
}

const batchLen = 256

// planInput plans every input record; it reports false if the consumer
// stopped or the plan ended. One goroutine reads the input in order (keys,
// duplicates), workers compare batches with the state in parallel, and
// the results go out here in input order.
func (p *Plan) planInput(out *emitter) bool {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	batches := ordered.Run(workers, 2*workers, newBatch, (*batch).reset, p.readInput,
		func() func(*batch) {
			w := &planner{p: p, cache: make(map[string]attrRef)}
			return func(b *batch) {
				for i := range b.recs {
					if b.pre[i] == nil {
						ch, ok, err := w.planRecord(b.recs[i], b.index[i], b.fps[i])
						b.out[i] = planned{ch, ok, err}
					}
				}
				w.merge()
			}
		})
	for b := range batches {
		for i := range b.recs {
			if err := b.pre[i]; err != nil {
				if !out.recordError(err) {
					return false
				}
				continue
			}
			r := b.out[i]
			var sf *storeFailure
			if errors.As(r.err, &sf) {
				p.fail(sf.err)
				return false
			}
			if r.err != nil {
				if !out.recordError(r.err) {
					return false
				}
				continue
			}
			if r.ok && !out.change(r.ch) {
				return false
			}
		}
		if !out.tick() {
			return false
		}
	}
	// The reading goroutine has ended (the iteration over batches waits
	// for it), so p.stop is safe to read.
	if p.stop != nil {
		p.fail(p.stop)
		return false
	}
	return true
}

// readInput reads the input in order into batches, starting with b,
// settles what depends on order (key seen before, duplicates) and hands
// each batch over with send.
func (p *Plan) readInput(b *batch, send func(*batch) (*batch, bool)) {
	var index int64 = -1
	for rec, err := range p.records {
		index++
		p.read.Add(1)
		p.nonEmpty = true
		p.lastErr = err != nil
		if index&255 == 0 {
			if cerr := p.ctx.Err(); cerr != nil {
				p.stop = fmt.Errorf("%w at record %d: %w", ErrInputEnded, index, cerr)
				break
			}
			if p.done.Load() {
				p.stop = ErrPlanClosed
				break
			}
		}
		if err != nil && isFatal(err) {
			p.stop = fmt.Errorf("%w at record %d: %w", ErrInputEnded, index, err)
			break
		}
		var pre error
		var fp uint64
		switch {
		case err != nil && rec.Key == "":
			p.sumMu.Lock()
			p.unattributable = true
			p.sumMu.Unlock()
			pre = &RecordError{Index: index, Err: err}
		case err != nil && !p.mine(keyHash(rec.Key)):
			continue // another worker reports it
		case err != nil:
			// The key is known: it has not vanished, it is only unplannable.
			p.see(keyHash(rec.Key))
			pre = &RecordError{Index: index, Key: rec.Key, Err: err}
		case rec.Key == "":
			p.sumMu.Lock()
			p.unattributable = true
			p.sumMu.Unlock()
			pre = &RecordError{Index: index, Err: errors.New("empty key")}
		case !p.mine(keyHash(rec.Key)):
			p.sumMu.Lock()
			p.sum.OtherPartitions++
			p.sumMu.Unlock()
			continue // another worker's key
		default:
			var dup bool
			if fp, dup = p.see(keyHash(rec.Key)); dup {
				// The first record of a key wins: planning the later one
				// too would send both, and the key would never settle.
				p.sumMu.Lock()
				p.sum.Duplicates++
				p.sumMu.Unlock()
				pre = &DuplicateKeyError{Key: rec.Key, Index: index}
			}
		}
		// The batch keeps its own copy of the Attrs slice (not of the
		// values), so the input may reuse the slice for its next record.
		start := len(b.attrs)
		b.attrs = append(b.attrs, rec.Attrs...)
		rec.Attrs = b.attrs[start:len(b.attrs):len(b.attrs)]
		b.recs = append(b.recs, rec)
		b.index = append(b.index, index)
		b.fps = append(b.fps, fp)
		b.pre = append(b.pre, pre)
		if len(b.recs) == batchLen {
			var ok bool
			if b, ok = send(b); !ok {
				return
			}
		}
	}
	if len(b.recs) > 0 {
		send(b)
	}
}

// reset empties b for reuse, dropping its references to records and
// changes already yielded.
func (b *batch) reset() {
	clear(b.recs)
	clear(b.attrs)
	clear(b.pre)
	clear(b.out)
	b.recs, b.attrs = b.recs[:0], b.attrs[:0]
	b.index, b.fps, b.pre = b.index[:0], b.fps[:0], b.pre[:0]
}

func newBatch() *batch {
	return &batch{
		recs:  make([]Record, 0, batchLen),
		index: make([]int64, 0, batchLen),
		fps:   make([]uint64, 0, batchLen),
		pre:   make([]error, 0, batchLen),
		out:   make([]planned, batchLen),
	}
}

// see records that the input carried the key hashed kh; it returns the
// fingerprint of the key's stored state (0 if unknown) and whether the
// input carried the key before. Only the goroutine reading the input calls
// it.
func (p *Plan) see(kh uint64) (fp uint64, dup bool) {
	if p.states != nil {
		return p.states.visit(kh)
	}
	return 0, p.seen.add(kh)
}

// wasSeen reports whether the input carried the key hashed kh.
func (p *Plan) wasSeen(kh uint64) bool {
	if p.states != nil {
		return p.states.has(kh)
	}
	return p.seen.has(kh)
}
