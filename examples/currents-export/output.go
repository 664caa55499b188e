package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/ampbraze/ampbraze/currents"
)

// outputs holds one open part file per event type. The parts of a batch
// stay open, unsynced, until commit closes them: each part file is synced
// exactly once, when it is closed, and the next batch writes new parts.
type outputs struct {
	dir, format, stamp string
	parts              map[string]*part
	next               map[string]int // the next part number of each event type
	// syncFile makes a closed part durable; (*os.File).Sync, or a counting
	// wrapper in the benchmark.
	syncFile func(*os.File) error
	buf      []byte   // one event's JSON, reused
	cur      *part    // the part written last, found without a map lookup
	batch    []*part  // the parts opened since the last commit
	columns  []string // -columns: the CSV or Parquet columns of every part, or nil
	// csvLast and pqLast hold each event type's widest layout so far in
	// the run, which its next part starts from (after a commit too).
	csvLast map[string][]string
	pqLast  map[string][]pqColumn
	// pqSchemas caches the Parquet kinds of each writer schema seen.
	pqSchemas map[string]*writerKinds
	// seen is the scratch of the batched deduplication (fileExport.write).
	seen seenBatch
}

// part is one output file. A CSV or Parquet part's columns are chosen when
// it opens (see columnsFor, parquetLayout); an event with a field outside
// them starts a new part.
type part struct {
	eventType string
	path      string
	f         *os.File
	out       *writeback    // f, as the writers below write it
	bw        *bufio.Writer // ndjson
	cw        *csv.Writer   // csv
	pq        *pqPart       // parquet
	columns   []string
	n         int // part number within the run
	rows      int // events in the part
	closed    bool
	sync      func(*os.File) error
	pinned    bool // the columns are -columns
	// coveredFields is the last writer field list found within columns.
	coveredFields []string
}

func newOutputs(dir, format string, now time.Time) *outputs {
	return &outputs{
		dir: dir, format: format, stamp: now.Format("20060102T150405Z"),
		parts: map[string]*part{}, next: map[string]int{}, syncFile: (*os.File).Sync,
		csvLast: map[string][]string{}, pqLast: map[string][]pqColumn{}, pqSchemas: map[string]*writerKinds{},
	}
}

// mark is a position to roll back to.
type mark struct {
	eventType string
	part      *part
	offset    int64
	rows      int
}

// mark flushes the event type's part and returns its end.
func (o *outputs) mark(eventType string) (mark, error) {
	p := o.parts[eventType]
	if p == nil {
		return mark{eventType: eventType}, nil
	}
	if p.pq != nil {
		return mark{eventType: eventType, part: p, rows: p.rows}, p.pq.mark()
	}
	if err := p.flush(); err != nil {
		return mark{}, err
	}
	off, err := p.f.Seek(0, io.SeekCurrent)
	return mark{eventType: eventType, part: p, offset: off, rows: p.rows}, err
}

// rollback removes what was written for the event type since m. A part
// opened since then is emptied down to its CSV header.
func (o *outputs) rollback(m mark) error {
	p := o.parts[m.eventType]
	if p == nil {
		return nil
	}
	if p.pq != nil {
		p.rows = m.rows
		if p != m.part {
			p.rows = 0
		}
		return p.pq.rollback(p != m.part)
	}
	if err := p.flush(); err != nil {
		return err
	}
	off := m.offset
	p.rows = m.rows
	if p != m.part {
		off, p.rows = 0, 0
		if p.cw != nil {
			off = p.headerLen()
		}
	}
	if err := p.f.Truncate(off); err != nil {
		return err
	}
	p.out.truncated(off)
	_, err := p.f.Seek(off, io.SeekStart)
	return err
}

func (o *outputs) write(ev currents.Event) error {
	fe, ok := ev.(currents.FieldEvent)
	if !ok {
		return fmt.Errorf("event %s (%T) has no field access", ev.EventID(), ev)
	}
	t := ev.EventType()
	p := o.cur
	if p == nil || p.eventType != t {
		p = o.parts[t]
	}
	if o.format == "parquet" {
		return o.writeParquet(t, p, fe)
	}
	if p == nil || (p.cw != nil && !p.covers(fe.Fields())) {
		var err error
		if p, err = o.open(t, p, o.columnsFor(t, p, fe.Fields())); err != nil {
			return err
		}
	}
	o.cur = p
	p.rows++
	if p.cw != nil {
		row := make([]string, len(p.columns))
		for i, name := range p.columns {
			v, _ := fe.Get(name)
			row[i] = cell(v)
		}
		return p.cw.Write(row)
	}
	b, err := currents.AppendJSON(o.buf[:0], ev)
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.EventID(), err)
	}
	o.buf = append(b, '\n')
	_, err = p.bw.Write(o.buf)
	return err
}

// writeLines writes rows events of eventType already encoded as NDJSON
// lines.
func (o *outputs) writeLines(eventType string, lines []byte, rows int) error {
	p := o.cur
	if p == nil || p.eventType != eventType {
		p = o.parts[eventType]
	}
	if p == nil {
		var err error
		if p, err = o.open(eventType, nil, nil); err != nil {
			return err
		}
	}
	o.cur = p
	p.rows += rows
	_, err := p.bw.Write(lines)
	return err
}

// writeParquet writes an event to its type's Parquet part p (nil if none
// is open), opening a new part when the event's writer schema does not fit
// p's columns.
func (o *outputs) writeParquet(t string, p *part, fe currents.FieldEvent) error {
	fields := fe.Fields()
	if p == nil || !p.pq.fitsFast(fields) {
		wk, err := o.eventKinds(fe)
		if err != nil {
			return err
		}
		if p == nil || !p.pq.fits(fields, wk, p.pinned) {
			var prev []pqColumn
			if p != nil {
				prev = p.pq.layout
			}
			cols := o.parquetLayout(t, prev, wk)
			if p, err = o.open(t, p, nil); err != nil {
				return err
			}
			p.pq = newPQPart(p, cols)
		}
	}
	o.cur = p
	p.rows++
	return p.pq.write(fe)
}

// columnsFor returns the CSV columns of a new part of eventType whose
// event has the given writer fields: the pinned -columns if any; else the
// current part's columns (or, for a first part, the fields of the type's
// current Currents schema, for an unknown type none) followed by the
// writer fields they lack. So every writer schema of a type whose fields
// are within the current schema's (the older ones: fields are only ever
// added) shares one layout, and a newer schema's extra fields start one
// wider part rather than a part per schema. The next part of the type in
// the run (after a commit) starts from the widest columns so far.
func (o *outputs) columnsFor(eventType string, cur *part, fields []string) []string {
	if o.format != "csv" {
		return nil
	}
	if o.columns != nil {
		return o.columns
	}
	var cols []string
	if cur != nil {
		cols = slices.Clone(cur.columns)
	} else if last := o.csvLast[eventType]; last != nil {
		cols = slices.Clone(last)
	} else if fe, ok := currents.NewEvent(eventType).(currents.FieldEvent); ok {
		cols = slices.Clone(fe.Fields())
	}
	for _, f := range fields {
		if !slices.Contains(cols, f) {
			cols = append(cols, f)
		}
	}
	o.csvLast[eventType] = cols
	return cols
}

// covers reports whether the part's columns hold every one of the writer
// fields (or the columns are pinned). The answer is remembered for the
// last writer schema seen: its events share one fields slice.
func (p *part) covers(fields []string) bool {
	if p.pinned {
		return true
	}
	if len(fields) > 0 && len(fields) == len(p.coveredFields) && &fields[0] == &p.coveredFields[0] {
		return true
	}
	for _, f := range fields {
		if !slices.Contains(p.columns, f) {
			return false
		}
	}
	p.coveredFields = fields
	return true
}

// open starts the next part of an event type.
func (o *outputs) open(eventType string, prev *part, columns []string) (*part, error) {
	if prev != nil {
		if err := prev.close(); err != nil {
			return nil, err
		}
	}
	n := max(o.next[eventType], 1)
	var (
		path string
		f    *os.File
		err  error
	)
	// Parts of a run are numbered; a run in the same second as an
	// earlier one goes on numbering after its parts, never overwriting.
	for ; ; n++ {
		name := "part-" + o.stamp
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		path = filepath.Join(o.dir, eventType, name+"."+o.format)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	o.next[eventType] = n + 1
	p := &part{eventType: eventType, path: path, f: f, out: &writeback{f: f}, n: n, columns: slices.Clone(columns), sync: o.syncFile, pinned: o.columns != nil}
	switch o.format {
	case "parquet": // the caller sets p.pq
	case "csv":
		p.cw = csv.NewWriter(p.out)
		if err := p.cw.Write(p.columns); err != nil {
			return nil, err
		}
	default:
		p.bw = bufio.NewWriterSize(p.out, 256<<10)
	}
	o.parts[eventType] = p
	o.batch = append(o.batch, p)
	return p, nil
}

func (p *part) headerLen() int64 {
	var b countWriter
	w := csv.NewWriter(&b)
	w.Write(p.columns)
	w.Flush()
	return int64(b)
}

type countWriter int64

func (c *countWriter) Write(b []byte) (int, error) { *c += countWriter(len(b)); return len(b), nil }

func (p *part) flush() error {
	if p.pq != nil {
		return nil // written at close
	}
	if p.cw != nil {
		p.cw.Flush()
		return p.cw.Error()
	}
	return p.bw.Flush()
}

// close flushes the part, syncs it (its one sync) and closes it; a part
// whose rows were all rolled back is removed instead.
func (p *part) close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if p.rows == 0 { // everything in it was rolled back
		return errors.Join(p.f.Close(), os.Remove(p.path))
	}
	err := p.flush()
	if err == nil && p.pq != nil {
		err = p.pq.close()
	}
	if err == nil {
		err = p.sync(p.f)
	}
	return errors.Join(err, p.f.Close())
}

// commit closes the parts of the batch, making everything written so far
// durable before the checkpoint records the input files as done. The next
// event of a type opens a new part. If a part fails to close, every part
// of the batch is removed, those already synced too: the batch's input
// files are not checkpointed, and the next run exports them again.
func (o *outputs) commit() error {
	var errs []error
	for _, p := range o.batch {
		errs = append(errs, p.close())
	}
	err := errors.Join(errs...)
	if err != nil {
		o.removeBatch()
	}
	o.batch = o.batch[:0]
	clear(o.parts)
	o.cur = nil
	return err
}

// removeBatch closes and removes the parts of the batch.
func (o *outputs) removeBatch() {
	for _, p := range o.batch {
		if !p.closed {
			p.closed = true
			p.f.Close()
		}
		if p.rows > 0 {
			p.rows = 0
			os.Remove(p.path)
		}
	}
}

// abandon closes and removes the parts of the batch, after a failure that
// keeps it from being committed: its input files are not checkpointed, so
// the next run exports them again, and must not find them exported twice.
func (o *outputs) abandon() {
	o.removeBatch()
	o.batch = o.batch[:0]
	clear(o.parts)
	o.cur = nil
}

// cell renders a field value for CSV: text as is, null as empty, arrays and
// objects as JSON.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
