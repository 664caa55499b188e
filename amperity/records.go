package amperity

import (
	"iter"
	"runtime"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/internal/ordered"
)

// Records maps a stream of rows, in row order, following the convention
// of FatalError:
//
//   - A bad row (an *InputError from the reader, or a value that does not
//     convert) is yielded as its *InputError and the stream goes on with
//     the next row; a caller who wants to stop at the first bad row breaks
//     out of the loop, which stops reading. When the row's identifier was
//     read, the error comes with a Record holding only that Key, so that a
//     delta engine knows the user is still in the export and plans no
//     removal for it; otherwise the Record is zero.
//   - An error after which the rows cannot go on (an unterminated quote, a
//     read failure, a cancelled context, rows whose columns the mapper does
//     not know) is yielded last, as a *FatalError with a zero Record, and
//     the stream ends. errors.Is(err, ErrFatal) is true for it, and it has
//     the method Fatal() bool, true. An error from rows that is neither an
//     *InputError nor fatal (a custom source's own error) is taken as fatal
//     too, since nothing says the rows after it will come.
//
// Columns are found in each row by name, through the Row's Schema (see Row).
//
// Unless MapWorkers(0) is set, the rows are read on one goroutine and
// mapped by up to GOMAXPROCS (at most 4) others, a batch of rows at a time;
// these goroutines end before Records returns, also when the loop breaks
// early or panics. The records of one batch share the backing array of
// their Attrs slices; with ReuseRecords that array is reused once the batch
// has been consumed.
func (m *Mapper) Records(rows iter.Seq2[Row, error]) iter.Seq2[diff.Record, error] {
	workers := m.cfg.workers
	if workers < 0 {
		workers = min(runtime.GOMAXPROCS(0), 4)
		if workers == 1 {
			workers = 0 // one core: a second goroutine would only add handoffs
		}
	}
	if workers == 0 {
		return m.records(rows)
	}
	return m.recordsParallel(rows, workers)
}

// records maps on the caller's goroutine.
func (m *Mapper) records(rows iter.Seq2[Row, error]) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		var buf []diff.Attr
		if m.cfg.reuse {
			buf = make([]diff.Attr, 0, m.attrsPerRecord())
		}
		for row, err := range rows {
			if err != nil {
				if !isRowError(err) {
					yield(diff.Record{}, fatal(err))
					return
				}
				if !yield(diff.Record{}, err) {
					return
				}
				continue
			}
			rec, err := m.mapRow(row, buf)
			if err != nil {
				if isFatal(err) {
					yield(diff.Record{}, err)
					return
				}
				if !yield(diff.Record{Key: rec.Key}, err) {
					return
				}
				continue
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

func (m *Mapper) attrsPerRecord() int {
	n := len(m.targets)
	if m.cfg.audienceArray != "" {
		n++
	}
	if m.cfg.updateOnly {
		n++
	}
	return n
}

// mapBatchLen is the number of rows a worker maps at a time: large enough
// that handing a batch over costs little per row, small enough that the
// rows read ahead stay a few hundred kilobytes.
const mapBatchLen = 256

// rowBatch is a run of consecutive rows, mapped by one worker.
type rowBatch struct {
	rows  []Row
	errs  []error // the reader's error for the row, if any
	cells []Cell  // backing array of the rows' Cells (readers reuse theirs)
	recs  []diff.Record
	attrs []diff.Attr // backing array of the records' Attrs
}

// recordsParallel reads rows on one goroutine, maps batches on workers
// and yields the records here, in row order.
func (m *Mapper) recordsParallel(rows iter.Seq2[Row, error], workers int) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		batches := ordered.Run(workers, workers+1,
			func() *rowBatch { return &rowBatch{} },
			func(b *rowBatch) { b.reset(m.cfg.reuse) },
			func(b *rowBatch, send func(*rowBatch) (*rowBatch, bool)) { m.readBatches(rows, b, send) },
			func() func(*rowBatch) { return m.mapBatch })
		for b := range batches {
			for i := range b.rows {
				if err := b.errs[i]; err != nil {
					if isFatal(err) {
						yield(diff.Record{}, err)
						return
					}
					if !yield(diff.Record{Key: b.recs[i].Key}, err) {
						return
					}
					continue
				}
				if !yield(b.recs[i], nil) {
					return
				}
			}
		}
	}
}

// readBatches reads the rows in order into batches, starting with b, and
// hands each over with send.
func (m *Mapper) readBatches(rows iter.Seq2[Row, error], b *rowBatch, send func(*rowBatch) (*rowBatch, bool)) {
	for row, err := range rows {
		// The row's Cells slice is the reader's, reused for its next row:
		// the batch keeps a copy (the strings in it are immutable).
		start := len(b.cells)
		b.cells = append(b.cells, row.Cells...)
		row.Cells = b.cells[start:len(b.cells):len(b.cells)]
		stop := false
		if err != nil && !isRowError(err) {
			err, stop = fatal(err), true // the last item: read no further
		}
		b.rows = append(b.rows, row)
		b.errs = append(b.errs, err)
		if stop {
			break
		}
		if len(b.rows) == mapBatchLen {
			var ok bool
			if b, ok = send(b); !ok {
				return
			}
		}
	}
	if len(b.rows) > 0 {
		send(b)
	}
}

// mapBatch maps the rows of b, filling b.recs and, for rows that do not
// map, b.errs.
func (m *Mapper) mapBatch(b *rowBatch) {
	per := m.attrsPerRecord()
	if cap(b.attrs) == 0 {
		b.attrs = make([]diff.Attr, 0, per*len(b.rows))
	}
	b.recs = b.recs[:0]
	for i, row := range b.rows {
		if b.errs[i] != nil {
			b.recs = append(b.recs, diff.Record{})
			continue
		}
		start := len(b.attrs)
		rec, err := m.mapRow(row, b.attrs[start:start:cap(b.attrs)])
		if err != nil {
			b.errs[i] = err
			b.recs = append(b.recs, diff.Record{Key: rec.Key})
			if isFatal(err) {
				return // nothing after it is yielded
			}
			continue
		}
		if n := len(rec.Attrs); start+n <= cap(b.attrs) && n > 0 && &rec.Attrs[0] == &b.attrs[:start+1][start] {
			// Mapped in place: claim the arena space and clip the
			// record's capacity, so appending to it cannot overwrite the
			// next record's attributes.
			b.attrs = b.attrs[:start+n]
			rec.Attrs = rec.Attrs[:n:n]
		}
		b.recs = append(b.recs, rec)
	}
}

// reset empties b for reuse. Without reuse the records handed out keep
// their Attrs arena, so the batch gets a new one. The old contents are not
// cleared: they are overwritten by the next rows, and what they keep
// alive until then is bounded by the few batches in flight.
func (b *rowBatch) reset(reuseAttrs bool) {
	b.rows, b.cells, b.errs, b.recs = b.rows[:0], b.cells[:0], b.errs[:0], b.recs[:0]
	if reuseAttrs {
		b.attrs = b.attrs[:0]
	} else {
		b.attrs = nil
	}
}
