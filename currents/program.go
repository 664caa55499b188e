package currents

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/hamba/avro/v2"
)

// writerSchema is one parsed avro.schema header, shared by every file that
// carries the same bytes, with the field programs compiled for it so far.
type writerSchema struct {
	raw      string
	record   *avro.RecordSchema
	fullName string

	mu       sync.Mutex
	programs map[string]*program // by event type
}

func parseWriterSchema(raw []byte) (*writerSchema, error) {
	// A private cache per parse: hamba's default cache is global and keyed
	// by full name, and Braze reused full names across incompatible
	// versions of a schema.
	s, err := avro.ParseBytesWithCache(raw, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchema, err)
	}
	rec, ok := deref(s).(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("%w: top-level type is %s, not record", ErrSchema, s.Type())
	}
	return &writerSchema{raw: string(raw), record: rec, fullName: rec.FullName(), programs: map[string]*program{}}, nil
}

// programFor returns the field program decoding this schema into eventType's Go
// type, compiling it on first use.
func (ws *writerSchema) programFor(eventType string) *program {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if p, ok := ws.programs[eventType]; ok {
		return p
	}
	p := compileProgram(ws, eventType)
	ws.programs[eventType] = p
	return p
}

// wkind is the Avro primitive a field's value is encoded as (the non-null
// branch for a ["null", T] union); wOther means "decode generically".
type wkind uint8

const (
	wOther wkind = iota
	wNull
	wString
	wBytes
	wInt
	wLong
	wFloat
	wDouble
	wBool
)

var primKinds = map[avro.Type]wkind{
	avro.Null: wNull, avro.String: wString, avro.Bytes: wBytes, avro.Int: wInt,
	avro.Long: wLong, avro.Float: wFloat, avro.Double: wDouble, avro.Boolean: wBool,
}

// step decodes one writer field.
type step struct {
	name   string
	schema avro.Schema // writer type, for the generic path
	w      wkind
	union  bool  // a two-branch union with null
	nullBr int64 // branch index of null
	valBr  int64 // branch index of the value
	kind   goKind
	off    uintptr
	bit    uint64 // null bit in Record.nulls
	extra  int    // slot in Record.extra, or -1
	fmt32  bool   // Avro float: print with float32 precision
	null   bool   // the field may be null
	// lazy marks a field of a typed event that its Go struct lacks (one a
	// newer Currents release added) and whose writer type is a primitive
	// or ["null", primitive]: decoding only skips it, and Get and the JSON
	// view read it from Record.raw when asked. Newer files then decode as
	// fast as older ones.
	lazy bool
	// untyped is extra >= 0 || lazy: the one test on the per-record path.
	untyped bool
}

// program is a precompiled mapping from one writer schema to one Go event
// type: per writer field, what to read and where to store it. Building it
// once per (schema, type) keeps name lookups and type checks out of the
// per-record loop.
type program struct {
	eventType string
	ti        *typeInfo // nil for Generic
	steps     []step
	index     map[string]int // field name -> step
	names     []string
	nExtra    int
	nLazy     int       // steps with lazy set; when 0, Record.raw stays empty
	minSize   int       // lower bound on a record's encoded size
	strOffs   []uintptr // offsets of typed string fields, to move onto the record copy
	raw       string
	// jsonKeys holds each step's `"name":`, escaped once rather than for
	// every event of the JSON view. Built on first use.
	jsonKeysOnce sync.Once
	jsonKeys     []string
}

// keys returns `"name":` for each step, JSON-escaped.
func (p *program) keys() []string {
	p.jsonKeysOnce.Do(func() {
		p.jsonKeys = make([]string, len(p.steps))
		for j := range p.steps {
			p.jsonKeys[j] = string(append(appendJSONString(nil, p.steps[j].name), ':'))
		}
	})
	return p.jsonKeys
}

func classify(s avro.Schema) (w wkind, union bool, nullBr, valBr int64, nullable bool) {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		types := u.Types()
		nullBr, valBr = -1, -1
		for i, t := range types {
			if deref(t).Type() == avro.Null {
				nullable = true
				if nullBr < 0 {
					nullBr = int64(i)
					continue
				}
			}
			valBr = int64(i)
		}
		if len(types) == 2 && nullBr >= 0 && valBr >= 0 {
			if k, ok := primKinds[deref(types[valBr]).Type()]; ok && k != wNull {
				return k, true, nullBr, valBr, true
			}
		}
		return wOther, false, 0, 0, nullable
	}
	if k, ok := primKinds[s.Type()]; ok {
		return k, false, 0, 0, k == wNull
	}
	return wOther, false, 0, 0, false
}

// isStringArray reports whether s is an array of strings (items string or
// ["null","string"]), possibly inside a union with null.
func isStringArray(s avro.Schema) bool {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		for _, t := range u.Types() {
			t = deref(t)
			if t.Type() == avro.Null {
				continue
			}
			if !isStringArray(t) {
				return false
			}
		}
		return true
	}
	a, ok := s.(*avro.ArraySchema)
	if !ok {
		return false
	}
	it := deref(a.Items())
	if u, ok := it.(*avro.UnionSchema); ok {
		for _, t := range u.Types() {
			if k := deref(t).Type(); k != avro.Null && k != avro.String {
				return false
			}
		}
		return true
	}
	return it.Type() == avro.String
}

func compatible(w wkind, k goKind) bool {
	switch k {
	case kString:
		return w == wString || w == wBytes
	case kInt64:
		return w == wInt || w == wLong
	case kFloat64:
		return w == wFloat || w == wDouble || w == wInt || w == wLong
	case kBool:
		return w == wBool
	}
	return false
}

func compileProgram(ws *writerSchema, eventType string) *program {
	p := &program{eventType: eventType, raw: ws.raw, index: map[string]int{}}
	if ti, ok := knownTypes[eventType]; ok {
		p.ti = ti
	}
	goFields := map[string]*fieldInfo{}
	if p.ti != nil {
		for i := range p.ti.fields {
			goFields[p.ti.fields[i].name] = &p.ti.fields[i]
		}
	}
	nbit := 0
	for _, f := range ws.record.Fields() {
		st := step{name: f.Name(), schema: f.Type(), extra: -1}
		st.w, st.union, st.nullBr, st.valBr, st.null = classify(f.Type())
		st.fmt32 = st.w == wFloat
		gf := goFields[f.Name()]
		switch {
		case gf != nil && gf.kind == kStrings && isStringArray(f.Type()):
			// Arrays are rare: decode generically (keeping null items for
			// the JSON view) and copy into the []string field.
			st.kind, st.off = kStrings, gf.off
		case gf != nil && compatible(st.w, gf.kind) && (!st.union || nbit < 64):
			st.kind, st.off = gf.kind, gf.off
			if st.union {
				// Null bits go to the nullable typed fields only, so that
				// fields a newer schema adds before them cannot push a
				// typed field past the 64 bits of Record.nulls.
				st.bit = 1 << nbit
				nbit++
			}
		}
		switch {
		case st.kind == 0 && p.ti != nil && st.w != wOther:
			st.lazy, st.untyped = true, true
			p.nLazy++
		case st.kind == 0 || st.kind == kStrings:
			// Generic events, arrays and other complex values are decoded
			// into plain Go values with the record.
			st.extra, st.untyped = p.nExtra, true
			p.nExtra++
		case st.kind == kString:
			p.strOffs = append(p.strOffs, st.off)
		}
		switch st.w {
		case wString, wBytes, wInt, wLong, wBool:
			p.minSize++
		case wFloat:
			p.minSize += 4
		case wDouble:
			p.minSize += 8
		}
		p.index[st.name] = len(p.steps)
		p.names = append(p.names, st.name)
		p.steps = append(p.steps, st)
	}
	return p
}

// defaultPlan describes a hand-built event of a generated type: the
// current schema's fields, no null tracking, no extras.
func defaultProgram(ti *typeInfo) *program {
	p := &program{eventType: ti.eventType, ti: ti, index: map[string]int{}}
	for _, f := range ti.fields {
		st := step{name: f.name, kind: f.kind, off: f.off, extra: -1, union: f.nullable, null: f.nullable, fmt32: f.avroType == "float"}
		p.index[f.name] = len(p.steps)
		p.names = append(p.names, f.name)
		p.steps = append(p.steps, st)
	}
	return p
}

// decode decodes the record at b's position in the block. In one pass,
// string fields are first sliced from the block (a reused buffer), then,
// once the record's extent is known, its bytes are copied into a single
// owned string and each string field is moved onto that copy. Fields kept
// as generic values are decoded from the copy in a second, rare, step.
func (p *program) decode(b *bin) (Event, error) {
	start := b.p
	var base unsafe.Pointer
	var ev Event
	if p.ti != nil {
		base = p.ti.alloc()
		ev = p.ti.event(base)
	} else {
		g := &Generic{}
		base, ev = unsafe.Pointer(g), g
	}
	r := (*Record)(base)
	r.program = p
	var posBuf [8]int
	extraPos := posBuf[:0]
	for i := range p.steps {
		st := &p.steps[i]
		if st.untyped {
			if st.lazy {
				b.skipPrimitive(st)
				continue
			}
			extraPos = append(extraPos, b.p)
			b.skipValue(st.schema, 0)
			continue
		}
		if st.union {
			br := b.long()
			if br == st.nullBr {
				r.nulls |= st.bit
				continue
			}
			if br != st.valBr {
				b.fail(errUnionIndex)
				break
			}
		}
		ptr := unsafe.Add(base, st.off)
		switch st.w {
		case wString, wBytes:
			*(*string)(ptr) = b.str()
		case wInt, wLong:
			if st.kind == kInt64 {
				*(*int64)(ptr) = b.long()
			} else {
				*(*float64)(ptr) = float64(b.long())
			}
		case wFloat:
			*(*float64)(ptr) = float64(b.float())
		case wDouble:
			*(*float64)(ptr) = b.double()
		case wBool:
			*(*bool)(ptr) = b.boolean()
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	rec := strings.Clone(b.s[start:b.p])
	if p.nLazy > 0 {
		r.raw = rec
	}
	if len(rec) > 0 {
		from := uintptr(unsafe.Pointer(unsafe.StringData(b.s))) + uintptr(start)
		for _, off := range p.strOffs {
			sp := (*string)(unsafe.Add(base, off))
			if n := len(*sp); n > 0 {
				at := uintptr(unsafe.Pointer(unsafe.StringData(*sp))) - from
				*sp = rec[at : at+uintptr(n)]
			}
		}
	}
	if p.nExtra > 0 {
		r.extra = make([]any, p.nExtra)
		rb := bin{s: rec}
		j := 0
		for i := range p.steps {
			st := &p.steps[i]
			if st.extra < 0 {
				continue
			}
			rb.p = extraPos[j] - start
			j++
			v := rb.value(st.schema, 0)
			r.extra[st.extra] = v
			if st.kind == kStrings {
				*(*[]string)(unsafe.Add(base, st.off)) = toStrings(v)
			}
		}
		if rb.err != nil {
			return nil, rb.err
		}
	}
	return ev, nil
}

func toStrings(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(a))
	for i, x := range a {
		out[i], _ = x.(string)
	}
	return out
}
