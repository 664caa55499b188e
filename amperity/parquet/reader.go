// Package parquet reads Apache Parquet exports from Amperity (its
// recommended format) as amperity rows, with the schema inferred from the
// file. It lives in its own package so that programs reading only CSV or
// NDJSON do not link the Parquet library.
package parquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ampbraze/ampbraze/amperity"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// ErrUnsupportedColumn reports a column the reader cannot turn into an
// Amperity type: nested, repeated, or of an unknown logical type. Amperity
// exports for Braze are flat, so such a file is not one.
var ErrUnsupportedColumn = errors.New("unsupported Parquet column")

// Reader streams the rows of one Parquet file, a row group at a time, with
// a small buffer of rows in memory.
type Reader struct {
	file   *pq.File
	source string
	schema amperity.Schema
	cols   []column
	used   bool
}

// column says how to turn a Parquet value into cell text.
type column struct {
	name  string
	typ   amperity.Type
	conv  func(v pq.Value) (string, error)
	index int
}

// Option configures a Reader.
type Option func(*Reader)

// WithSource names the file in rows and errors.
func WithSource(name string) Option { return func(r *Reader) { r.source = name } }

// NewReader opens a Parquet file and infers its schema: BOOLEAN -> Boolean;
// INT32/INT64 -> Integer; FLOAT/DOUBLE -> Float; DECIMAL (any physical
// type) -> Decimal; DATE -> Date; TIMESTAMP (milli, micro, nano) and legacy
// INT96 -> Datetime; strings, enums, JSON and plain byte arrays -> String.
// Nested and repeated columns are rejected.
func NewReader(ctx context.Context, r io.ReaderAt, size int64, opts ...Option) (*Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pr := &Reader{}
	for _, o := range opts {
		o(pr)
	}
	f, err := pq.OpenFile(r, size)
	if err != nil {
		return nil, &amperity.InputError{Source: pr.source, Err: fmt.Errorf("%w: %v", amperity.ErrRead, err)}
	}
	pr.file = f
	var cols []amperity.Column
	for i, field := range f.Schema().Fields() {
		c, err := inferColumn(field)
		if err != nil {
			return nil, &amperity.ConfigError{Column: field.Name(), Err: err}
		}
		c.index = i
		pr.cols = append(pr.cols, c)
		cols = append(cols, amperity.Column{Name: c.name, Type: c.typ})
	}
	s, err := amperity.NewSchema(cols...)
	if err != nil {
		return nil, err
	}
	pr.schema = s
	return pr, nil
}

// Schema returns the inferred columns in file order.
func (r *Reader) Schema() amperity.Schema { return r.schema }

// NumRows returns the number of rows the file declares.
func (r *Reader) NumRows() int64 { return r.file.NumRows() }

func inferColumn(field pq.Field) (column, error) {
	c := column{name: field.Name()}
	if !field.Leaf() || field.Repeated() {
		return c, fmt.Errorf("%w: nested or repeated", ErrUnsupportedColumn)
	}
	t := field.Type()
	lt := t.LogicalType()
	ct := t.ConvertedType()
	kind := t.Kind()
	if lt != nil && lt.Value != nil {
		switch v := lt.Value.(type) {
		case *format.DecimalType:
			c.typ, c.conv = amperity.TypeDecimal, decimalConv(kind, int(v.Scale))
			return c, nil
		case *format.DateType:
			c.typ, c.conv = amperity.TypeDate, dateConv
			return c, nil
		case *format.TimestampType:
			unit := time.Microsecond
			switch v.Unit.Value.(type) {
			case *format.MilliSeconds:
				unit = time.Millisecond
			case *format.NanoSeconds:
				unit = time.Nanosecond
			}
			c.typ, c.conv = amperity.TypeDatetime, timestampConv(unit)
			return c, nil
		case *format.StringType, *format.EnumType, *format.JsonType:
			c.typ, c.conv = amperity.TypeString, stringConv
			return c, nil
		case *format.IntType:
			if kind == pq.Int32 || kind == pq.Int64 {
				c.typ, c.conv = amperity.TypeInteger, intConv(kind, !v.IsSigned)
				return c, nil
			}
		}
		if _, ok := lt.Value.(*format.UUIDType); !ok {
			return c, fmt.Errorf("%w: logical type %s", ErrUnsupportedColumn, lt)
		}
	}
	if ct != nil {
		switch *ct {
		case deprecated.UTF8, deprecated.Enum, deprecated.Json:
			c.typ, c.conv = amperity.TypeString, stringConv
			return c, nil
		case deprecated.Date:
			c.typ, c.conv = amperity.TypeDate, dateConv
			return c, nil
		case deprecated.TimestampMillis:
			c.typ, c.conv = amperity.TypeDatetime, timestampConv(time.Millisecond)
			return c, nil
		case deprecated.TimestampMicros:
			c.typ, c.conv = amperity.TypeDatetime, timestampConv(time.Microsecond)
			return c, nil
		case deprecated.Decimal:
			return c, fmt.Errorf("%w: legacy DECIMAL annotation without a logical type (scale unknown)", ErrUnsupportedColumn)
		}
	}
	switch kind {
	case pq.Boolean:
		c.typ, c.conv = amperity.TypeBoolean, func(v pq.Value) (string, error) { return strconv.FormatBool(v.Boolean()), nil }
	case pq.Int32, pq.Int64:
		c.typ, c.conv = amperity.TypeInteger, intConv(kind, false)
	case pq.Float:
		c.typ, c.conv = amperity.TypeFloat, func(v pq.Value) (string, error) { return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32), nil }
	case pq.Double:
		c.typ, c.conv = amperity.TypeFloat, func(v pq.Value) (string, error) { return strconv.FormatFloat(v.Double(), 'g', -1, 64), nil }
	case pq.Int96:
		c.typ, c.conv = amperity.TypeDatetime, int96Conv
	case pq.ByteArray, pq.FixedLenByteArray:
		c.typ, c.conv = amperity.TypeString, stringConv
	default:
		return c, fmt.Errorf("%w: physical type %s", ErrUnsupportedColumn, kind)
	}
	return c, nil
}

func stringConv(v pq.Value) (string, error) {
	b := v.ByteArray()
	if !utf8.Valid(b) {
		return "", amperity.ErrInvalidUTF8
	}
	return string(b), nil
}

func intConv(kind pq.Kind, unsigned bool) func(pq.Value) (string, error) {
	return func(v pq.Value) (string, error) {
		switch {
		case kind == pq.Int32 && unsigned:
			return strconv.FormatUint(uint64(uint32(v.Int32())), 10), nil
		case kind == pq.Int32:
			return strconv.FormatInt(int64(v.Int32()), 10), nil
		case unsigned:
			return strconv.FormatUint(uint64(v.Int64()), 10), nil
		}
		return strconv.FormatInt(v.Int64(), 10), nil
	}
}

func dateConv(v pq.Value) (string, error) {
	return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly), nil
}

// timestampConv writes an instant as RFC 3339 in UTC. Timestamps not
// adjusted to UTC are wall-clock values, which Amperity and Braze read as
// UTC as well.
func timestampConv(unit time.Duration) func(pq.Value) (string, error) {
	return func(v pq.Value) (string, error) {
		n := v.Int64()
		var t time.Time
		switch unit {
		case time.Millisecond:
			t = time.UnixMilli(n)
		case time.Microsecond:
			t = time.UnixMicro(n)
		default:
			t = time.Unix(0, n)
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	}
}

// int96Conv decodes Spark's legacy INT96 timestamps: nanoseconds of the day
// in the first 8 bytes, the Julian day number in the last 4.
func int96Conv(v pq.Value) (string, error) {
	i := v.Int96()
	nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
	julian := int64(i[2])
	const unixEpochJulian = 2440588
	t := time.Unix((julian-unixEpochJulian)*86400, nanos).UTC()
	return t.Format(time.RFC3339Nano), nil
}

// decimalConv renders an unscaled integer with its scale as decimal text;
// the mapper makes it canonical.
func decimalConv(kind pq.Kind, scale int) func(pq.Value) (string, error) {
	return func(v pq.Value) (string, error) {
		var unscaled *big.Int
		switch kind {
		case pq.Int32:
			unscaled = big.NewInt(int64(v.Int32()))
		case pq.Int64:
			unscaled = big.NewInt(v.Int64())
		case pq.ByteArray, pq.FixedLenByteArray:
			unscaled = twosComplement(v.ByteArray())
		default:
			return "", fmt.Errorf("%w: decimal stored as %s", ErrUnsupportedColumn, kind)
		}
		return formatScaled(unscaled, scale), nil
	}
}

func twosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return n
}

func formatScaled(unscaled *big.Int, scale int) string {
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).String()
	if scale > 0 {
		for len(digits) <= scale {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	} else if scale < 0 {
		for range -scale {
			digits += "0"
		}
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// Rows returns the rows of the file, once. A value that cannot be read
// (invalid UTF-8 in a string) is yielded as an *amperity.InputError and
// reading goes on; a read failure or a cancelled ctx is an
// *amperity.FatalError (see amperity.ErrFatal), yielded last. Each Row
// carries the reader's Schema; its Cells slice is reused.
func (r *Reader) Rows(ctx context.Context) iter.Seq2[amperity.Row, error] {
	return func(yield func(amperity.Row, error) bool) {
		if r.used {
			yield(amperity.Row{}, &amperity.FatalError{Err: errors.New("parquet: Reader.Rows called twice")})
			return
		}
		r.used = true
		cells := make([]amperity.Cell, len(r.cols))
		buf := make([]pq.Row, 256)
		var number int64
		for _, rg := range r.file.RowGroups() {
			rows := rg.Rows()
			for {
				if err := ctx.Err(); err != nil {
					rows.Close()
					yield(amperity.Row{}, &amperity.FatalError{Err: &amperity.InputError{Source: r.source, Row: number + 1, Err: err}})
					return
				}
				n, err := rows.ReadRows(buf)
				for _, row := range buf[:n] {
					number++
					rowErr := r.fill(cells, row, number)
					if rowErr != nil {
						if !yield(amperity.Row{}, rowErr) {
							rows.Close()
							return
						}
						continue
					}
					if !yield(amperity.Row{Source: r.source, Number: number, Cells: cells, Schema: r.schema}, nil) {
						rows.Close()
						return
					}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					rows.Close()
					yield(amperity.Row{}, &amperity.FatalError{Err: &amperity.InputError{Source: r.source, Row: number + 1, Err: fmt.Errorf("%w: %v", amperity.ErrRead, err)}})
					return
				}
			}
			rows.Close()
		}
	}
}

func (r *Reader) fill(cells []amperity.Cell, row pq.Row, number int64) error {
	for i := range cells {
		cells[i] = amperity.Cell{Null: true}
	}
	for _, v := range row {
		i := v.Column()
		if i < 0 || i >= len(r.cols) || v.IsNull() {
			continue
		}
		text, err := r.cols[i].conv(v)
		if err != nil {
			return &amperity.InputError{Source: r.source, Row: number, Column: r.cols[i].name, Err: err}
		}
		cells[i] = amperity.Cell{Text: text}
	}
	return nil
}
