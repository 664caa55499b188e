package currents

import (
	"encoding/json"
	"fmt"
	"time"
	"unsafe"
)

// Record is embedded first in every event struct. It remembers the writer
// schema the event was decoded with, so that Fields, Get and the JSON view
// show exactly the file's fields (including ones the Go struct has no
// field for) and tell null from empty.
//
// The strings of a decoded event share one allocation holding the
// record's bytes; keeping any one string (such as the event id) keeps
// that allocation alive. Use strings.Clone to keep a field on its own.
type Record struct {
	program *program
	nulls   uint64 // a step's bit set: that nullable typed field was null
	extra   []any  // values of writer fields decoded into plain Go values
	raw     string // the record's bytes, kept when the program has lazy fields
}

// recordPlan returns the program describing r: the one it was decoded with,
// or the current schema for a hand-built event.
func (r *Record) recordProgram(ti *typeInfo) *program {
	if r.program != nil {
		return r.program
	}
	if ti != nil {
		return ti.defaultPlan
	}
	return nil
}

// WriterSchema returns the avro.schema JSON of the file the event was
// decoded from, or "" for a hand-built event.
func (r *Record) WriterSchema() string {
	if r.program == nil {
		return ""
	}
	return r.program.raw
}

func (r *Record) fields(ti *typeInfo) []string {
	p := r.recordProgram(ti)
	if p == nil {
		return nil
	}
	return p.names
}

// get returns the value of the named writer field.
func (r *Record) get(ti *typeInfo, name string) (any, bool) {
	p := r.recordProgram(ti)
	if p == nil {
		return nil, false
	}
	i, ok := p.index[name]
	if !ok {
		return nil, false
	}
	return r.stepValue(p, i), true
}

func (r *Record) stepValue(p *program, i int) any {
	st := &p.steps[i]
	if st.lazy {
		return r.lazyValue(p, i)
	}
	if st.extra >= 0 {
		if st.extra < len(r.extra) {
			return r.extra[st.extra]
		}
		return nil
	}
	if st.bit != 0 && r.nulls&st.bit != 0 {
		return nil
	}
	ptr := unsafe.Add(unsafe.Pointer(r), st.off)
	switch st.kind {
	case kString:
		return *(*string)(ptr)
	case kInt64:
		return *(*int64)(ptr)
	case kFloat64:
		if st.fmt32 {
			return float32(*(*float64)(ptr))
		}
		return *(*float64)(ptr)
	case kBool:
		return *(*bool)(ptr)
	case kStrings:
		v := *(*[]string)(ptr)
		if v == nil && st.null {
			return nil
		}
		return v
	}
	return nil
}

// marshalJSON writes the JSON view: keys are the writer schema's field
// names in file order, values plain JSON (null for null, no union
// wrapping), `time` the integer from the file.
func (r *Record) marshalJSON(ti *typeInfo) ([]byte, error) {
	return r.appendJSON(make([]byte, 0, 512), ti)
}

// appendJSON appends the JSON view to buf.
func (r *Record) appendJSON(buf []byte, ti *typeInfo) ([]byte, error) {
	p := r.recordProgram(ti)
	if p == nil {
		return append(buf, "{}"...), nil
	}
	buf = append(buf, '{')
	keys := p.keys()
	var lazy lazyCursor
	if p.nLazy > 0 {
		lazy.b.s = r.raw
	}
	for i := range p.steps {
		st := &p.steps[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, keys[i]...)
		if st.lazy {
			lazy.seek(p, i)
			buf = lazy.b.appendPrimitiveJSON(buf, st)
			lazy.next = i + 1
			continue
		}
		if st.extra < 0 && st.bit != 0 && r.nulls&st.bit != 0 {
			// A null typed field: most of a Currents record's fields are
			// null, and the boxed path below costs several times this.
			buf = append(buf, "null"...)
			continue
		}
		if st.extra < 0 && st.kind != kStrings {
			// Typed field: format without boxing.
			ptr := unsafe.Add(unsafe.Pointer(r), st.off)
			switch st.kind {
			case kString:
				buf = appendJSONString(buf, *(*string)(ptr))
			case kInt64:
				buf = appendInt(buf, *(*int64)(ptr))
			case kFloat64:
				buf = appendFloat(buf, *(*float64)(ptr), st.fmt32)
			case kBool:
				buf = appendBool(buf, *(*bool)(ptr))
			}
			continue
		}
		var err error
		buf, err = appendJSONValue(buf, r.stepValue(p, i), 0)
		if err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// decodedRecord returns the Record of an event decoded by a Decoder, which
// carries its own program; it is promoted to every event type.
func (r *Record) decodedRecord() *Record { return r }

// AppendJSON appends the JSON view of ev, the bytes its MarshalJSON
// returns, to dst and returns the extended slice. Writing many events
// through one reused buffer this way allocates nothing per event for the
// JSON, where MarshalJSON allocates a new slice each time.
func AppendJSON(dst []byte, ev Event) ([]byte, error) {
	if d, ok := ev.(interface{ decodedRecord() *Record }); ok {
		if r := d.decodedRecord(); r.program != nil {
			return r.appendJSON(dst, r.program.ti)
		}
	}
	// A hand-built event (no program of its own) or another implementation.
	m, ok := ev.(json.Marshaler)
	if !ok {
		return dst, fmt.Errorf("currents: event %s (%T) has no JSON view", ev.EventID(), ev)
	}
	b, err := m.MarshalJSON()
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// Generic is an event of a type this package has no Go struct for: a new
// Currents event type, a retired one, or any other record. Its values are
// plain Go values (see Get).
type Generic struct {
	Record
	eventType string // when built by hand (NewEvent)
}

// EventType returns the event type given to the decoder (the object key's
// event_type=) or else the one inferred from the schema name.
func (g *Generic) EventType() string {
	if g.program != nil {
		return g.program.eventType
	}
	return g.eventType
}

// EventID returns the `id` field when it is a string.
func (g *Generic) EventID() string { s, _ := g.value("id").(string); return s }

// UserID returns the `user_id` field when it is a string.
func (g *Generic) UserID() string { s, _ := g.value("user_id").(string); return s }

// Time returns the `time` field as Unix seconds in UTC, or the zero Time.
func (g *Generic) Time() time.Time {
	if v, ok := g.value("time").(int64); ok {
		return time.Unix(v, 0).UTC()
	}
	return time.Time{}
}

func (g *Generic) value(name string) any { v, _ := g.Get(name); return v }

// Get returns the value of the named field and whether the writer schema
// has it. Values are nil (null), bool, int64 (Avro int and long), float32,
// float64, string, []byte, []any (arrays), or map[string]any (maps and
// records).
func (g *Generic) Get(name string) (any, bool) { return g.get(nil, name) }

// Fields returns the writer schema's field names in file order.
func (g *Generic) Fields() []string { return g.fields(nil) }

// Map returns the fields as a map from name to value (see Get).
func (g *Generic) Map() map[string]any {
	m := make(map[string]any, len(g.Fields()))
	for _, f := range g.Fields() {
		m[f] = g.value(f)
	}
	return m
}

// MarshalJSON implements the JSON view.
func (g *Generic) MarshalJSON() ([]byte, error) { return g.marshalJSON(nil) }

var _ json.Marshaler = (*Generic)(nil)
