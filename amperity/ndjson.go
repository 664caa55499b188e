package amperity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"unicode/utf8"
)

// NDJSONReader streams newline-delimited JSON: one object per line whose
// keys are column names and whose values are scalars (string, number,
// boolean, null). Arrays and objects are passed on as raw JSON cells. A key
// that is missing from a line is NULL, as Spark-based exports omit null
// fields. Blank lines are skipped. Gzip input is recognised by its magic
// bytes.
type NDJSONReader struct {
	cfg    readerConfig
	schema Schema
	index  map[string]int
	lineReader
	pending    []byte // the first object, read to learn the columns
	pendingNum int64
	rowNum     int64
	used       bool
	seen       []bool
}

// NewNDJSONReader prepares to read NDJSON from r. With WithSchema the
// columns are the schema's; without, they are the keys of the first object,
// in order, typed String. Options for delimited text are rejected.
func NewNDJSONReader(ctx context.Context, r io.Reader, opts ...ReaderOption) (*NDJSONReader, error) {
	cfg := defaultReaderConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.delimiterOpts {
		return nil, &ConfigError{Err: ErrInvalidOption, Detail: "delimiter, quote, escape and header options apply to delimited text only"}
	}
	if cfg.maxRecord <= 0 {
		return nil, &ConfigError{Err: ErrInvalidOption, Detail: "maximum record size must be positive"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br, err := openText(r, 64<<10)
	if err != nil {
		return nil, &InputError{Source: cfg.source, Err: err}
	}
	nr := &NDJSONReader{cfg: cfg, lineReader: lineReader{br: br, max: cfg.maxRecord}}
	if cfg.schema != nil {
		nr.schema = *cfg.schema
	} else {
		line, err := nr.nextLine()
		if err == io.EOF {
			return nil, &InputError{Source: cfg.source, Err: fmt.Errorf("%w: the input is empty and no schema was given", ErrNoHeader)}
		}
		if err != nil {
			if fe, ok := err.(*FatalError); ok {
				err = fe.Err // a constructor's error is not a stream item
			}
			return nil, &InputError{Source: cfg.source, Line: nr.line, Err: err}
		}
		keys, err := objectKeys(line)
		if err != nil {
			return nil, &InputError{Source: cfg.source, Row: 1, Line: nr.line, Err: err}
		}
		if err := checkHeader(keys); err != nil {
			return nil, &InputError{Source: cfg.source, Row: 1, Line: nr.line, Err: err}
		}
		nr.schema = stringSchema(keys)
		nr.pending = append([]byte(nil), line...)
		nr.pendingNum = nr.line
	}
	nr.index = make(map[string]int, nr.schema.Len())
	for i, c := range nr.schema.cols {
		nr.index[c.Name] = i
	}
	nr.seen = make([]bool, nr.schema.Len())
	return nr, nil
}

// Schema returns the columns: the schema's, or the first object's keys.
func (r *NDJSONReader) Schema() Schema { return r.schema }

// nextLine returns the next non-blank line.
func (r *NDJSONReader) nextLine() ([]byte, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
	}
}

// Rows returns the data rows, once. A line that is not a JSON object of
// known columns, has a duplicate key or invalid UTF-8 is yielded as an
// *InputError and reading goes on; an oversized line, a read or gzip
// failure or a cancelled ctx is a *FatalError (see ErrFatal), yielded last.
// Each Row carries the reader's Schema; its Cells slice is reused.
func (r *NDJSONReader) Rows(ctx context.Context) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		if r.used {
			yield(Row{}, &FatalError{Err: errors.New("amperity: NDJSONReader.Rows called twice")})
			return
		}
		r.used = true
		cells := make([]Cell, r.schema.Len())
		for {
			if r.rowNum&255 == 0 {
				if err := ctx.Err(); err != nil {
					yield(Row{}, &FatalError{Err: &InputError{Source: r.cfg.source, Row: r.rowNum + 1, Err: err}})
					return
				}
			}
			var line []byte
			var lineNum int64
			if r.pending != nil {
				line, lineNum, r.pending = r.pending, r.pendingNum, nil
			} else {
				var err error
				line, err = r.nextLine()
				if err == io.EOF {
					return
				}
				if err != nil {
					if fe, ok := err.(*FatalError); ok {
						err = fe.Err
					}
					yield(Row{}, &FatalError{Err: &InputError{Source: r.cfg.source, Row: r.rowNum + 1, Line: r.line + 1, Err: err}})
					return
				}
				lineNum = r.line
			}
			r.rowNum++
			col, err := r.decode(line, cells)
			if err != nil {
				ie := &InputError{Source: r.cfg.source, Row: r.rowNum, Line: lineNum, Err: err}
				if col >= 0 {
					ie.Column = r.schema.Column(col).Name
				}
				if !yield(Row{}, ie) {
					return
				}
				continue
			}
			if !yield(Row{Source: r.cfg.source, Number: r.rowNum, Line: lineNum, Cells: cells, Schema: r.schema}, nil) {
				return
			}
		}
	}
}

// decode fills cells from one JSON object. It returns the column an error
// is about, or -1.
func (r *NDJSONReader) decode(line []byte, cells []Cell) (int, error) {
	if !utf8.Valid(line) {
		return -1, ErrInvalidUTF8
	}
	for i := range cells {
		cells[i] = Cell{Null: true}
		r.seen[i] = false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return -1, fmt.Errorf("%w: a line must hold one JSON object", ErrNotObject)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return -1, fmt.Errorf("%w: %v", ErrNotObject, err)
		}
		key := kt.(string)
		i, ok := r.index[key]
		if !ok {
			return -1, fmt.Errorf("%w: key %q is not a column of the schema", ErrUnknownColumn, key)
		}
		if r.seen[i] {
			return -1, fmt.Errorf("%w: key %q appears twice", ErrDuplicateColumn, key)
		}
		r.seen[i] = true
		off := dec.InputOffset()
		vt, err := dec.Token()
		if err != nil {
			return i, fmt.Errorf("%w: %v", ErrNotObject, err)
		}
		switch v := vt.(type) {
		case nil:
			cells[i] = Cell{Null: true}
		case string:
			// JSON has its own null, so "" stays an empty string; only
			// non-empty tokens such as "NULL" or "\\N" mean NULL here.
			cells[i] = Cell{Text: v, Null: v != "" && r.cfg.isNull(v)}
		case json.Number:
			cells[i] = Cell{Text: string(v)}
		case bool:
			if v {
				cells[i] = Cell{Text: "true"}
			} else {
				cells[i] = Cell{Text: "false"}
			}
		case json.Delim:
			for depth := 1; depth > 0; {
				t, err := dec.Token()
				if err != nil {
					return i, fmt.Errorf("%w: %v", ErrNotObject, err)
				}
				if d, ok := t.(json.Delim); ok {
					if d == '[' || d == '{' {
						depth++
					} else {
						depth--
					}
				}
			}
			raw := bytes.TrimLeft(line[off:dec.InputOffset()], " \t\r\n:")
			cells[i] = Cell{Text: string(raw), JSON: true}
		}
	}
	if _, err := dec.Token(); err != nil {
		if err == io.EOF {
			return -1, fmt.Errorf("%w: the object is not closed", ErrNotObject)
		}
		return -1, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return -1, fmt.Errorf("%w: text after the object", ErrNotObject)
	}
	return -1, nil
}

// objectKeys returns the keys of a JSON object line, in order.
func objectKeys(line []byte) ([]string, error) {
	if !utf8.Valid(line) {
		return nil, ErrInvalidUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%w: a line must hold one JSON object", ErrNotObject)
	}
	var keys []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotObject, err)
		}
		keys = append(keys, kt.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotObject, err)
		}
	}
	return keys, nil
}
