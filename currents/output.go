package currents

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// EventWriter is implemented by NDJSONWriter and CSVWriter.
type EventWriter interface {
	Write(Event) error
	Flush() error
}

// NDJSONWriter writes events as newline-delimited JSON, one JSON view
// (see FieldEvent.MarshalJSON) per line, ready for a warehouse or an
// Amperity JSON feed.
type NDJSONWriter struct {
	w *bufio.Writer
}

// NewNDJSONWriter returns a writer to w. Call Flush when done.
func NewNDJSONWriter(w io.Writer) *NDJSONWriter {
	return &NDJSONWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one event as a line of JSON.
func (w *NDJSONWriter) Write(ev Event) error {
	fe, ok := ev.(FieldEvent)
	if !ok {
		return fmt.Errorf("currents: NDJSON: event %T has no JSON view", ev)
	}
	b, err := fe.MarshalJSON()
	if err != nil {
		return fmt.Errorf("currents: NDJSON: event %s: %w", ev.EventID(), err)
	}
	w.w.Write(b)
	return w.w.WriteByte('\n')
}

// Flush writes buffered lines to the underlying writer.
func (w *NDJSONWriter) Flush() error { return w.w.Flush() }

// CSVWriter writes events of one event type as CSV: a header row of
// column names, then a row per event. Columns are the current schema's
// fields for a known type, otherwise the first event's writer schema
// fields (or WithColumns). Null and absent fields are empty cells;
// numbers are plain decimals, arrays JSON.
type CSVWriter struct {
	cw        *csv.Writer
	eventType string
	columns   []string
	started   bool
	row       []string
}

// CSVOption configures a CSVWriter.
type CSVOption func(*CSVWriter)

// WithColumns fixes the columns (Avro field names) and their order.
func WithColumns(columns ...string) CSVOption {
	return func(w *CSVWriter) { w.columns = append([]string(nil), columns...) }
}

// NewCSVWriter returns a CSV writer for events of eventType. Call Flush
// when done.
func NewCSVWriter(w io.Writer, eventType string, opts ...CSVOption) *CSVWriter {
	cw := &CSVWriter{cw: csv.NewWriter(w), eventType: eventType}
	if ti, ok := knownTypes[eventType]; ok {
		cw.columns = append([]string(nil), ti.defaultPlan.names...)
	}
	for _, o := range opts {
		o(cw)
	}
	return cw
}

// Columns returns the column names, known once the header is decided
// (at construction for a known type, else at the first Write).
func (w *CSVWriter) Columns() []string { return w.columns }

// Write writes one event as a row. An event of another type is an error.
func (w *CSVWriter) Write(ev Event) error {
	if ev.EventType() != w.eventType {
		return fmt.Errorf("currents: CSV for %s given a %s event", w.eventType, ev.EventType())
	}
	fe, ok := ev.(FieldEvent)
	if !ok {
		return fmt.Errorf("currents: CSV: event %T has no field access", ev)
	}
	if !w.started {
		if w.columns == nil {
			w.columns = append([]string(nil), fe.Fields()...)
		}
		if err := w.cw.Write(w.columns); err != nil {
			return err
		}
		w.started = true
		w.row = make([]string, len(w.columns))
	}
	for i, c := range w.columns {
		v, _ := fe.Get(c)
		cell, err := csvCell(v)
		if err != nil {
			return fmt.Errorf("currents: CSV: event %s field %s: %w", ev.EventID(), c, err)
		}
		w.row[i] = cell
	}
	return w.cw.Write(w.row)
}

// Flush writes buffered rows and reports any write error.
func (w *CSVWriter) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
}

func csvCell(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float32:
		return string(appendFloat(nil, float64(x), true)), nil
	case float64:
		return string(appendFloat(nil, x, false)), nil
	}
	b, err := appendJSONValue(nil, v, 0)
	return string(b), err
}

// Splitter routes events to one EventWriter per event type, opened on
// first use, so a mixed stream (several files, several types) becomes one
// output per type.
type Splitter struct {
	open    func(eventType string) (EventWriter, error)
	writers map[string]EventWriter
	order   []string
}

// NewSplitter returns a Splitter that calls open for each new event type.
// Closing whatever open created is the caller's job, after Flush.
func NewSplitter(open func(eventType string) (EventWriter, error)) *Splitter {
	return &Splitter{open: open, writers: map[string]EventWriter{}}
}

// Write writes ev to its type's writer.
func (s *Splitter) Write(ev Event) error {
	t := ev.EventType()
	w, ok := s.writers[t]
	if !ok {
		var err error
		if w, err = s.open(t); err != nil {
			return fmt.Errorf("currents: open writer for %s: %w", t, err)
		}
		s.writers[t] = w
		s.order = append(s.order, t)
	}
	return w.Write(ev)
}

// Flush flushes every writer opened so far, returning the first error.
func (s *Splitter) Flush() error {
	var first error
	for _, t := range s.order {
		if err := s.writers[t].Flush(); err != nil && first == nil {
			first = fmt.Errorf("currents: flush %s: %w", t, err)
		}
	}
	return first
}
