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

// outputs holds one open part file per event type.
type outputs struct {
	dir, format, stamp string
	parts              map[string]*part
	all                []*part // every part opened, in order
}

// part is one output file. Each Currents file has one writer schema, so a
// CSV part's columns are the fields of the first event written to it; a file
// of the same type with other fields (an older or newer schema) starts a new
// part.
type part struct {
	path    string
	f       *os.File
	bw      *bufio.Writer // ndjson
	cw      *csv.Writer   // csv
	columns []string
	n       int // part number within the run
	rows    int // events in the part
	closed  bool
}

func newOutputs(dir, format string, now time.Time) *outputs {
	return &outputs{dir: dir, format: format, stamp: now.Format("20060102T150405Z"), parts: map[string]*part{}}
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
	_, err := p.f.Seek(off, io.SeekStart)
	return err
}

func (o *outputs) write(ev currents.Event) error {
	fe, ok := ev.(currents.FieldEvent)
	if !ok {
		return fmt.Errorf("event %s (%T) has no field access", ev.EventID(), ev)
	}
	t := ev.EventType()
	p := o.parts[t]
	if p == nil || (o.format == "csv" && !slices.Equal(p.columns, fe.Fields())) {
		var err error
		if p, err = o.open(t, p, fe.Fields()); err != nil {
			return err
		}
	}
	p.rows++
	if p.cw != nil {
		row := make([]string, len(p.columns))
		for i, name := range p.columns {
			v, _ := fe.Get(name)
			row[i] = cell(v)
		}
		return p.cw.Write(row)
	}
	b, err := fe.MarshalJSON()
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.EventID(), err)
	}
	p.bw.Write(b)
	return p.bw.WriteByte('\n')
}

// open starts the next part of an event type.
func (o *outputs) open(eventType string, prev *part, columns []string) (*part, error) {
	n := 1
	if prev != nil {
		if err := prev.close(); err != nil {
			return nil, err
		}
		n = prev.n + 1
	}
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
	p := &part{path: path, f: f, n: n, columns: slices.Clone(columns)}
	if o.format == "csv" {
		p.cw = csv.NewWriter(f)
		if err := p.cw.Write(p.columns); err != nil {
			return nil, err
		}
	} else {
		p.bw = bufio.NewWriterSize(f, 256<<10)
	}
	o.parts[eventType] = p
	o.all = append(o.all, p)
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
	if p.cw != nil {
		p.cw.Flush()
		return p.cw.Error()
	}
	return p.bw.Flush()
}

func (p *part) close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := errors.Join(p.flush(), p.f.Close())
	if p.rows == 0 { // everything in it was rolled back
		err = errors.Join(err, os.Remove(p.path))
	}
	return err
}

// sync makes everything written so far durable, before the checkpoint
// records the files as done.
func (o *outputs) sync() error {
	for _, p := range o.parts {
		if err := p.flush(); err != nil {
			return err
		}
		if err := p.f.Sync(); err != nil {
			return err
		}
	}
	return nil
}

// close closes every part, removes the empty ones and returns the names of
// the others, in the order they were opened. It may be called again.
func (o *outputs) close() ([]string, error) {
	var errs []error
	var names []string
	for _, p := range o.all {
		errs = append(errs, p.close())
		if p.rows > 0 {
			names = append(names, p.path)
		}
	}
	return names, errors.Join(errs...)
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
