package amperity

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors about the shape of an input file. They are wrapped in an
// *InputError that says where; test for them with errors.Is.
var (
	// ErrRaggedRow: a row has more or fewer fields than the header.
	ErrRaggedRow = errors.New("wrong number of fields")
	// ErrUnterminatedQuote: a quoted field runs to the end of the file.
	ErrUnterminatedQuote = errors.New("unterminated quoted field")
	// ErrBareQuote: a quote character inside an unquoted field, or text
	// after a closing quote.
	ErrBareQuote = errors.New("misplaced quote character")
	// ErrInvalidUTF8: the text is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrDuplicateColumn: two header (or schema) columns share a name.
	ErrDuplicateColumn = errors.New("duplicate column name")
	// ErrEmptyColumn: a header (or schema) column has no name.
	ErrEmptyColumn = errors.New("empty column name")
	// ErrHeaderMismatch: the header names other columns than the schema.
	ErrHeaderMismatch = errors.New("header does not match the schema")
	// ErrNoHeader: the file is empty or its first line is data, not a header.
	ErrNoHeader = errors.New("no header row")
	// ErrRecordTooLarge: one record is longer than the reader's limit,
	// usually because of a stray quote.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrNotObject: an NDJSON line is not a JSON object of scalars.
	ErrNotObject = errors.New("not a JSON object")
	// ErrUnknownColumn: an NDJSON object has a key that is not a column.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrRead: the underlying reader or decompressor failed.
	ErrRead = errors.New("read failed")
)

// Errors about values, wrapped in an *InputError by the mapper.
var (
	// ErrInvalidValue: a value does not parse as its column's type or is not
	// acceptable for its Braze field.
	ErrInvalidValue = errors.New("invalid value")
	// ErrMissingIdentifier: the identifier column is null or empty.
	ErrMissingIdentifier = errors.New("missing identifier")
	// ErrTooLong: a string is longer than the 255 characters Braze keeps.
	ErrTooLong = errors.New("longer than 255 characters")
)

// InputError reports bad input and where it is. Row and Line are 1-based;
// Row counts data rows (the header is not a row), Line counts lines of a
// text file (0 when unknown, as for Parquet). Row 0 means the header or the
// file as a whole.
type InputError struct {
	Source string // file name given to the reader, if any
	Row    int64
	Line   int64
	Key    string // the row's identifier, when it was read before the error
	Column string // column name, when the error is about one cell
	Value  string // the offending text, shortened to 80 bytes
	Err    error  // the reason; one of the Err variables above, possibly wrapped
}

// Error returns a one-line description such as
// `customers.csv: row 12 (line 13): column "dob": value "1980-13-01": invalid value: ...`.
func (e *InputError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	switch {
	case e.Row > 0:
		b.WriteString("row ")
		b.WriteString(strconv.FormatInt(e.Row, 10))
		if e.Line > 0 {
			b.WriteString(" (line ")
			b.WriteString(strconv.FormatInt(e.Line, 10))
			b.WriteString(")")
		}
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("line ")
		b.WriteString(strconv.FormatInt(e.Line, 10))
		b.WriteString(": ")
	}
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(strconv.Quote(e.Column))
		b.WriteString(": ")
	}
	if e.Value != "" || e.Column != "" {
		b.WriteString("value ")
		b.WriteString(strconv.Quote(e.Value))
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the reason, so errors.Is(err, ErrRaggedRow) works.
func (e *InputError) Unwrap() error { return e.Err }

// ErrFatal matches, with errors.Is, every error after which a stream of
// rows or records cannot go on (see FatalError).
var ErrFatal = errors.New("amperity: the input cannot be read further")

// FatalError ends a stream. Streams of this package (a reader's Rows,
// Concat's Rows, Mapper.Records) follow one convention: an error about one
// row (an *InputError) is yielded in the row's place and the stream goes
// on; an error after which the input cannot be read further (an
// unterminated quote, an oversized record, a read or gzip failure, a
// cancelled context, rows whose columns the mapper does not know) is
// yielded as a *FatalError, last, and the stream ends. A consumer that
// keeps state, such as a full snapshot in package diff, must not take a
// stream that ended with a FatalError as complete.
//
// Test for it with errors.Is(err, ErrFatal), errors.As(err, &fe), or
// through the method Fatal, which other packages check without importing
// this one. Err keeps the place and the reason: errors.As(err, &ie) finds
// the *InputError, and errors.Is(err, context.Canceled) or
// errors.Is(err, ErrUnterminatedQuote) work as before.
type FatalError struct {
	Err error
}

// Error returns the message of the wrapped error.
func (e *FatalError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *FatalError) Unwrap() error { return e.Err }

// Fatal reports true: the stream that yielded the error ended with it.
func (e *FatalError) Fatal() bool { return true }

// Is makes errors.Is(err, ErrFatal) true.
func (e *FatalError) Is(target error) bool { return target == ErrFatal }

// fatal wraps err in a *FatalError unless it already is one.
func fatal(err error) error {
	if isFatal(err) {
		return err
	}
	return &FatalError{Err: err}
}

// isFatal reports whether err, or an error it wraps, says it is fatal.
func isFatal(err error) bool {
	var f interface{ Fatal() bool }
	return errors.As(err, &f) && f.Fatal()
}

// shorten keeps error messages readable when a value is huge.
func shorten(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Configuration errors, wrapped in a *ConfigError. They are reported by
// NewMapper and by schema functions, before any row is read.
var (
	// ErrDuplicateTarget: two columns land on the same Braze attribute and
	// no precedence was set.
	ErrDuplicateTarget = errors.New("two columns map to the same Braze attribute")
	// ErrNoIdentifier: no column provides the identifier.
	ErrNoIdentifier = errors.New("no identifier column")
	// ErrNoSuchColumn: an option names a column the schema does not have.
	ErrNoSuchColumn = errors.New("no such column")
	// ErrInvalidName: a Braze attribute name is empty, too long, or starts
	// with the reserved '$'.
	ErrInvalidName = errors.New("invalid attribute name")
	// ErrUnsupportedField: the column cannot feed the Braze field (an object
	// field from a flat column, or an incompatible type).
	ErrUnsupportedField = errors.New("column cannot feed this Braze field")
	// ErrInvalidSchema: a schema line or type name is not understood.
	ErrInvalidSchema = errors.New("invalid schema")
	// ErrInvalidOption: an option value is out of range.
	ErrInvalidOption = errors.New("invalid option")
)

// ConfigError reports a mapping or schema problem found before reading.
type ConfigError struct {
	Column string // the column concerned, if any
	Field  string // the Braze field concerned, if any
	Line   int    // schema file line, if any
	Err    error
	Detail string
}

// Error describes the problem and the column or field.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("amperity: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "schema line %d: ", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Err.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the reason.
func (e *ConfigError) Unwrap() error { return e.Err }
