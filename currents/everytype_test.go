package currents_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// Every generated event type decodes into its typed struct with every
// field's value, from a file written with the package's own schema. Unlike
// the conformance tests, this needs none of Braze's reference files, so it
// runs wherever the repository is checked out.
func TestEveryEventTypeRoundTrips(t *testing.T) {
	types := currents.KnownEventTypes()
	if len(types) < 90 {
		t.Fatalf("%d known event types", len(types))
	}
	for _, et := range types {
		schema, ok := currents.SyntheticSchema(et)
		if !ok {
			t.Fatalf("%s: no synthetic schema", et)
		}
		var parsed struct {
			Fields []struct {
				Name string          `json:"name"`
				Type json.RawMessage `json:"type"`
			} `json:"fields"`
		}
		if err := json.Unmarshal([]byte(schema), &parsed); err != nil {
			t.Fatalf("%s: schema: %v", et, err)
		}
		// One record with a distinct non-zero value in every field, and
		// one with every nullable field null.
		full, nulls := map[string]any{}, map[string]any{}
		want := map[string]any{}
		for i, f := range parsed.Fields {
			typ, nullable := avroBranch(t, f.Type)
			v, w := sampleValue(typ, i)
			full[f.Name], want[f.Name] = v, w
			if !nullable {
				nulls[f.Name] = v
			}
		}
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, et, []map[string]any{full, nulls}); err != nil {
			t.Fatalf("%s: write: %v", et, err)
		}
		evs, err := decodeAll(t, currents.NewDecoder(), buf.Bytes(), "")
		if err != nil || len(evs) != 2 {
			t.Fatalf("%s: %d events, %v", et, len(evs), err)
		}
		if got := reflect.TypeOf(evs[0]); got != reflect.TypeOf(currents.NewEvent(et)) {
			t.Fatalf("%s decoded as %v", et, got)
		}
		fe := evs[0].(currents.FieldEvent)
		fields := structFields(evs[0])
		for _, f := range parsed.Fields {
			// Get returns an array as written (items string or nil), the
			// struct field as []string.
			wantGet := want[f.Name]
			if s, ok := wantGet.([]string); ok {
				wantGet = []any{s[0], s[1]}
			}
			got, ok := fe.Get(f.Name)
			if !ok || !reflect.DeepEqual(got, wantGet) {
				t.Errorf("%s: Get(%q) = %#v (%v), want %#v", et, f.Name, got, ok, wantGet)
			}
			sf, ok := fields[f.Name]
			if !ok {
				t.Errorf("%s: no struct field for %q", et, f.Name)
				continue
			}
			gotField := sf.Interface()
			if x, ok := gotField.(float64); ok {
				if _, f32 := want[f.Name].(float32); f32 {
					gotField = float32(x)
				}
			}
			if !reflect.DeepEqual(gotField, want[f.Name]) {
				t.Errorf("%s: struct field for %q = %#v, want %#v", et, f.Name, gotField, want[f.Name])
			}
		}
		fe = evs[1].(currents.FieldEvent)
		for _, f := range parsed.Fields {
			if _, nullable := avroBranch(t, f.Type); !nullable {
				continue
			}
			if got, _ := fe.Get(f.Name); got != nil {
				t.Errorf("%s.%s = %#v, want null", et, f.Name, got)
			}
		}
	}
}

// structFields maps the Avro names (json tags) of a typed event's fields to
// their values.
func structFields(ev currents.Event) map[string]reflect.Value {
	v := reflect.ValueOf(ev).Elem()
	out := map[string]reflect.Value{}
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		if tag := sf.Tag.Get("json"); sf.IsExported() && tag != "" && tag != "-" {
			out[strings.Split(tag, ",")[0]] = v.Field(i)
		}
	}
	return out
}

// avroBranch returns the non-null type of a field's Avro type and whether
// it is a union with null.
func avroBranch(t *testing.T, raw json.RawMessage) (json.RawMessage, bool) {
	t.Helper()
	var union []json.RawMessage
	if json.Unmarshal(raw, &union) == nil {
		if len(union) != 2 || string(union[0]) != `"null"` {
			t.Fatalf("unexpected union %s", raw)
		}
		return union[1], true
	}
	return raw, false
}

// sampleValue returns the value to write for field number i of Avro type
// typ, and the value FieldEvent.Get should return for it.
func sampleValue(typ json.RawMessage, i int) (write, want any) {
	var name string
	if json.Unmarshal(typ, &name) != nil {
		// The only complex type is an array of strings (nullable or not).
		s := []string{fmt.Sprint("a", i), fmt.Sprint("b", i)}
		return []any{s[0], s[1]}, s
	}
	switch name {
	case "string":
		s := fmt.Sprint("v", i)
		return s, s
	case "int", "long":
		n := int64(1000 + i)
		return n, n
	case "float":
		return float32(i) + 0.5, float32(i) + 0.5
	case "double":
		return float64(i) + 0.25, float64(i) + 0.25
	case "boolean":
		return i%2 == 0, i%2 == 0
	}
	panic("unexpected Avro type " + name)
}
