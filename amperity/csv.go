package amperity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"unicode/utf8"
)

// CSVReader streams a delimited export (CSV, TSV, PSV or any single ASCII
// delimiter), plain or gzip-compressed, with LF or CRLF line endings and an
// optional UTF-8 byte-order mark. It holds one record in memory at a time.
type CSVReader struct {
	cfg    readerConfig
	schema Schema

	delim, quote, escape byte
	hasQuote, hasEscape  bool // hasEscape: an escape character other than the quote

	lineReader
	rowNum int64
	used   bool
	// The record just read: field i is rec[starts[i]:ends[i]]. rec is
	// either the line itself (valid until the next read) or own, which
	// holds records whose quotes or escapes had to be removed.
	rec    []byte
	own    []byte
	starts []int
	ends   []int
	quoted []bool
}

// NewCSVReader prepares to read delimited text from r and reads the header
// (unless WithoutHeader), so that the schema is known and checked before any
// row is read. Empty or duplicate header names, a header that differs from
// the WithSchema schema, and a first line that looks like data are errors.
func NewCSVReader(ctx context.Context, r io.Reader, opts ...ReaderOption) (*CSVReader, error) {
	cfg := defaultReaderConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cr := &CSVReader{cfg: cfg}
	if err := cr.checkConfig(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br, err := openText(r, 64<<10)
	if err != nil {
		return nil, &InputError{Source: cfg.source, Err: err}
	}
	cr.lineReader = lineReader{br: br, max: cfg.maxRecord}
	if !cfg.header {
		cr.schema = *cfg.schema
		return cr, nil
	}
	header, err := cr.readHeader()
	if err != nil {
		return nil, err
	}
	if err := checkHeader(header); err != nil {
		return nil, &InputError{Source: cfg.source, Line: 1, Err: err}
	}
	if cfg.schema == nil {
		if looksLikeData(header) {
			return nil, &InputError{Source: cfg.source, Line: 1, Err: fmt.Errorf("%w: the first line looks like data; for a file without a header use WithoutHeader and WithSchema", ErrNoHeader)}
		}
		cr.schema = stringSchema(header)
		return cr, nil
	}
	s, err := cfg.schema.bind(header)
	if err != nil {
		if len(header) == cfg.schema.Len() && looksLikeData(header) {
			err = fmt.Errorf("%w: the first line looks like data, not the schema's column names; for a file without a header use WithoutHeader", ErrNoHeader)
		}
		return nil, &InputError{Source: cfg.source, Line: 1, Err: err}
	}
	cr.schema = s
	return cr, nil
}

func (r *CSVReader) checkConfig() error {
	c := &r.cfg
	ascii := func(name string, v rune) error {
		if v < 0 || v >= utf8.RuneSelf || v == '\n' || v == '\r' {
			return &ConfigError{Err: ErrInvalidOption, Detail: fmt.Sprintf("%s %q must be a single ASCII character other than CR and LF", name, v)}
		}
		return nil
	}
	if c.delim == 0 {
		return &ConfigError{Err: ErrInvalidOption, Detail: "delimiter must not be NUL"}
	}
	if err := ascii("delimiter", c.delim); err != nil {
		return err
	}
	if err := ascii("quote", c.quote); err != nil {
		return err
	}
	if c.escapeSet {
		if err := ascii("escape", c.escape); err != nil || c.escape == 0 {
			return &ConfigError{Err: ErrInvalidOption, Detail: fmt.Sprintf("escape %q must be a single ASCII character other than NUL, CR and LF", c.escape)}
		}
	}
	if c.quote != 0 && c.quote == c.delim || c.escapeSet && c.escape == c.delim {
		return &ConfigError{Err: ErrInvalidOption, Detail: "delimiter, quote and escape must differ"}
	}
	if !c.header && c.schema == nil {
		return &ConfigError{Err: ErrInvalidOption, Detail: "WithoutHeader needs WithSchema to name the columns"}
	}
	if c.maxRecord <= 0 {
		return &ConfigError{Err: ErrInvalidOption, Detail: "maximum record size must be positive"}
	}
	r.delim, r.quote, r.hasQuote = byte(c.delim), byte(c.quote), c.quote != 0
	if c.escapeSet && c.escape != c.quote {
		r.escape, r.hasEscape = byte(c.escape), true
	}
	return nil
}

// Schema returns the columns in file order, typed by WithSchema (or all
// String without one).
func (r *CSVReader) Schema() Schema { return r.schema }

func (r *CSVReader) readHeader() ([]string, error) {
	start, err := r.readRecord()
	if err == io.EOF {
		return nil, &InputError{Source: r.cfg.source, Err: fmt.Errorf("%w: the input is empty", ErrNoHeader)}
	}
	if err != nil {
		err = r.wrap(err, 0, start)
		if fe, ok := err.(*FatalError); ok {
			err = fe.Err // a constructor's error is not a stream item
		}
		return nil, err
	}
	if !utf8.Valid(r.rec) {
		return nil, &InputError{Source: r.cfg.source, Line: start, Err: fmt.Errorf("%w in the header", ErrInvalidUTF8)}
	}
	s := string(r.rec)
	names := make([]string, len(r.ends))
	for i, e := range r.ends {
		names[i] = s[r.starts[i]:e]
	}
	return names, nil
}

// wrap places err at row and line, in an *InputError; a fatal reason
// stays fatal, as a *FatalError around that *InputError.
func (r *CSVReader) wrap(err error, row, line int64) error {
	fe, isFatal := err.(*FatalError)
	if isFatal {
		err = fe.Err
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		err = &InputError{Source: r.cfg.source, Row: row, Line: line, Err: err}
	}
	if isFatal {
		return &FatalError{Err: err}
	}
	return err
}

// Rows returns the data rows. It can be ranged over once. A row with the
// wrong number of fields, invalid UTF-8 or a misplaced quote is yielded as
// an *InputError and reading goes on with the next row, so the caller can
// stop or skip. An unterminated quote, an oversized record, a read or gzip
// failure or a cancelled ctx is a *FatalError (see ErrFatal), yielded
// last. Each Row carries the reader's Schema; its Cells slice is reused.
func (r *CSVReader) Rows(ctx context.Context) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		if r.used {
			yield(Row{}, &FatalError{Err: errors.New("amperity: CSVReader.Rows called twice")})
			return
		}
		r.used = true
		n := r.schema.Len()
		cells := make([]Cell, n)
		for {
			if r.rowNum&255 == 0 {
				if err := ctx.Err(); err != nil {
					yield(Row{}, &FatalError{Err: &InputError{Source: r.cfg.source, Row: r.rowNum + 1, Err: err}})
					return
				}
			}
			start, err := r.readRecord()
			if err == io.EOF {
				return
			}
			r.rowNum++
			if err != nil {
				err = r.wrap(err, r.rowNum, start)
				if _, ok := err.(*FatalError); ok {
					yield(Row{}, err)
					return
				}
				if !yield(Row{}, err) {
					return
				}
				continue
			}
			if len(r.ends) != n {
				noun := "fields"
				if len(r.ends) == 1 {
					noun = "field"
				}
				what := fmt.Sprintf("%v: %d %s, the header has %d", ErrRaggedRow, len(r.ends), noun, n)
				if len(r.ends) == 1 && len(r.rec) == 0 {
					what = fmt.Sprintf("%v: blank line, the header has %d fields", ErrRaggedRow, n)
				}
				if !yield(Row{}, &InputError{Source: r.cfg.source, Row: r.rowNum, Line: start, Err: errorString(what, ErrRaggedRow)}) {
					return
				}
				continue
			}
			if !utf8.Valid(r.rec) {
				if !yield(Row{}, r.utf8Error(start)) {
					return
				}
				continue
			}
			s := string(r.rec)
			for i, e := range r.ends {
				t := s[r.starts[i]:e]
				cells[i] = Cell{Text: t, Null: (!r.quoted[i] || r.cfg.nullQuoted) && r.cfg.isNull(t)}
			}
			if !yield(Row{Source: r.cfg.source, Number: r.rowNum, Line: start, Cells: cells, Schema: r.schema}, nil) {
				return
			}
		}
	}
}

// errorString builds an error with a computed message that still matches
// its sentinel under errors.Is.
func errorString(msg string, sentinel error) error { return &wrapped{msg, sentinel} }

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

func (r *CSVReader) utf8Error(start int64) error {
	for i, e := range r.ends {
		if field := r.rec[r.starts[i]:e]; !utf8.Valid(field) {
			return &InputError{Source: r.cfg.source, Row: r.rowNum, Line: start, Column: r.schema.Column(i).Name,
				Value: shorten(string(bytes.ToValidUTF8(field, []byte("\uFFFD")))), Err: ErrInvalidUTF8}
		}
	}
	return &InputError{Source: r.cfg.source, Row: r.rowNum, Line: start, Err: ErrInvalidUTF8}
}

// readRecord reads one record into r.rec, r.starts, r.ends and r.quoted
// and returns the line it starts on. A misplaced quote is reported after
// the rest of the physical line is consumed, so reading can go on with the
// next record.
func (r *CSVReader) readRecord() (int64, error) {
	line, err := r.readLine()
	if err != nil {
		return r.line + 1, err
	}
	start := r.line
	r.starts, r.ends, r.quoted = r.starts[:0], r.ends[:0], r.quoted[:0]
	if (!r.hasQuote || bytes.IndexByte(line, r.quote) < 0) && (!r.hasEscape || bytes.IndexByte(line, r.escape) < 0) {
		// No quote or escape on the line, so it is the whole record and
		// its fields need no copying: they are slices of the line.
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		r.rec = line
		from := 0
		for {
			i := bytes.IndexByte(line[from:], r.delim)
			if i < 0 {
				break
			}
			r.starts = append(r.starts, from)
			r.ends = append(r.ends, from+i)
			r.quoted = append(r.quoted, false)
			from += i + 1
		}
		r.starts = append(r.starts, from)
		r.ends = append(r.ends, len(line))
		r.quoted = append(r.quoted, false)
		return start, nil
	}
	r.rec = r.own[:0]
	err = r.copyRecord(line, start)
	r.own = r.rec[:0]
	prev := 0
	for _, e := range r.ends { // the copied fields are contiguous
		r.starts = append(r.starts, prev)
		prev = e
	}
	return start, err
}

// copyRecord reads the record that begins on line, which has quotes or
// escapes, into r.rec (without them), r.ends and r.quoted.
func (r *CSVReader) copyRecord(line []byte, start int64) error {
	var err error
	for {
		if r.hasQuote && len(line) > 0 && line[0] == r.quote {
			// Quoted field.
			line = line[1:]
			for {
				i := r.indexQuoted(line)
				if i < 0 {
					// The field goes on past this line.
					r.rec = append(r.rec, line...)
					if len(r.rec) > r.cfg.maxRecord {
						return &FatalError{Err: fmt.Errorf("%w: a record is longer than %d bytes (a quote may be missing)", ErrRecordTooLarge, r.cfg.maxRecord)}
					}
					if line, err = r.readLine(); err != nil {
						if err == io.EOF {
							return &FatalError{Err: fmt.Errorf("%w: the quote opened in field %d on line %d is never closed", ErrUnterminatedQuote, len(r.ends)+1, start)}
						}
						return err
					}
					continue
				}
				r.rec = append(r.rec, line[:i]...)
				if r.hasEscape && line[i] == r.escape {
					if i+1 < len(line) {
						r.rec = append(r.rec, line[i+1])
						line = line[i+2:]
					} else {
						r.rec = append(r.rec, line[i])
						line = line[i+1:]
					}
					continue
				}
				line = line[i+1:]
				if !r.hasEscape && len(line) > 0 && line[0] == r.quote {
					r.rec = append(r.rec, r.quote) // "" is a literal quote
					line = line[1:]
					continue
				}
				break
			}
			r.ends = append(r.ends, len(r.rec))
			r.quoted = append(r.quoted, true)
			switch {
			case len(line) == 0 || line[0] == '\n':
				return nil
			case line[0] == r.delim:
				line = line[1:]
				continue
			default:
				return fmt.Errorf("%w: text after the closing quote of field %d", ErrBareQuote, len(r.ends))
			}
		}
		// Unquoted field: up to the delimiter or the end of the line.
		i := bytes.IndexByte(line, r.delim)
		last := i < 0
		if last {
			i = len(line)
			if i > 0 && line[i-1] == '\n' {
				i--
			}
		}
		field := line[:i]
		if r.hasQuote && bytes.IndexByte(field, r.quote) >= 0 {
			return fmt.Errorf("%w: a quote inside unquoted field %d", ErrBareQuote, len(r.ends)+1)
		}
		if r.hasEscape && bytes.IndexByte(field, r.escape) >= 0 {
			var err error
			if line, last, err = r.unescapeField(line, start); err != nil {
				return err
			}
		} else {
			r.rec = append(r.rec, field...)
			if !last {
				line = line[i+1:]
			}
		}
		r.ends = append(r.ends, len(r.rec))
		r.quoted = append(r.quoted, false)
		if last {
			return nil
		}
	}
}

// indexQuoted finds the next quote or escape character in a quoted field.
func (r *CSVReader) indexQuoted(line []byte) int {
	if !r.hasEscape {
		return bytes.IndexByte(line, r.quote)
	}
	for i, c := range line {
		if c == r.quote || c == r.escape {
			return i
		}
	}
	return -1
}

// unescapeField copies an unquoted field that contains the escape
// character, which makes the next character (even a delimiter or newline)
// literal. It returns the rest of the line and whether the record ended.
func (r *CSVReader) unescapeField(line []byte, start int64) ([]byte, bool, error) {
	for {
		if len(line) == 0 {
			return line, true, nil
		}
		c := line[0]
		switch {
		case c == r.escape:
			if len(line) == 1 {
				r.rec = append(r.rec, c)
				return nil, true, nil
			}
			r.rec = append(r.rec, line[1])
			escapedNewline := line[1] == '\n'
			line = line[2:]
			if escapedNewline {
				if len(r.rec) > r.cfg.maxRecord {
					return nil, true, &FatalError{Err: fmt.Errorf("%w: a record is longer than %d bytes", ErrRecordTooLarge, r.cfg.maxRecord)}
				}
				next, err := r.readLine()
				if err == io.EOF {
					return nil, true, nil
				}
				if err != nil {
					return nil, true, err
				}
				line = next
			}
		case c == r.delim:
			return line[1:], false, nil
		case c == '\n':
			return nil, true, nil
		case r.hasQuote && c == r.quote:
			return nil, true, fmt.Errorf("%w: a quote inside unquoted field %d", ErrBareQuote, len(r.ends)+1)
		default:
			r.rec = append(r.rec, c)
			line = line[1:]
		}
	}
}
