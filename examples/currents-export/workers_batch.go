package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/pgdedupe"
	"github.com/ampbraze/ampbraze/objstore/pgclaim"
	"github.com/jackc/pgx/v5"
)

// workerBatch is a worker's batch not yet committed: its output parts in a
// staging folder of their own, its objects and the ids it wrote.
type workerBatch struct {
	id      string // <worker id>_<run tag>-<n>: names the staging folder, the commit and the parts
	dir     string
	outs    *outputs
	keys    []string
	ids     []pgdedupe.ID
	events  int64
	started time.Time
	// rep counts the batch's files, added to the run's report at commit:
	// a batch given up is exported again and counted then.
	rep report
}

// batch returns the open batch, opening one if there is none.
func (w *worker) batch() *workerBatch {
	if w.b != nil {
		return w.b
	}
	w.seq++
	id := fmt.Sprintf("%s_%s-%06d", w.c.workers.id, w.runTag, w.seq)
	dir := filepath.Join(w.c.out, stagingDir, id)
	outs := newOutputs(dir, w.c.format, w.c.now().UTC())
	if w.c.syncFile != nil {
		outs.syncFile = w.c.syncFile
	}
	outs.columns = w.c.columns
	w.b = &workerBatch{id: id, dir: dir, outs: outs, started: time.Now(), rep: report{byType: map[string]int64{}}}
	return w.b
}

// pass exports the files of src this worker claims, decoded ahead by the
// read-ahead's decoders, and commits them in batches; it returns nil when
// interrupted.
func (w *worker) pass(ctx context.Context, src *currents.Source, progress *progress) error {
	ahead := startReadAhead(ctx, src, prepareFor(w.c), w.c.decoderCount())
	defer ahead.stop()
	var cur *fileExport
	// abort rolls back the file being written when the pass ends in the
	// middle of it: its object stays claimed until Close releases it.
	abort := func(err error) error {
		if cur == nil {
			return err
		}
		if aerr := cur.abort(); aerr != nil {
			return &outputError{errors.Join(err, aerr)}
		}
		return err
	}
	for ch := range ahead.chunks() {
		if ctx.Err() != nil {
			return abort(nil)
		}
		if ch.file.Key.Raw == "" { // a listing or key failure
			var fe *currents.FileError
			if errors.As(ch.err, &fe) {
				w.rep.corrupt = append(w.rep.corrupt, ch.err)
				w.log.Warn("skipping file", "err", ch.err)
				continue
			}
			return ch.err // listing failed
		}
		b := w.batch()
		if ch.first {
			var err error
			if cur, err = startFile(ch.file, w.dedupe, b.outs); err != nil {
				return &outputError{err}
			}
		}
		if err := w.fresh(ctx, cur, ch); err != nil {
			return abort(err)
		}
		if err := cur.write(ch); err != nil {
			return &outputError{err}
		}
		ahead.release(ch)
		if ch.err != nil {
			if err := cur.abort(); err != nil {
				return &outputError{err}
			}
			cur = nil
			if ctx.Err() != nil {
				return nil // the file is read again by whoever claims it next
			}
			// Held until the worker ends, so that no worker reads it again
			// in this run; released then, for the next run.
			w.mu.Lock()
			w.corrupt[ch.file.Key.Raw] = true
			w.mu.Unlock()
			w.rep.files++
			w.rep.corrupt = append(w.rep.corrupt, ch.err)
			w.log.Warn("corrupt file", "err", ch.err)
			continue
		}
		if !ch.done {
			continue
		}
		n := cur.finish(&b.rep)
		b.rep.files++
		b.keys = append(b.keys, ch.file.Key.Raw)
		hour := ch.file.Key.Hour
		if hour.IsZero() { // a file outside the key layout: kept by the commit's hour
			hour = time.Now()
		}
		for _, id := range cur.added {
			b.ids = append(b.ids, pgdedupe.ID{EventType: ch.file.Key.EventType, ID: id, Hour: hour})
		}
		cur = nil
		b.events += n
		progress.file(ch.file.Key.Raw, n, w.rep)
		if b.events >= w.c.commitEvents || time.Since(b.started) >= w.c.commitInterval {
			if err := w.commit(ctx); err != nil {
				return err
			}
		}
	}
	return abort(nil)
}

// fresh drops from the chunk the events whose ids another worker (or this
// one, in an earlier batch) committed: one query for the chunk. They count
// as duplicates of the file.
func (w *worker) fresh(ctx context.Context, x *fileExport, ch *chunk) error {
	if len(ch.events) == 0 {
		return nil
	}
	ids := make([]string, len(ch.events))
	for i, ev := range ch.events {
		ids[i] = ev.EventID()
	}
	seen, err := w.ids.Seen(ctx, x.f.Key.EventType, ids)
	if err != nil {
		return err
	}
	for _, s := range seen {
		if s {
			x.dups++
		}
	}
	ch.keep(seen)
	return nil
}

// errCommittedElsewhere rolls back a batch's transaction when some of its
// ids were committed by another worker meanwhile.
var errCommittedElsewhere = errors.New("ids committed by another worker")

// commit closes the open batch's parts (one sync each), then, in one
// transaction, marks its objects done, records its ids and its name; then
// publishes its parts. A batch that lost an object's lease or holds an id
// another worker committed first is given up, not an error: its objects
// are exported again.
func (w *worker) commit(ctx context.Context) error {
	b := w.b
	if b == nil {
		return nil
	}
	w.b = nil
	if err := b.outs.commit(); err != nil {
		// outs.commit removed the parts.
		w.giveUp(ctx, b, "output failed")
		return &outputError{fmt.Errorf("output: %w", err)}
	}
	if len(b.keys) == 0 { // only rolled-back files
		return os.RemoveAll(b.dir)
	}
	var dups []pgdedupe.ID
	err := w.claims.Commit(ctx, b.id, b.keys, func(ctx context.Context, tx pgx.Tx) error {
		d, err := w.ids.Record(ctx, tx, b.ids)
		if err == nil && len(d) > 0 {
			dups, err = d, errCommittedElsewhere
		}
		return err
	})
	switch {
	case len(dups) > 0:
		w.log.Info("batch given up: another worker committed some of its events first; its files are exported again",
			"batch", b.id, "files", len(b.keys), "events", len(dups), "first", dups[0].ID)
		return w.giveUp(ctx, b, "")
	case errors.Is(err, pgclaim.ErrLeaseLost):
		w.log.Warn("batch given up: its lease ran out and another worker took some of its files", "batch", b.id, "err", err)
		return w.giveUp(ctx, b, "")
	case err != nil:
		// Whether the transaction committed is unknown (a connection lost
		// at COMMIT): the staging folder stays, and a sweep publishes it
		// if the database holds the batch.
		return fmt.Errorf("committing batch %s: %w", b.id, err)
	}
	paths, err := publish(w.c.out, b.dir, b.id)
	if err != nil {
		return fmt.Errorf("publishing committed batch %s (a later run's sweep finishes it): %w", b.id, err)
	}
	w.cp.Remember(b.keys...)
	w.rep.add(&b.rep)
	w.rep.outputs = append(w.rep.outputs, paths...)
	w.commits++
	return nil
}

// giveUp removes a batch's output and releases its objects, to be exported
// again by whichever worker claims them; why, when not empty, is logged.
func (w *worker) giveUp(ctx context.Context, b *workerBatch, why string) error {
	if why != "" {
		w.log.Warn("batch given up", "batch", b.id, "why", why)
	}
	w.givenUp++
	// This worker's own ids of the batch must go: a copy read again is
	// not a duplicate. The ids of committed batches are in the database.
	w.dedupe = currents.NewDeduper(w.c.dedupeWindow)
	// The folder goes before the claims: a sweep removes a folder only
	// once its worker holds no claims.
	err := os.RemoveAll(b.dir)
	if _, rerr := w.claims.Release(ctx, b.keys...); rerr != nil {
		err = errors.Join(err, rerr)
	}
	w.mu.Lock()
	w.revisit = append(w.revisit, b.keys...)
	w.mu.Unlock()
	return err
}

// abandon gives up the open batch after an output failure.
func (w *worker) abandon(ctx context.Context) {
	if b := w.b; b != nil {
		w.b = nil
		b.outs.abandon()
		if err := w.giveUp(ctx, b, "output failed"); err != nil {
			w.log.Warn("giving up the batch", "batch", b.id, "err", err)
		}
	}
}

// add adds the counts of o.
func (r *report) add(o *report) {
	r.files += o.files
	r.events += o.events
	r.written += o.written
	r.duplicates += o.duplicates
	r.outOfRange += o.outOfRange
	for t, n := range o.byType {
		r.byType[t] += n
	}
}
