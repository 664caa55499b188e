package currents_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// avroTypeNames are the union branch names avro-tools wraps values in.
var avroTypeNames = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true,
	"bytes": true, "string": true, "array": true, "map": true,
}

// unwrapUnions removes Avro JSON union wrapping ({"string": "x"} -> "x").
func unwrapUnions(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				if avroTypeNames[k] {
					return unwrapUnions(inner)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = unwrapUnions(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = unwrapUnions(e)
		}
		return out
	}
	return v
}

// sameJSON compares decoded JSON values; numbers are equal when equal as
// float64 or as float32 (avro-tools prints an Avro float widened to
// double, 3.140000104904175, where the JSON view prints 3.14).
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, err1 := x.Float64()
		fy, err2 := y.Float64()
		return err1 == nil && err2 == nil && (fx == fy || float32(fx) == float32(fy))
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func readJSONValues(t *testing.T, path string) []any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var out []any
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, unwrapUnions(v))
	}
}

// TestConformanceSamples decodes every Braze sample file and compares the
// JSON view with the avro-tools JSON beside it.
func TestConformanceSamples(t *testing.T) {
	shared := sharedCurrents(t)
	dec := currents.NewDecoder()
	total := 0
	for _, set := range []string{"v10", "2023-03"} {
		files, _ := filepath.Glob(filepath.Join(shared, "samples", set, "Avro", "*.avro"))
		if len(files) == 0 {
			t.Fatalf("no sample files in %s", set)
		}
		for _, path := range files {
			eventType := strings.TrimSuffix(filepath.Base(path), ".avro")
			t.Run(set+"/"+eventType, func(t *testing.T) {
				want := readJSONValues(t, filepath.Join(shared, "samples", set, "JSON", eventType+".json"))
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				var got []currents.Event
				for ev, err := range dec.Events(f, eventType) {
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, ev)
				}
				if len(got) != len(want) {
					t.Fatalf("decoded %d events, avro-tools printed %d", len(got), len(want))
				}
				for i, ev := range got {
					if _, known := slices.BinarySearch(currents.KnownEventTypes(), eventType); known {
						if _, generic := ev.(*currents.Generic); generic {
							t.Errorf("record %d: known type decoded as *Generic", i)
						}
					}
					if ev.EventType() != eventType {
						t.Errorf("EventType() = %q", ev.EventType())
					}
					b, err := json.Marshal(ev)
					if err != nil {
						t.Fatal(err)
					}
					d := json.NewDecoder(bytes.NewReader(b))
					d.UseNumber()
					var view any
					if err := d.Decode(&view); err != nil {
						t.Fatalf("JSON view does not parse: %v\n%s", err, b)
					}
					if !sameJSON(view, want[i]) {
						t.Errorf("record %d: JSON view differs from avro-tools\n got %s\nwant %s", i, b, mustJSON(want[i]))
					}
					if id, _ := want[i].(map[string]any)["id"].(string); ev.EventID() != id {
						t.Errorf("EventID() = %q, want %q", ev.EventID(), id)
					}
					total++
				}
			})
		}
	}
	t.Logf("%d sample records match avro-tools", total)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSchemaInference checks that with no event type given, each v10
// sample decodes into the type its schema name implies.
func TestSchemaInference(t *testing.T) {
	shared := sharedCurrents(t)
	files, _ := filepath.Glob(filepath.Join(shared, "samples", "v10", "Avro", "*.avro"))
	schemas, _ := filepath.Glob(filepath.Join(shared, "schemas", "*.avsc"))
	if len(currents.KnownEventTypes()) != len(schemas) {
		t.Errorf("%d generated types for %d v10 schemas", len(currents.KnownEventTypes()), len(schemas))
	}
	dec := currents.NewDecoder()
	for _, path := range files {
		want := strings.TrimSuffix(filepath.Base(path), ".avro")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for ev, err := range dec.Events(bytes.NewReader(data), "") {
			if err != nil {
				t.Fatalf("%s: %v", want, err)
			}
			if ev.EventType() != want {
				t.Errorf("%s: inferred %q", want, ev.EventType())
			}
			if _, generic := ev.(*currents.Generic); generic {
				t.Errorf("%s: decoded as *Generic", want)
			}
		}
	}
}

// historyValue makes a synthetic value for a field of Avro type t (as
// parsed JSON); variant 1 makes every nullable field null.
func historyValue(t any, name string, i, variant int) any {
	switch x := t.(type) {
	case string:
		switch x {
		case "string", "bytes":
			return fmt.Sprintf("%s-%d", name, i)
		case "int", "long":
			return int64(1700000000 + i)
		case "float":
			return 1.5
		case "double":
			return 2.25
		case "boolean":
			return true
		case "null":
			return nil
		}
	case []any:
		if variant == 1 {
			for _, b := range x {
				if b == "null" {
					return nil
				}
			}
		}
		for _, b := range x {
			if b != "null" {
				return historyValue(b, name, i, variant)
			}
		}
		return nil
	case map[string]any:
		switch x["type"] {
		case "array":
			return []any{historyValue(x["items"], name+"-item", i, 0), historyValue(x["items"], name+"-item", i+1, 0)}
		default:
			return historyValue(x["type"], name, i, variant)
		}
	}
	panic(fmt.Sprintf("historyValue: unsupported type %v", t))
}

// TestHistoricalSchemas writes a synthetic file with every historical
// Currents writer schema (361 of them, 2017-2026) and checks it decodes
// into its event type with every field's value intact, in the Go struct
// field wherever the types are compatible.
func TestHistoricalSchemas(t *testing.T) {
	shared := sharedCurrents(t)
	paths, _ := filepath.Glob(filepath.Join(shared, "schemas-history", "*", "*.avsc"))
	if len(paths) == 0 {
		t.Fatal("no historical schemas")
	}
	known := map[string]bool{}
	for _, k := range currents.KnownEventTypes() {
		known[k] = true
	}
	dec := currents.NewDecoder()
	var typed, generic, structChecks int
	skippedFields := map[string]bool{}
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Name, Namespace string
			Fields          []struct {
				Name string
				Type any
			}
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		eventType := s.Namespace + "." + s.Name
		if i := strings.Index("."+eventType, ".users."); i >= 0 {
			eventType = eventType[i:]
		} else if i := strings.Index(eventType, "agentconsole."); i >= 0 {
			eventType = eventType[i:]
		}
		var recs []map[string]any
		for i := range 2 {
			r := map[string]any{}
			for _, f := range s.Fields {
				r[f.Name] = historyValue(f.Type, f.Name, i, i)
			}
			recs = append(recs, r)
		}
		rel, _ := filepath.Rel(filepath.Join(shared, "schemas-history"), path)
		// One record per block, so the reused block buffer is overwritten
		// before the values are checked.
		data := writeFile(t, eventType, recs, withSchema(string(raw)), currentstest.WithBlockRecords(1))
		evs, err := decodeAll(t, dec, data, eventType)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if len(evs) != 2 {
			t.Errorf("%s: %d events", rel, len(evs))
			continue
		}
		for i, ev := range evs {
			_, isGeneric := ev.(*currents.Generic)
			if known[eventType] == isGeneric {
				t.Errorf("%s: %s decoded as %T", rel, eventType, ev)
			}
			if i == 0 {
				if isGeneric {
					generic++
				} else {
					typed++
				}
			}
			fe := ev.(currents.FieldEvent)
			if got, want := fe.Fields(), fieldNames(s.Fields); !slices.Equal(got, want) {
				t.Errorf("%s: Fields() = %v, want %v", rel, got, want)
			}
			for _, f := range s.Fields {
				got, ok := fe.Get(f.Name)
				if !ok || !sameValue(got, recs[i][f.Name]) {
					t.Errorf("%s record %d: Get(%s) = %#v, %v; want %#v", rel, i, f.Name, got, ok, recs[i][f.Name])
				}
			}
			if isGeneric {
				continue
			}
			// Typed fields: every struct field whose writer type is
			// compatible holds the value.
			rv := reflect.ValueOf(ev).Elem()
			for j := 0; j < rv.NumField(); j++ {
				tag := rv.Type().Field(j).Tag.Get("json")
				want, inFile := recs[i][tag]
				if tag == "" || !inFile || want == nil {
					continue
				}
				fv := rv.Field(j).Interface()
				if !compatibleGo(fv, want) {
					skippedFields[eventType+"."+tag] = true
					continue
				}
				structChecks++
				if !sameValue(fv, want) {
					t.Errorf("%s record %d: struct field %s = %#v, want %#v", rel, i, tag, fv, want)
				}
			}
		}
	}
	t.Logf("%d historical schemas: %d typed, %d generic (retired types); %d struct field values checked", len(paths), typed, generic, structChecks)
	if len(skippedFields) > 0 {
		keys := make([]string, 0, len(skippedFields))
		for k := range skippedFields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Logf("fields whose historical type differs from the Go field (kept in Get/JSON only): %v", keys)
	}
}

func fieldNames(fs []struct {
	Name string
	Type any
}) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func compatibleGo(goVal, want any) bool {
	switch goVal.(type) {
	case string:
		_, ok := want.(string)
		return ok
	case int64:
		_, ok := want.(int64)
		return ok
	case float64:
		switch want.(type) {
		case float64, int64:
			return true
		}
	case bool:
		_, ok := want.(bool)
		return ok
	case []string:
		_, ok := want.([]any)
		return ok
	}
	return false
}

// sameValue compares a decoded value with the synthetic one written.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case float64:
		switch g := got.(type) {
		case float64:
			return g == w || float32(g) == float32(w)
		case float32:
			return float64(g) == w || g == float32(w)
		}
		return false
	case int64:
		switch g := got.(type) {
		case int64:
			return g == w
		case float64:
			return g == float64(w)
		}
		return false
	case []any:
		switch g := got.(type) {
		case []any:
			return reflect.DeepEqual(g, w)
		case []string:
			if len(g) != len(w) {
				return false
			}
			for i := range g {
				s, _ := w[i].(string)
				if g[i] != s {
					return false
				}
			}
			return true
		}
		return false
	}
	if b, ok := got.([]byte); ok {
		return string(b) == want
	}
	return reflect.DeepEqual(got, want)
}
