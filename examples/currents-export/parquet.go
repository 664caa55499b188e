package main

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/hamba/avro/v2"
	"github.com/parquet-go/parquet-go"

	"github.com/ampbraze/ampbraze/currents"
)

// Parquet output.
//
// Every Parquet part of an event type has one schema, decided when the
// part opens: the type's current Currents fields (the catalogue, whose
// types come from currents.SyntheticSchema), so that every older writer
// schema of the type, whose fields are a subset, fits it, followed by the
// fields of the writer schemas seen so far in the run that the catalogue
// lacks (a Currents release newer than this program). The set cannot be
// known before the first row is written without reading every file's
// header first (a second request per S3 object), so a writer schema with
// a field outside the schema, or a field whose type cannot be stored in
// its column, starts a new, wider part, as for CSV; the widest schema is
// kept for the type's later parts in the run. -columns pins the column
// names (as for CSV); their types still come from the schemas.
//
// Columns are optional (null for null or absent). `time` (Unix seconds)
// and `time_ms` (Unix milliseconds), and Avro timestamp-millis/-micros
// fields, are Parquet timestamps (milliseconds, UTC); Avro int and long
// are INT64, float FLOAT, double DOUBLE, boolean BOOLEAN, string STRING,
// bytes BYTE_ARRAY, an array of strings a LIST of strings; other types
// (maps, records, other unions) hold their JSON text (JSON). A field whose
// type differs between writer schemas (int here, double there) gets the
// type that holds both: DOUBLE for two numeric types, else STRING.
//
// A part's rows are buffered in column form and written as row groups of
// at least pqRowGroupRows rows, at file boundaries only, so that a file
// rolled back after a decoding error is dropped from the buffer.

// pqRowGroupRows is the number of buffered rows after which a part writes
// a row group, at the next input file's start.
const pqRowGroupRows = 64 << 10

// pqKind is a column's Parquet type.
type pqKind uint8

const (
	pqString  pqKind = iota + 1
	pqInt            // INT64
	pqFloat          // FLOAT
	pqDouble         // DOUBLE
	pqBool           // BOOLEAN
	pqTimeSec        // TIMESTAMP(MILLIS), from Unix seconds
	pqTimeMS         // TIMESTAMP(MILLIS), from Unix milliseconds
	pqTimeUS         // TIMESTAMP(MICROS), from Unix microseconds
	pqStrings        // LIST of STRING
	pqBytes          // BYTE_ARRAY
	pqJSON           // JSON text
)

// pqColumn is one column of a Parquet layout.
type pqColumn struct {
	name string
	kind pqKind
}

// node returns the column's Parquet schema node.
func (k pqKind) node() parquet.Node {
	switch k {
	case pqInt:
		return parquet.Optional(parquet.Int(64))
	case pqFloat:
		return parquet.Optional(parquet.Leaf(parquet.FloatType))
	case pqDouble:
		return parquet.Optional(parquet.Leaf(parquet.DoubleType))
	case pqBool:
		return parquet.Optional(parquet.Leaf(parquet.BooleanType))
	case pqTimeSec, pqTimeMS:
		return parquet.Optional(parquet.TimestampAdjusted(parquet.Millisecond, true))
	case pqTimeUS:
		return parquet.Optional(parquet.TimestampAdjusted(parquet.Microsecond, true))
	case pqStrings:
		return parquet.Optional(parquet.List(parquet.Optional(parquet.String())))
	case pqBytes:
		return parquet.Optional(parquet.Leaf(parquet.ByteArrayType))
	case pqJSON:
		return parquet.Optional(parquet.JSON())
	}
	return parquet.Optional(parquet.String())
}

// fits reports whether a writer field of kind from can be stored in a
// column of kind k as it is.
func (k pqKind) fits(from pqKind) bool {
	switch {
	case k == from, k == pqString:
		return true
	case k == pqDouble:
		return from == pqInt || from == pqFloat
	}
	return false
}

// widen returns the kind of a column that holds both kinds.
func widen(a, b pqKind) pqKind {
	switch {
	case a.fits(b):
		return a
	case b.fits(a):
		return b
	case (a == pqInt || a == pqFloat) && (b == pqInt || b == pqFloat):
		return pqDouble
	}
	return pqString
}

// writerKinds is what a writer schema (or the catalogue) says of its
// fields: their names in order and their Parquet kinds.
type writerKinds struct {
	names []string
	kinds map[string]pqKind
}

// parseKinds reads the kinds of the fields of an Avro record schema.
func parseKinds(schemaJSON string) (*writerKinds, error) {
	s, err := avro.ParseWithCache(schemaJSON, "", &avro.SchemaCache{})
	if err != nil {
		return nil, err
	}
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("writer schema is a %s, not a record", s.Type())
	}
	wk := &writerKinds{kinds: make(map[string]pqKind, len(rec.Fields()))}
	for _, f := range rec.Fields() {
		wk.names = append(wk.names, f.Name())
		wk.kinds[f.Name()] = kindOf(f.Name(), f.Type())
	}
	return wk, nil
}

// kindOf maps an Avro field type to a Parquet kind; a union with null is
// its other branch (every column is optional).
func kindOf(name string, s avro.Schema) pqKind {
	if u, ok := s.(*avro.UnionSchema); ok {
		var other []avro.Schema
		for _, t := range u.Types() {
			if t.Type() != avro.Null {
				other = append(other, t)
			}
		}
		if len(other) != 1 {
			return pqJSON
		}
		s = other[0]
	}
	if ref, ok := s.(*avro.RefSchema); ok {
		s = ref.Schema()
	}
	if p, ok := s.(*avro.PrimitiveSchema); ok && p.Logical() != nil {
		switch p.Logical().Type() {
		case avro.TimestampMillis:
			return pqTimeMS
		case avro.TimestampMicros:
			return pqTimeUS
		}
	}
	switch s.Type() {
	case avro.String:
		return pqString
	case avro.Int, avro.Long:
		switch name {
		case "time":
			return pqTimeSec
		case "time_ms":
			return pqTimeMS
		}
		return pqInt
	case avro.Float:
		return pqFloat
	case avro.Double:
		return pqDouble
	case avro.Boolean:
		return pqBool
	case avro.Bytes:
		return pqBytes
	case avro.Array:
		if items := s.(*avro.ArraySchema).Items(); kindOf("", items) == pqString {
			return pqStrings
		}
	case avro.Null:
		return pqString
	}
	return pqJSON
}

// parquetLayout returns the columns of a new Parquet part of eventType for
// events of writer schema wk: those of the part before (or the type's
// widest in the run, or its catalogue fields, or the pinned -columns),
// with wk's fields added and types widened where they do not fit.
func (o *outputs) parquetLayout(eventType string, prev []pqColumn, wk *writerKinds) []pqColumn {
	cols := slices.Clone(prev)
	if cols == nil {
		cols = slices.Clone(o.pqLast[eventType])
	}
	if cols == nil {
		cat := o.catalogue(eventType)
		if o.columns != nil {
			for _, name := range o.columns {
				k, ok := cat.kinds[name]
				if !ok {
					k, ok = wk.kinds[name]
				}
				if !ok {
					k = pqString
				}
				cols = append(cols, pqColumn{name, k})
			}
		} else {
			for _, name := range cat.names {
				cols = append(cols, pqColumn{name, cat.kinds[name]})
			}
		}
	}
	for _, name := range wk.names {
		k := wk.kinds[name]
		i := slices.IndexFunc(cols, func(c pqColumn) bool { return c.name == name })
		switch {
		case i >= 0:
			cols[i].kind = widen(cols[i].kind, k)
		case o.columns == nil:
			cols = append(cols, pqColumn{name, k})
		}
	}
	o.pqLast[eventType] = cols
	return cols
}

// catalogue returns the kinds of the event type's current Currents
// fields (none for an unknown type).
func (o *outputs) catalogue(eventType string) *writerKinds {
	if raw, ok := currents.SyntheticSchema(eventType); ok {
		if wk, err := o.kindsOf(raw); err == nil {
			return wk
		}
	}
	return &writerKinds{kinds: map[string]pqKind{}}
}

// kindsOf parses a writer schema once per run.
func (o *outputs) kindsOf(raw string) (*writerKinds, error) {
	if wk, ok := o.pqSchemas[raw]; ok {
		return wk, nil
	}
	wk, err := parseKinds(raw)
	if err != nil {
		return nil, err
	}
	o.pqSchemas[raw] = wk
	return wk, nil
}

// eventKinds returns the kinds of an event's writer schema: for a
// hand-built event (no writer schema) the catalogue's for its fields.
func (o *outputs) eventKinds(fe currents.FieldEvent) (*writerKinds, error) {
	if ws, ok := fe.(interface{ WriterSchema() string }); ok {
		if raw := ws.WriterSchema(); raw != "" {
			wk, err := o.kindsOf(raw)
			if err != nil {
				return nil, fmt.Errorf("event %s: writer schema: %w", fe.EventID(), err)
			}
			return wk, nil
		}
	}
	cat := o.catalogue(fe.EventType())
	wk := &writerKinds{names: fe.Fields(), kinds: map[string]pqKind{}}
	for _, name := range wk.names {
		if k, ok := cat.kinds[name]; ok {
			wk.kinds[name] = k
		} else {
			wk.kinds[name] = pqJSON
		}
	}
	return wk, nil
}

// pqPart is the Parquet side of a part.
type pqPart struct {
	layout   []pqColumn // in layout order: catalogue fields, then newer ones
	cols     []pqColumn // in the schema's leaf order (by name)
	schema   *parquet.Schema
	w        *parquet.GenericWriter[any]
	buf      *parquet.Buffer
	markRows int64       // rows in buf at the current input file's start
	row      parquet.Row // reused
	rows     []parquet.Row
	// lastFields is the field list of the last writer schema found to fit.
	lastFields []string
}

func newPQPart(p *part, cols []pqColumn) *pqPart {
	group := parquet.Group{}
	for _, c := range cols {
		group[c.name] = c.kind.node()
	}
	schema := parquet.NewSchema(strings.ReplaceAll(p.eventType, ".", "_"), group)
	sorted := slices.Clone(cols)
	// parquet.Group orders its fields by name; each column is one leaf.
	slices.SortFunc(sorted, func(a, b pqColumn) int { return strings.Compare(a.name, b.name) })
	return &pqPart{
		layout: cols,
		cols:   sorted,
		schema: schema,
		w:      parquet.NewGenericWriter[any](p.out, schema, parquet.Compression(&parquet.Snappy)),
		buf:    parquet.NewBuffer(schema),
		rows:   make([]parquet.Row, 1),
	}
}

// fitsFast reports whether fields is the field list last found to fit:
// the events of one writer schema share one slice, so this spares the
// schema lookup per event.
func (q *pqPart) fitsFast(fields []string) bool {
	return len(fields) > 0 && len(fields) == len(q.lastFields) && &fields[0] == &q.lastFields[0]
}

// fits reports whether events of the writer schema wk (whose field list
// is fields) fit the part's columns.
func (q *pqPart) fits(fields []string, wk *writerKinds, pinned bool) bool {
	if q.fitsFast(fields) {
		return true
	}
	for _, name := range wk.names {
		i := slices.IndexFunc(q.cols, func(c pqColumn) bool { return c.name == name })
		if i < 0 {
			if pinned {
				continue
			}
			return false
		}
		if !q.cols[i].kind.fits(wk.kinds[name]) {
			return false
		}
	}
	q.lastFields = fields
	return true
}

// write adds an event's row to the buffer.
func (q *pqPart) write(fe currents.FieldEvent) error {
	row := q.row[:0]
	for i, c := range q.cols {
		v, _ := fe.Get(c.name)
		var err error
		if row, err = appendPQValue(row, c.kind, v, i); err != nil {
			return fmt.Errorf("event %s field %s: %w", fe.EventID(), c.name, err)
		}
	}
	q.row = row
	q.rows[0] = row
	_, err := q.buf.WriteRows(q.rows)
	return err
}

// bytesOf views a string's bytes without copying: the buffer copies them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// appendPQValue appends the value(s) of v for column col of kind k.
func appendPQValue(row parquet.Row, k pqKind, v any, col int) (parquet.Row, error) {
	if v == nil {
		return append(row, parquet.NullValue().Level(0, 0, col)), nil
	}
	var pv parquet.Value
	switch k {
	case pqString:
		s, ok := v.(string)
		if !ok {
			s = cell(v)
		}
		pv = parquet.ByteArrayValue(bytesOf(s))
	case pqJSON:
		pv = parquet.ByteArrayValue(bytesOf(jsonText(v)))
	case pqBytes:
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("%T in a BYTE_ARRAY column", v)
		}
		pv = parquet.ByteArrayValue(b)
	case pqInt, pqTimeSec, pqTimeMS, pqTimeUS:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%T in an integer column", v)
		}
		if k == pqTimeSec {
			n *= 1000
		}
		pv = parquet.Int64Value(n)
	case pqFloat:
		f, ok := v.(float32)
		if !ok {
			return nil, fmt.Errorf("%T in a FLOAT column", v)
		}
		pv = parquet.FloatValue(f)
	case pqDouble:
		switch x := v.(type) {
		case float64:
			pv = parquet.DoubleValue(x)
		case float32:
			pv = parquet.DoubleValue(float64(x))
		case int64:
			pv = parquet.DoubleValue(float64(x))
		default:
			return nil, fmt.Errorf("%T in a DOUBLE column", v)
		}
	case pqBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%T in a BOOLEAN column", v)
		}
		pv = parquet.BooleanValue(b)
	case pqStrings:
		return appendPQList(row, v, col)
	}
	return append(row, pv.Level(0, 1, col)), nil
}

// appendPQList appends an array of strings: definition level 1 for an
// empty list, 2 for a null item, 3 for an item; repetition level 1 for
// every item after the first.
func appendPQList(row parquet.Row, v any, col int) (parquet.Row, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		items = make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
	default:
		return nil, fmt.Errorf("%T in a LIST column", v)
	}
	if len(items) == 0 {
		return append(row, parquet.NullValue().Level(0, 1, col)), nil
	}
	for i, it := range items {
		rep := min(i, 1)
		if it == nil {
			row = append(row, parquet.NullValue().Level(rep, 2, col))
			continue
		}
		s, ok := it.(string)
		if !ok {
			s = cell(it)
		}
		row = append(row, parquet.ByteArrayValue(bytesOf(s)).Level(rep, 3, col))
	}
	return row, nil
}

// jsonText is a value's JSON text (a string as it is: Braze's JSON fields
// are JSON text in strings).
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return cell(v)
}

// mark records the buffer's rows at an input file's start; a buffer
// grown past pqRowGroupRows is first written out as a row group.
func (q *pqPart) mark() error {
	if q.buf.NumRows() >= pqRowGroupRows {
		if _, err := q.w.WriteRowGroup(q.buf); err != nil {
			return err
		}
		q.buf.Reset()
	}
	q.markRows = q.buf.NumRows()
	return nil
}

// rollback drops the rows buffered since the mark (all of them when
// whole is set: the part opened after the mark).
func (q *pqPart) rollback(whole bool) error {
	keep := q.markRows
	if whole {
		keep = 0
	}
	if q.buf.NumRows() == keep {
		return nil
	}
	if keep == 0 {
		q.buf.Reset()
		return nil
	}
	// Rare (a corrupt input file): copy the rows to keep through a new
	// buffer.
	kept := parquet.NewBuffer(q.schema)
	rows := q.buf.Rows()
	defer rows.Close()
	batch := make([]parquet.Row, 256)
	for left := keep; left > 0; {
		n, err := rows.ReadRows(batch[:min(int64(len(batch)), left)])
		if n > 0 {
			if _, werr := kept.WriteRows(batch[:n]); werr != nil {
				return werr
			}
			left -= int64(n)
		}
		if err != nil && left > 0 {
			return fmt.Errorf("rolling back a Parquet part: %w", err)
		}
	}
	q.buf = kept
	return nil
}

// close writes the buffered rows and the footer.
func (q *pqPart) close() error {
	if q.buf.NumRows() > 0 {
		if _, err := q.w.WriteRowGroup(q.buf); err != nil {
			return err
		}
	}
	return q.w.Close()
}
