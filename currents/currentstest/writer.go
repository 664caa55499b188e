// Package currentstest writes synthetic Braze Currents Avro files, for
// examples and tests that need a Currents file without Braze's own
// (which may not be redistributed).
//
// Files use this module's own schemas (currents.SyntheticSchema) unless
// WithSchema supplies another, any of the four standard codecs, and as
// many blocks as asked for. WithAddedFields writes a schema as a later
// Currents release does (v10 plus added optional fields, or a stand-in
// for a new event type), and AddedFields lists what releases 11 and 12
// added, so that tests can check what a newer file decodes to.
package currentstest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"reflect"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/golang/snappy"
	"github.com/hamba/avro/v2"
	"github.com/klauspost/compress/zstd"
)

// DefaultSyncMarker is the sync marker of files written without
// WithSyncMarker: a fixed value keeps the output byte-for-byte
// reproducible.
var DefaultSyncMarker = [16]byte{'c', 'u', 'r', 'r', 'e', 'n', 't', 's', 't', 'e', 's', 't', 's', 'y', 'n', 'c'}

type config struct {
	codec        string
	schema       string
	blockRecords int
	sync         [16]byte
	meta         map[string][]byte
	level        int
	added        []Field
	addedSet     bool // WithAddedFields given, even with no fields
}

// Option configures WriteFile and WriteEvents.
type Option func(*config)

// WithCodec sets the block codec: "null" (the default, and what Braze
// writes), "deflate", "snappy" or "zstandard". The null codec writes no
// avro.codec header key, like Braze.
func WithCodec(codec string) Option { return func(c *config) { c.codec = codec } }

// WithSchema sets the writer schema JSON, for example an older Currents
// schema to test drift. The default is currents.SyntheticSchema(eventType).
func WithSchema(schemaJSON string) Option { return func(c *config) { c.schema = schemaJSON } }

// WithBlockRecords sets how many records go in each block (default 1000).
func WithBlockRecords(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.blockRecords = n
		}
	}
}

// WithSyncMarker sets the 16-byte sync marker.
func WithSyncMarker(m [16]byte) Option { return func(c *config) { c.sync = m } }

// WithMetadata adds a header metadata entry.
func WithMetadata(key string, value []byte) Option {
	return func(c *config) { c.meta[key] = value }
}

// WriteFile writes an Avro object container file holding records, each a
// map from Avro field name to value. Values may be nil (null), bool, any
// Go integer or float, json.Number, string, []byte, []string, []any or
// map[string]any; union branches are chosen by the value's Go type. A
// field missing from a record takes its schema default, or the zero
// value of its type when it has none.
func WriteFile(w io.Writer, eventType string, records []map[string]any, opts ...Option) error {
	c := config{blockRecords: 1000, sync: DefaultSyncMarker, meta: map[string][]byte{}, level: flate.DefaultCompression}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.schema != "" && c.addedSet:
		return errors.New("currentstest: WithSchema and WithAddedFields both given")
	case c.addedSet:
		s, err := Schema(eventType, c.added...)
		if err != nil {
			return err
		}
		c.schema = s
	case c.schema == "":
		s, ok := currents.SyntheticSchema(eventType)
		if !ok {
			return fmt.Errorf("currentstest: unknown event type %q: give WithSchema or WithAddedFields", eventType)
		}
		c.schema = s
	}
	schema, err := avro.ParseWithCache(c.schema, "", &avro.SchemaCache{})
	if err != nil {
		return fmt.Errorf("currentstest: schema: %w", err)
	}
	switch c.codec {
	case "", "null":
		c.codec = ""
	case "deflate", "snappy", "zstandard":
		c.meta["avro.codec"] = []byte(c.codec)
	default:
		return fmt.Errorf("currentstest: unsupported codec %q", c.codec)
	}
	c.meta["avro.schema"] = []byte(c.schema)

	var out bytes.Buffer
	out.WriteString("Obj\x01")
	keys := make([]string, 0, len(c.meta))
	for k := range c.meta {
		keys = append(keys, k)
	}
	sortStrings(keys)
	buf := appendLong(nil, int64(len(keys)))
	for _, k := range keys {
		buf = appendBytes(buf, []byte(k))
		buf = appendBytes(buf, c.meta[k])
	}
	buf = appendLong(buf, 0)
	out.Write(buf)
	out.Write(c.sync[:])

	for start := 0; start < len(records); start += c.blockRecords {
		end := min(start+c.blockRecords, len(records))
		var data []byte
		for i, rec := range records[start:end] {
			if data, err = encode(data, schema, rec, 0); err != nil {
				return fmt.Errorf("currentstest: record %d: %w", start+i, err)
			}
		}
		block, err := compress(c, data)
		if err != nil {
			return err
		}
		out.Write(appendLong(appendLong(nil, int64(end-start)), int64(len(block))))
		out.Write(block)
		out.Write(c.sync[:])
	}
	_, err = w.Write(out.Bytes())
	return err
}

// WriteEvents writes events (all of one type) with their current
// schema, taking each field's value from FieldEvent.Get.
func WriteEvents(w io.Writer, events []currents.Event, opts ...Option) error {
	if len(events) == 0 {
		return errors.New("currentstest: no events")
	}
	et := events[0].EventType()
	recs := make([]map[string]any, len(events))
	for i, ev := range events {
		if ev.EventType() != et {
			return fmt.Errorf("currentstest: event %d is %s, not %s", i, ev.EventType(), et)
		}
		fe, ok := ev.(currents.FieldEvent)
		if !ok {
			return fmt.Errorf("currentstest: event %d (%T) has no field access", i, ev)
		}
		m := map[string]any{}
		for _, f := range fe.Fields() {
			m[f], _ = fe.Get(f)
		}
		recs[i] = m
	}
	return WriteFile(w, et, recs, opts...)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func compress(c config, data []byte) ([]byte, error) {
	switch c.codec {
	case "":
		return data, nil
	case "deflate":
		var b bytes.Buffer
		fw, err := flate.NewWriter(&b, c.level)
		if err != nil {
			return nil, err
		}
		fw.Write(data)
		if err := fw.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	case "snappy":
		out := snappy.Encode(nil, data)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(data)), nil
	case "zstandard":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer enc.Close()
		return enc.EncodeAll(data, nil), nil
	}
	return nil, fmt.Errorf("currentstest: unsupported codec %q", c.codec)
}

func appendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func appendBytes(b, s []byte) []byte { return append(appendLong(b, int64(len(s))), s...) }

func deref(s avro.Schema) avro.Schema {
	for {
		r, ok := s.(*avro.RefSchema)
		if !ok {
			return s
		}
		s = r.Schema()
	}
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case float64:
		return int64(x), x == math.Trunc(x)
	case float32:
		return int64(x), float64(x) == math.Trunc(float64(x))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	i, ok := asInt(v)
	return float64(i), ok
}

// fits reports whether v can be encoded as s (to pick a union branch).
func fits(s avro.Schema, v any) bool {
	s = deref(s)
	switch s.Type() {
	case avro.Null:
		return v == nil
	case avro.Boolean:
		_, ok := v.(bool)
		return ok
	case avro.Int, avro.Long:
		_, ok := asInt(v)
		return ok
	case avro.Float, avro.Double:
		_, ok := asFloat(v)
		return ok
	case avro.String, avro.Enum:
		_, ok := v.(string)
		return ok
	case avro.Bytes, avro.Fixed:
		switch v.(type) {
		case []byte, string:
			return true
		}
	case avro.Array:
		switch v.(type) {
		case []any, []string:
			return true
		}
	case avro.Map, avro.Record:
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func encode(b []byte, s avro.Schema, v any, depth int) ([]byte, error) {
	if depth > 64 {
		return nil, errors.New("value nested too deeply")
	}
	s = deref(s)
	switch t := s.(type) {
	case *avro.UnionSchema:
		for i, br := range t.Types() {
			if fits(br, v) {
				return encode(appendLong(b, int64(i)), br, v, depth+1)
			}
		}
		return nil, fmt.Errorf("no branch of %s fits %T", s, v)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("record needs map[string]any, got %T", v)
		}
		var err error
		for _, f := range t.Fields() {
			fv, ok := m[f.Name()]
			if !ok {
				if f.HasDefault() {
					fv = f.Default()
				} else {
					fv = zero(f.Type())
				}
			}
			if b, err = encode(b, f.Type(), fv, depth+1); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name(), err)
			}
		}
		return b, nil
	case *avro.ArraySchema:
		var items []any
		switch x := v.(type) {
		case []any:
			items = x
		case []string:
			for _, s := range x {
				items = append(items, s)
			}
		case nil:
		default:
			return nil, fmt.Errorf("array needs a slice, got %T", v)
		}
		if len(items) > 0 {
			b = appendLong(b, int64(len(items)))
			var err error
			for _, it := range items {
				if b, err = encode(b, t.Items(), it, depth+1); err != nil {
					return nil, err
				}
			}
		}
		return appendLong(b, 0), nil
	case *avro.MapSchema:
		m, _ := v.(map[string]any)
		if len(m) > 0 {
			b = appendLong(b, int64(len(m)))
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sortStrings(keys)
			var err error
			for _, k := range keys {
				b = appendBytes(b, []byte(k))
				if b, err = encode(b, t.Values(), m[k], depth+1); err != nil {
					return nil, err
				}
			}
		}
		return appendLong(b, 0), nil
	case *avro.EnumSchema:
		sym, _ := v.(string)
		for i, s := range t.Symbols() {
			if s == sym {
				return appendLong(b, int64(i)), nil
			}
		}
		return nil, fmt.Errorf("%q is not a symbol of %s", sym, t.Name())
	case *avro.FixedSchema:
		raw := toBytes(v)
		if len(raw) != t.Size() {
			return nil, fmt.Errorf("fixed %s needs %d bytes, got %d", t.Name(), t.Size(), len(raw))
		}
		return append(b, raw...), nil
	}
	if v == nil && s.Type() != avro.Null {
		v = zero(s)
	}
	switch s.Type() {
	case avro.Null:
		if v != nil {
			return nil, fmt.Errorf("null field given %T", v)
		}
		return b, nil
	case avro.Boolean:
		x, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("boolean field given %T", v)
		}
		if x {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case avro.Int, avro.Long:
		x, ok := asInt(v)
		if !ok {
			return nil, fmt.Errorf("%s field given %T", s.Type(), v)
		}
		return appendLong(b, x), nil
	case avro.Float:
		x, ok := asFloat(v)
		if !ok {
			return nil, fmt.Errorf("float field given %T", v)
		}
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x))), nil
	case avro.Double:
		x, ok := asFloat(v)
		if !ok {
			return nil, fmt.Errorf("double field given %T", v)
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), nil
	case avro.String, avro.Bytes:
		switch v.(type) {
		case string, []byte:
			return appendBytes(b, toBytes(v)), nil
		}
		return nil, fmt.Errorf("%s field given %T", s.Type(), v)
	}
	return nil, fmt.Errorf("unsupported schema type %s", s.Type())
}

func toBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

// zero is the value written for a field a record leaves out and whose
// schema has no default.
func zero(s avro.Schema) any {
	s = deref(s)
	switch s.Type() {
	case avro.Boolean:
		return false
	case avro.Int, avro.Long:
		return int64(0)
	case avro.Float, avro.Double:
		return float64(0)
	case avro.String, avro.Bytes:
		return ""
	case avro.Array:
		return []any{}
	case avro.Map, avro.Record:
		return map[string]any{}
	case avro.Union:
		return zero(s.(*avro.UnionSchema).Types()[0])
	case avro.Enum:
		return s.(*avro.EnumSchema).Symbols()[0]
	case avro.Fixed:
		return make([]byte, s.(*avro.FixedSchema).Size())
	}
	return nil
}
