package currents_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// Files of newer Currents releases, written with synthetic writer schemas:
// the v10 schemas plus the optional fields releases 11 and 12 added
// (currentstest.AddedFields), and stand-ins for the event types v11
// added, whose schemas Braze has not published.

// TestV12EmailClick: a v12 email Click decodes into *EmailClick with the
// typed fields as from a v10 file, and the three fields v12 added (which
// the struct lacks) come back from Get and the JSON view, in file order,
// null when null.
func TestV12EmailClick(t *testing.T) {
	const click = "users.messages.email.Click"
	added := currentstest.AddedFields(click, 12)
	if len(added) != 3 {
		t.Fatalf("AddedFields(%s, 12) = %v", click, added)
	}
	recs := []map[string]any{
		{"id": "c1", "user_id": "u1", "time": 1788000000, "email_address": "a@example.com", "url": "https://example.com/?a=1",
			"send_time": 1787990000, "has_url_parameters": true, "link_aliasing_enabled": false},
		{"id": "c2", "user_id": "u2", "time": 1788000001, "email_address": "b@example.com"},
	}
	for _, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		t.Run(codec, func(t *testing.T) {
			data := writeFile(t, click, recs, currentstest.WithAddedFields(added...), currentstest.WithCodec(codec))
			evs, err := decodeAll(t, currents.NewDecoder(), data, click)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := evs[0].(*currents.EmailClick)
			if !ok || len(evs) != 2 {
				t.Fatalf("got %d events, first %T", len(evs), evs[0])
			}
			if e.ID != "c1" || e.BrazeUserID != "u1" || e.UnixTime != 1788000000 || e.EmailAddress != "a@example.com" || e.URL != "https://example.com/?a=1" {
				t.Errorf("typed fields = %+v", e)
			}
			for name, want := range map[string]any{"send_time": int64(1787990000), "has_url_parameters": true, "link_aliasing_enabled": false} {
				if got, ok := e.Get(name); !ok || got != want {
					t.Errorf("Get(%q) = %#v, %v; want %#v", name, got, ok, want)
				}
				if got, ok := evs[1].(*currents.EmailClick).Get(name); !ok || got != nil {
					t.Errorf("null %s: Get = %#v, %v", name, got, ok)
				}
			}
			fields := e.Fields()
			if got := fields[len(fields)-3:]; !slices.Equal(got, []string{"send_time", "has_url_parameters", "link_aliasing_enabled"}) {
				t.Errorf("Fields() ends %v", got)
			}
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(b, []byte(`,"send_time":1787990000,"has_url_parameters":true,"link_aliasing_enabled":false}`)) {
				t.Errorf("JSON view lacks the added fields: %s", b)
			}
			b, _ = json.Marshal(evs[1])
			if !bytes.HasSuffix(b, []byte(`,"send_time":null,"has_url_parameters":null,"link_aliasing_enabled":null}`)) {
				t.Errorf("JSON view of nulls: %s", b)
			}
		})
	}
}

// TestNewerReleasesEveryType: for every generated type, a file written
// with its v12 schema plus one added field of every primitive Avro type
// decodes into the same typed struct as the v10 file of the same records,
// and its JSON view is the v10 view with the added fields appended.
func TestNewerReleasesEveryType(t *testing.T) {
	probe := []currentstest.Field{
		{Name: "zz_string", Type: "string"}, {Name: "zz_int", Type: "int"}, {Name: "zz_long", Type: "long"},
		{Name: "zz_float", Type: "float"}, {Name: "zz_double", Type: "double"}, {Name: "zz_boolean", Type: "boolean"},
		{Name: "zz_bytes", Type: "bytes"},
	}
	probeVals := map[string]any{"zz_string": "new <&> \u00e9", "zz_int": -7, "zz_long": int64(1) << 40, "zz_float": float32(0.1),
		"zz_double": 2.5e-9, "zz_boolean": true, "zz_bytes": []byte{0, 0xff}}
	probeJSON := `"zz_string":"new \u003c\u0026\u003e é","zz_int":-7,"zz_long":1099511627776,"zz_float":0.1,"zz_double":2.5e-9,"zz_boolean":true,"zz_bytes":"\u0000ÿ"`
	dec := currents.NewDecoder()
	for _, et := range currents.KnownEventTypes() {
		schema, _ := currents.SyntheticSchema(et)
		var parsed struct {
			Fields []struct {
				Name string          `json:"name"`
				Type json.RawMessage `json:"type"`
			} `json:"fields"`
		}
		if err := json.Unmarshal([]byte(schema), &parsed); err != nil {
			t.Fatal(err)
		}
		rec := map[string]any{}
		for i, f := range parsed.Fields {
			typ, _ := avroBranch(t, f.Type)
			rec[f.Name], _ = sampleValue(typ, i)
		}
		added := currentstest.AddedFields(et, 12)
		addedJSON := ""
		for _, f := range added {
			v := map[string]any{"string": "x", "int": 5, "boolean": true}[f.Type]
			rec[f.Name] = v
			j, _ := json.Marshal(v)
			addedJSON += `,"` + f.Name + `":` + string(j)
		}
		for k, v := range probeVals {
			rec[k] = v
		}
		old := writeFile(t, et, []map[string]any{rec})
		newer := writeFile(t, et, []map[string]any{rec}, currentstest.WithAddedFields(append(slices.Clip(added), probe...)...))
		oldEvs, err := decodeAll(t, dec, old, et)
		if err != nil {
			t.Fatalf("%s v10: %v", et, err)
		}
		newEvs, err := decodeAll(t, dec, newer, et)
		if err != nil {
			t.Fatalf("%s newer: %v", et, err)
		}
		o, n := oldEvs[0], newEvs[0]
		if reflect.TypeOf(o) != reflect.TypeOf(n) {
			t.Fatalf("%s: v10 %T, newer %T", et, o, n)
		}
		of, nf := structFields(o), structFields(n)
		for name, v := range of {
			if !reflect.DeepEqual(v.Interface(), nf[name].Interface()) {
				t.Errorf("%s.%s: v10 %#v, newer %#v", et, name, v.Interface(), nf[name].Interface())
			}
		}
		oj, _ := json.Marshal(o)
		nj, _ := json.Marshal(n)
		if want := string(oj[:len(oj)-1]) + addedJSON + "," + probeJSON + "}"; string(nj) != want {
			t.Errorf("%s: JSON view\n got %s\nwant %s", et, nj, want)
		}
		appended, err := currents.AppendJSON([]byte("x"), n)
		if err != nil || string(appended) != "x"+string(nj) {
			t.Errorf("%s: AppendJSON = %s, %v", et, appended, err)
		}
		fe := n.(currents.FieldEvent)
		for k, v := range probeVals {
			got, ok := fe.Get(k)
			switch x := v.(type) {
			case int:
				v = int64(x)
			}
			if !ok || !reflect.DeepEqual(got, v) {
				t.Errorf("%s: Get(%q) = %#v, %v; want %#v", et, k, got, ok, v)
			}
		}
	}
}

// TestAddedFieldsBetweenTypedOnes: fields need not be appended; a newer
// field between typed ones, a null branch written second, 70 added
// nullable fields before the typed ones (more than Record's 64 null bits)
// and a nested record all decode, typed fields right and extras in Get.
func TestAddedFieldsBetweenTypedOnes(t *testing.T) {
	var fields []string
	for i := range 70 {
		fields = append(fields, `{"name":"pad`+string(rune('a'+i/26))+string(rune('a'+i%26))+`","type":["null","int"],"default":null}`)
	}
	schema := `{"type":"record","name":"Open","namespace":"users.messages.email","fields":[` + strings.Join(fields, ",") + `,
		{"name":"id","type":"string"},{"name":"early","type":["string","null"]},{"name":"user_id","type":"string"},
		{"name":"late_null","type":["null","double"],"default":null},{"name":"time","type":"long"},
		{"name":"nested","type":{"type":"record","name":"N","fields":[{"name":"a","type":"int"}]}},
		{"name":"email_address","type":["null","string"],"default":null},{"name":"after70","type":["null","string"],"default":null}]}`
	rec := map[string]any{"id": "o1", "early": "e", "user_id": "u1", "time": 42, "nested": map[string]any{"a": 1},
		"email_address": "x@y", "after70": "z", "padab": 3}
	data := writeFile(t, "users.messages.email.Open", []map[string]any{rec, {"id": "o2", "early": nil, "user_id": "u2", "time": 43, "nested": map[string]any{"a": 2}}}, currentstest.WithSchema(schema))
	evs, err := decodeAll(t, currents.NewDecoder(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0].(*currents.EmailOpen)
	if e.ID != "o1" || e.BrazeUserID != "u1" || e.UnixTime != 42 || e.EmailAddress != "x@y" {
		t.Errorf("typed fields = %+v", e)
	}
	for name, want := range map[string]any{"early": "e", "late_null": nil, "after70": "z", "padab": int64(3), "padaa": nil,
		"nested": map[string]any{"a": int64(1)}} {
		if got, ok := e.Get(name); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Get(%q) = %#v, %v; want %#v", name, got, ok, want)
		}
	}
	if got, ok := evs[1].(*currents.EmailOpen).Get("early"); !ok || got != nil {
		t.Errorf("null second branch: Get = %#v, %v", got, ok)
	}
	b, _ := json.Marshal(e)
	if !bytes.Contains(b, []byte(`"padab":3,`)) || !bytes.HasSuffix(b, []byte(`"id":"o1","early":"e","user_id":"u1","late_null":null,"time":42,"nested":{"a":1},"email_address":"x@y","after70":"z"}`)) {
		t.Errorf("JSON view %s", b)
	}
}

// TestV11TypesDecodeGeneric: the event types Currents v11 added have no
// Go struct here; their files decode into *Generic with every field, by
// the key's event type or, without one, the schema's name.
func TestV11TypesDecodeGeneric(t *testing.T) {
	types := currents.AnnouncedEventTypes()
	if !slices.IsSorted(types) || !slices.Contains(types, "users.messages.landingpage.FormSubmission") {
		t.Fatalf("AnnouncedEventTypes() = %v", types)
	}
	known := currents.KnownEventTypes()
	dec := currents.NewDecoder()
	for _, et := range types {
		if _, found := slices.BinarySearch(known, et); found {
			t.Errorf("%s is both announced and generated", et)
		}
		if _, ok := currents.NewEvent(et).(*currents.Generic); !ok {
			t.Errorf("NewEvent(%s) is not *Generic", et)
		}
		fields := []currentstest.Field{{Name: "page_url", Type: "string"}, {Name: "score", Type: "double"},
			{Name: "answers", Type: `{"type":"array","items":"string"}`}}
		rec := map[string]any{"id": "g-" + et, "user_id": "u1", "time": 1790000000, "page_url": "https://lp.example.com/a",
			"score": 0.5, "answers": []string{"yes", "no"}}
		data := writeFile(t, et, []map[string]any{rec}, currentstest.WithAddedFields(fields...))
		for _, given := range []string{et, ""} {
			evs, err := decodeAll(t, dec, data, given)
			if err != nil {
				t.Fatalf("%s: %v", et, err)
			}
			g, ok := evs[0].(*currents.Generic)
			if !ok {
				t.Fatalf("%s decoded as %T", et, evs[0])
			}
			if g.EventType() != et || g.EventID() != "g-"+et || g.Time().Unix() != 1790000000 {
				t.Errorf("%s (given %q): type %q id %q time %v", et, given, g.EventType(), g.EventID(), g.Time())
			}
			if v, _ := g.Get("answers"); !reflect.DeepEqual(v, []any{"yes", "no"}) {
				t.Errorf("%s: answers = %#v", et, v)
			}
			if v, _ := g.Get("score"); v != 0.5 {
				t.Errorf("%s: score = %#v", et, v)
			}
			m := g.Map()
			if len(m) != len(g.Fields()) || m["page_url"] != "https://lp.example.com/a" {
				t.Errorf("%s: Map() = %v", et, m)
			}
			b, _ := json.Marshal(g)
			if !bytes.HasSuffix(b, []byte(`"page_url":"https://lp.example.com/a","score":0.5,"answers":["yes","no"]}`)) {
				t.Errorf("%s: JSON view %s", et, b)
			}
			if strings.HasPrefix(et, "users.") && (g.UserID() != "u1" || !bytes.Contains(b, []byte(`"user_id":"u1","external_user_id":null`))) {
				t.Errorf("%s: envelope: %s", et, b)
			}
		}
	}
}

// TestV12KeysDecode: files under version=11 and version=12 keys (and the
// older bare schema id) parse, and decode by the key's event type.
func TestV12KeysDecode(t *testing.T) {
	keys := map[string]int{
		"currents/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=users.messages.email.Click/date=2026-09-03-10/version=12/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+0+1.avro":        12,
		"currents/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=users.messages.landingpage.Click/date=2026-08-06-00/version=11/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+3+77.avro": 11,
		"currents/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=users.messages.email.Click/date=2019-07-30-00/2/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+0+9.avro":                 2,
	}
	for key, version := range keys {
		k, err := currents.ParseKey(key)
		if err != nil || k.Version != version || k.Environment != "us-01" || len(k.Extra) != 0 {
			t.Fatalf("ParseKey(%s) = %+v, %v", key, k, err)
		}
		added := currentstest.AddedFields(k.EventType, k.Version)
		data := writeFile(t, k.EventType, []map[string]any{{"id": "e", "user_id": "u", "time": 1, "email_address": "a@b", "send_time": 0}},
			currentstest.WithAddedFields(added...))
		evs, err := decodeAll(t, currents.NewDecoder(), data, k.EventType)
		if err != nil || evs[0].EventType() != k.EventType {
			t.Fatalf("%s: %v, %v", key, evs, err)
		}
		_, isGeneric := evs[0].(*currents.Generic)
		if _, typed := currents.NewEvent(k.EventType).(*currents.Generic); isGeneric != typed {
			t.Errorf("%s decoded as %T", k.EventType, evs[0])
		}
		if v, ok := evs[0].(currents.FieldEvent).Get("send_time"); (k.Version >= 12) != ok || (ok && v != int64(0)) {
			t.Errorf("%s: send_time = %#v, %v", key, v, ok)
		}
	}
}
