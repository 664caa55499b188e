package amperity

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"iter"
)

// Row is one data row of an export, as text, in the reader's column order.
// The same model serves every format: delimited text, NDJSON and Parquet.
//
// Schema names the column of each cell: Cells[i] is the value of
// Schema.Column(i). Every reader of this module sets it to its own Schema,
// in file order, and the Mapper finds its columns in it by name, so the
// order of a schema file never matters. A Row built by hand may leave it
// zero; its cells are then in the order of the mapper's schema.
//
// Readers reuse the Cells slice for the next row, so a Row is valid only
// until the iteration continues; the strings in it are immutable and may be
// kept.
type Row struct {
	Source string // the name given with WithSource, for messages
	Number int64  // 1-based data row number; the header is not counted
	Line   int64  // 1-based line where the row starts; 0 when not line-based
	Cells  []Cell
	Schema Schema // the columns of Cells, in order; zero: the mapper's order
}

// Cell is one value of a row.
type Cell struct {
	// Text is the value as written (unquoted and unescaped). For NDJSON
	// strings it is the decoded string, for numbers the literal, for
	// booleans "true" or "false".
	Text string
	// Null marks a SQL NULL: a null token in delimited text, JSON null or
	// a missing key in NDJSON, a null in Parquet.
	Null bool
	// JSON marks a raw JSON array or object from NDJSON, kept in Text.
	JSON bool
}

// RowSource is what the mapper needs from a reader: the typed columns, known
// before any row is read, and the rows.
type RowSource interface {
	Schema() Schema
	Rows(ctx context.Context) iter.Seq2[Row, error]
}

// ReaderOption configures a reader.
type ReaderOption func(*readerConfig)

type readerConfig struct {
	source        string
	delim         rune
	quote         rune
	escape        rune
	escapeSet     bool
	header        bool
	schema        *Schema
	nullTokens    []string
	nullQuoted    bool
	maxRecord     int
	delimiterOpts bool // a delimited-text-only option was given
}

func defaultReaderConfig() readerConfig {
	return readerConfig{delim: ',', quote: '"', header: true, nullTokens: []string{""}, maxRecord: 8 << 20}
}

// WithSource names the input (usually the file name) in rows and errors.
func WithSource(name string) ReaderOption { return func(c *readerConfig) { c.source = name } }

// WithSchema gives the column types. A delimited file's header must name
// exactly the schema's columns (in any order); the reader's Schema is then
// in file order, and the Mapper matches columns by name, so a schema file
// may list them in any order. An NDJSON reader takes its columns from the
// schema. Without a schema every column is a String.
func WithSchema(s Schema) ReaderOption { return func(c *readerConfig) { c.schema = &s } }

// WithNullTokens sets the texts that mean NULL, replacing the default
// (an empty unquoted field). For example WithNullTokens("", "NULL", `\N`).
// Tokens match unquoted delimited fields and NDJSON strings exactly.
func WithNullTokens(tokens ...string) ReaderOption {
	return func(c *readerConfig) { c.nullTokens = append([]string(nil), tokens...) }
}

// WithQuotedNulls lets quoted fields match the null tokens too, for exports
// written with quote mode "all fields", where NULL is written "".
func WithQuotedNulls() ReaderOption {
	return func(c *readerConfig) { c.nullQuoted = true; c.delimiterOpts = true }
}

// WithMaxRecordBytes bounds the size of one record (default 8 MiB), so that
// a stray quote cannot make the reader buffer the rest of a file.
func WithMaxRecordBytes(n int) ReaderOption { return func(c *readerConfig) { c.maxRecord = n } }

// WithDelimiter sets the field delimiter of delimited text: ',' (CSV, the
// default), '\t' (TSV), '|' (PSV) or any other single ASCII character.
func WithDelimiter(r rune) ReaderOption {
	return func(c *readerConfig) { c.delim = r; c.delimiterOpts = true }
}

// WithQuote sets the quote character (default '"'); 0 turns quoting off,
// for quote mode "none".
func WithQuote(r rune) ReaderOption {
	return func(c *readerConfig) { c.quote = r; c.delimiterOpts = true }
}

// WithEscape sets the escape character. By default a quote inside a quoted
// field is escaped by doubling it (RFC 4180). With another escape character
// (often '\\'), it makes the next character literal, in quoted and unquoted
// fields alike.
func WithEscape(r rune) ReaderOption {
	return func(c *readerConfig) { c.escape = r; c.escapeSet = true; c.delimiterOpts = true }
}

// WithoutHeader reads a delimited file that has no header row. It needs
// WithSchema, whose column order is then the file's.
func WithoutHeader() ReaderOption {
	return func(c *readerConfig) { c.header = false; c.delimiterOpts = true }
}

func (c *readerConfig) isNull(s string) bool {
	for _, t := range c.nullTokens {
		if s == t {
			return true
		}
	}
	return false
}

// openText wraps r with a buffer, decompresses gzip (recognised by its magic
// bytes, not by a file name), skips a UTF-8 byte-order mark and reads lines
// ending in CR only (classic Mac OS, Excel's "CSV (Macintosh)") as lines.
func openText(r io.Reader, size int) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, size)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%w: %v", ErrRead, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrRead, err)
		}
		br = bufio.NewReaderSize(zr, size)
	}
	bom, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%w: %v", ErrRead, err)
	}
	switch {
	case bytes.HasPrefix(bom, []byte("\xEF\xBB\xBF")):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(bom, []byte("\xFF\xFE")), bytes.HasPrefix(bom, []byte("\xFE\xFF")):
		return nil, fmt.Errorf("%w: the input is UTF-16 (byte-order mark); export it as UTF-8", ErrInvalidUTF8)
	}
	// A text whose first buffer holds a CR but no LF has CR line endings:
	// without this, the whole file would be one line, read as a header and
	// no rows, and the export would look empty.
	head, err := br.Peek(size)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("%w: %v", ErrRead, err)
	}
	if bytes.IndexByte(head, '\r') >= 0 && bytes.IndexByte(head, '\n') < 0 {
		br = bufio.NewReaderSize(&crReader{r: br}, size)
	}
	return br, nil
}

// crReader turns CR line endings into LF: a CR becomes an LF, and an LF
// right after a CR is dropped, so CRLF endings later in the text still
// count once.
type crReader struct {
	r      io.Reader
	lastCR bool
}

func (c *crReader) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		w := 0
		for _, b := range p[:n] {
			switch {
			case b == '\r':
				p[w] = '\n'
				w++
				c.lastCR = true
				continue
			case b == '\n' && c.lastCR:
			default:
				p[w] = b
				w++
			}
			c.lastCR = false
		}
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
	}
}

// looksLikeData reports whether a would-be header line reads like a data
// row: a name that is a number, a date, or an e-mail address.
func looksLikeData(names []string) bool {
	for _, n := range names {
		if n == "" {
			continue
		}
		if isNumberText(n) {
			return true
		}
		if _, err := parseDatetime(n, nil); err == nil {
			return true
		}
		if bytes.IndexByte([]byte(n), '@') > 0 {
			return true
		}
	}
	return false
}
