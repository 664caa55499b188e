package currents

import (
	"errors"
	"fmt"
	"math"

	"github.com/hamba/avro/v2"
)

// Errors raised while reading Avro binary data inside a block. They are
// wrapped in an *Error that says where they happened.
var (
	errShortData   = errors.New("record data ends early")
	errVarint      = errors.New("malformed varint")
	errNegativeLen = errors.New("negative length")
	errUnionIndex  = errors.New("union branch index out of range")
	errTooDeep     = errors.New("value nested too deeply")
)

// maxDepth bounds the recursion of generic decoding so a hostile schema
// with deeply nested arrays cannot exhaust the stack.
const maxDepth = 64

// bin reads Avro binary encoding from a string. Decoding from a string lets
// decoded strings be substrings of one per-record allocation instead of one
// allocation per field.
type bin struct {
	s   string
	p   int
	err error
}

func (b *bin) fail(err error) {
	if b.err == nil {
		b.err = err
	}
	b.p = len(b.s)
}

// long reads a zig-zag varint (Avro int and long share the encoding).
func (b *bin) long() int64 {
	var v uint64
	var shift uint
	for i := 0; ; i++ {
		if b.p >= len(b.s) {
			b.fail(errShortData)
			return 0
		}
		c := b.s[b.p]
		b.p++
		if i == 9 && c > 1 {
			b.fail(errVarint)
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
		shift += 7
	}
	return int64(v>>1) ^ -int64(v&1)
}

// length reads a length prefix and checks it against the remaining data.
func (b *bin) length() int {
	n := b.long()
	if n < 0 {
		b.fail(errNegativeLen)
		return 0
	}
	if n > int64(len(b.s)-b.p) {
		b.fail(errShortData)
		return 0
	}
	return int(n)
}

func (b *bin) str() string {
	n := b.length()
	s := b.s[b.p : b.p+n]
	b.p += n
	return s
}

func (b *bin) skip(n int) {
	if n > len(b.s)-b.p {
		b.fail(errShortData)
		return
	}
	b.p += n
}

func (b *bin) boolean() bool {
	if b.p >= len(b.s) {
		b.fail(errShortData)
		return false
	}
	c := b.s[b.p]
	b.p++
	return c != 0
}

func (b *bin) float() float32 {
	if len(b.s)-b.p < 4 {
		b.fail(errShortData)
		return 0
	}
	s := b.s[b.p:]
	b.p += 4
	return math.Float32frombits(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
}

func (b *bin) double() float64 {
	if len(b.s)-b.p < 8 {
		b.fail(errShortData)
		return 0
	}
	s := b.s[b.p:]
	b.p += 8
	return math.Float64frombits(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
}

// deref follows named-type references.
func deref(s avro.Schema) avro.Schema {
	for {
		r, ok := s.(*avro.RefSchema)
		if !ok {
			return s
		}
		s = r.Schema()
	}
}

// blockCount reads an array or map block header; a negative count is
// followed by the block's byte size, which we do not need.
func (b *bin) blockCount() int64 {
	n := b.long()
	if n < 0 {
		if n == math.MinInt64 {
			b.fail(errVarint)
			return 0
		}
		n = -n
		b.long()
	}
	// Every item of a Currents array or map takes at least one byte; a
	// count beyond the remaining data is corrupt (and would otherwise let
	// a few bytes declare billions of empty items).
	if n > int64(len(b.s)-b.p) {
		b.fail(errShortData)
		return 0
	}
	return n
}

// value decodes any Avro value into plain Go values: nil, bool, int64
// (int and long), float32, float64, string, []byte, []any,
// map[string]any (maps and nested records).
func (b *bin) value(s avro.Schema, depth int) any {
	if depth > maxDepth {
		b.fail(errTooDeep)
		return nil
	}
	s = deref(s)
	switch t := s.(type) {
	case *avro.PrimitiveSchema:
		switch t.Type() {
		case avro.Null:
			return nil
		case avro.Boolean:
			return b.boolean()
		case avro.Int, avro.Long:
			return b.long()
		case avro.Float:
			return b.float()
		case avro.Double:
			return b.double()
		case avro.String:
			return b.str()
		case avro.Bytes:
			return []byte(b.str())
		}
	case *avro.NullSchema:
		return nil
	case *avro.UnionSchema:
		types := t.Types()
		i := b.long()
		if b.err != nil {
			return nil
		}
		if i < 0 || i >= int64(len(types)) {
			b.fail(errUnionIndex)
			return nil
		}
		return b.value(types[i], depth+1)
	case *avro.ArraySchema:
		out := []any{}
		for {
			n := b.blockCount()
			if n == 0 || b.err != nil {
				return out
			}
			for ; n > 0 && b.err == nil; n-- {
				out = append(out, b.value(t.Items(), depth+1))
			}
		}
	case *avro.MapSchema:
		out := map[string]any{}
		for {
			n := b.blockCount()
			if n == 0 || b.err != nil {
				return out
			}
			for ; n > 0 && b.err == nil; n-- {
				k := b.str()
				out[k] = b.value(t.Values(), depth+1)
			}
		}
	case *avro.RecordSchema:
		out := make(map[string]any, len(t.Fields()))
		for _, f := range t.Fields() {
			out[f.Name()] = b.value(f.Type(), depth+1)
		}
		return out
	case *avro.EnumSchema:
		i := b.long()
		sym, ok := t.Symbol(int(i))
		if !ok && b.err == nil {
			b.fail(fmt.Errorf("enum index %d out of range", i))
		}
		return sym
	case *avro.FixedSchema:
		n := t.Size()
		if n > len(b.s)-b.p {
			b.fail(errShortData)
			return nil
		}
		v := []byte(b.s[b.p : b.p+n])
		b.p += n
		return v
	}
	b.fail(fmt.Errorf("unsupported schema type %s", s.Type()))
	return nil
}

// skipValue advances past one value without materialising it.
func (b *bin) skipValue(s avro.Schema, depth int) {
	if depth > maxDepth {
		b.fail(errTooDeep)
		return
	}
	s = deref(s)
	switch t := s.(type) {
	case *avro.PrimitiveSchema:
		switch t.Type() {
		case avro.Null:
		case avro.Boolean:
			b.skip(1)
		case avro.Int, avro.Long:
			b.long()
		case avro.Float:
			b.skip(4)
		case avro.Double:
			b.skip(8)
		case avro.String, avro.Bytes:
			b.skip(b.length())
		}
	case *avro.NullSchema:
	case *avro.UnionSchema:
		types := t.Types()
		i := b.long()
		if b.err != nil {
			return
		}
		if i < 0 || i >= int64(len(types)) {
			b.fail(errUnionIndex)
			return
		}
		b.skipValue(types[i], depth+1)
	case *avro.ArraySchema:
		for {
			n := b.blockCount()
			if n == 0 || b.err != nil {
				return
			}
			for ; n > 0 && b.err == nil; n-- {
				b.skipValue(t.Items(), depth+1)
			}
		}
	case *avro.MapSchema:
		for {
			n := b.blockCount()
			if n == 0 || b.err != nil {
				return
			}
			for ; n > 0 && b.err == nil; n-- {
				b.skip(b.length())
				b.skipValue(t.Values(), depth+1)
			}
		}
	case *avro.RecordSchema:
		for _, f := range t.Fields() {
			b.skipValue(f.Type(), depth+1)
		}
	case *avro.EnumSchema:
		b.long()
	case *avro.FixedSchema:
		b.skip(t.Size())
	default:
		b.fail(fmt.Errorf("unsupported schema type %s", s.Type()))
	}
}
