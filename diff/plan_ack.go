package diff

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Ack reports the destination's answer for ch: nil if it accepted the
// change, the error otherwise; each change is acknowledged once.
//
//   - Accepted: the change's values reach the state, in atomic batches (see
//     WithAckBatch), durably at least every flush interval
//     (WithFlushInterval) and at Commit.
//   - An error implementing Rejection (the destination refused the values):
//     the state keeps what it held and remembers the values as rejected,
//     so they are not sent again until the input changes them.
//   - An error whose NotApplied() is true (see NotApplied; the request was
//     refused as a whole): the state stays as it was.
//   - Any other error: the send may still have been applied (a timeout
//     after the destination wrote it), so the attributes it carried stay
//     unknown in the state, as their intent left them: the next run sends
//     them again, or their removal, whatever the input then says.
//
// A change never acknowledged stays unknown the same way. Ack may be
// called from any goroutine, while Changes is still running. It does no
// I/O on the plan's context, so acknowledgements made after a
// cancellation (Ctrl-C) are still recorded. The error is that of writing
// a batch to the store (the plan can then no longer commit), or
// ErrPlanClosed.
func (p *Plan) Ack(ch Change, sendErr error) error {
	if ch.plan != p {
		return errors.New("diff: Ack of a change from another plan")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return ErrPlanClosed
	}
	key := userKey(nil, p.scopeID, ch.Key)
	var op Op
	switch {
	case sendErr == nil:
		p.acked.Add(1)
		op = Op{Key: key, Value: ch.state, Delete: ch.state == nil}
	case rejected(sendErr) && !p.cfg.resendRejected:
		p.rejected.Add(1)
		st, err := rejectState(ch.orig, ch.sent)
		if err != nil {
			return nil // the intent (values unknown) stays: they are sent again
		}
		op = Op{Key: key, Value: st}
	case notApplied(sendErr):
		if rejected(sendErr) {
			p.rejected.Add(1)
		} else {
			p.failed.Add(1)
		}
		// The destination certainly did not apply it: the state goes back
		// to what it was, so a user it never held does not become a
		// tracked user whose later absence plans a removal.
		op = Op{Key: key, Value: ch.orig, Delete: ch.orig == nil}
	default:
		p.failed.Add(1)
		return p.ackErr // the intent already holds the failed state
	}
	if p.cfg.dryRun {
		return nil
	}
	if p.ackErr != nil {
		return p.ackErr
	}
	if op.Delete {
		p.pendDelta-- // the intent had created the key
	}
	if sendErr == nil {
		p.pendingN++
	}
	p.pending = append(p.pending, op)
	if len(p.pending) >= p.eng.cfg.batchSize {
		// Every syncEvery batches the write is synced, so a crash loses a
		// bounded number of accepted changes (they are sent again).
		return p.flushLocked(p.batches+1 >= syncEvery)
	}
	if p.flushTimer == nil {
		p.flushTimer = time.AfterFunc(p.eng.cfg.flushInterval, p.timedFlush)
	}
	return nil
}

// syncEvery is how many acknowledgement batches are written between syncs.
const syncEvery = 16

// timedFlush writes the pending acknowledgements durably, so that at most
// a flush interval of accepted work is ever lost to a kill.
func (p *Plan) timedFlush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushTimer = nil
	if p.done.Load() || p.cfg.dryRun {
		return
	}
	_ = p.flushLocked(true) // an error is kept in p.ackErr for Ack and Commit
}

// writeIntents marks what the changes carry as unknown in the state, in
// one durable batch, before they are yielded (and so before they can be
// sent): after a crash at any later point the next run knows these
// attributes may be at the destination.
func (p *Plan) writeIntents(chs []Change) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return ErrPlanClosed
	}
	ops := make([]Op, 0, len(chs))
	var delta int64
	for _, ch := range chs {
		// A key planned without state is absent: nothing else writes it
		// while the scope (or partition) is locked, and an input key is
		// planned once.
		ops = append(ops, Op{Key: userKey(nil, p.scopeID, ch.Key), Value: ch.fail, Absent: ch.orig == nil})
		if ch.orig == nil {
			delta++
		}
	}
	return p.writeLocked(ops, delta, true)
}

// flushLocked writes the pending acknowledgements in one atomic batch.
// p.mu must be held.
func (p *Plan) flushLocked(durable bool) error {
	if len(p.pending) == 0 && !durable {
		return p.ackErr
	}
	if err := p.writeLocked(p.pending, p.pendDelta, durable); err != nil {
		return err
	}
	p.unsynced += p.pendingN
	p.batches++
	if durable {
		p.committed.Add(p.unsynced)
		p.unsynced, p.batches = 0, 0
	}
	clear(p.pending)
	p.pending = p.pending[:0]
	p.pendingN, p.pendDelta = 0, 0
	return nil
}

// writeLocked writes ops in one atomic batch with the attribute names
// they may refer to and the scope's key count changed by delta, so that a
// crash leaves all of them or none. It never uses a context the caller may
// cancel: what it writes was already decided. p.mu must be held.
func (p *Plan) writeLocked(ops []Op, delta int64, durable bool) error {
	if p.ackErr != nil {
		return p.ackErr
	}
	p.dictMu.Lock()
	unsaved := slices.Clone(p.unsaved)
	names := make([]string, len(unsaved))
	for i, id := range unsaved {
		names[i] = p.names[id]
	}
	p.dictMu.Unlock()
	all := make([]Op, 0, len(unsaved)+len(ops)+1)
	for i, id := range unsaved {
		all = append(all, Op{Key: attrKey(p.scopeID, names[i]), Value: binary.AppendUvarint(nil, uint64(id))})
	}
	all = append(all, ops...)
	count := p.keyCount + delta
	all = append(all, Op{Key: p.countKey(), Value: binary.AppendUvarint(nil, uint64(max(count, 0)))})
	if err := p.eng.store.Apply(context.WithoutCancel(p.ctx), all, durable); err != nil {
		p.ackErr = fmt.Errorf("diff: writing the state of scope %q: %w", p.scope, err)
		p.fail(p.ackErr)
		return p.ackErr
	}
	p.dictMu.Lock()
	p.unsaved = p.unsaved[len(unsaved):]
	p.dictMu.Unlock()
	p.keyCount = count
	return nil
}

// Flush writes the acknowledgements received so far durably, without
// ending the plan, so a long sync can checkpoint.
func (p *Plan) Flush(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return ErrPlanClosed
	}
	if p.cfg.dryRun {
		return nil
	}
	return p.flushLocked(true)
}

// Commit writes the accepted changes durably and atomically, ends the plan
// and releases the scope. It writes also when ctx is already cancelled
// (after Ctrl-C): what the destination accepted must be recorded. Its
// error is that of the write or, when the write succeeded, Err: the error
// that ended the plan early, so a caller that checks only Commit never
// takes an incomplete run for a complete one. Changes acknowledged after
// Commit are refused with ErrPlanClosed, and planned again by the next run.
func (p *Plan) Commit(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return ErrPlanClosed
	}
	p.stopTimer()
	var err error
	if !p.cfg.dryRun {
		err = p.flushLocked(true)
	}
	p.done.Store(true)
	p.eng.release(p.lockName)
	pr := p.Progress()
	if err == nil {
		err = p.Err()
	}
	p.eng.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "diff: plan committed",
		slog.String("scope", p.scope), slog.Int64("read", pr.Read), slog.Int64("emitted", pr.Emitted),
		slog.Int64("acked", pr.Acked), slog.Int64("rejected", pr.Rejected), slog.Int64("failed", pr.Failed),
		slog.Int64("committed", pr.Committed), slog.Any("error", err))
	return err
}

// Close ends the plan without committing: acknowledgements not yet
// written are dropped, and what they concern is planned again by the next
// run. Close after Commit does nothing, so it can be deferred.
func (p *Plan) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return nil
	}
	p.stopTimer()
	p.done.Store(true)
	p.pending = nil
	p.eng.release(p.lockName)
	return nil
}

// stopTimer cancels a pending timed flush; p.mu must be held.
func (p *Plan) stopTimer() {
	if p.flushTimer != nil {
		p.flushTimer.Stop()
		p.flushTimer = nil
	}
}
