package currentstest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/hamba/avro/v2/ocf"
)

// schemaFields returns a schema's field names and types.
func schemaFields(t *testing.T, schema string) (names []string, types []string) {
	t.Helper()
	var s struct {
		Fields []struct {
			Name    string          `json:"name"`
			Type    json.RawMessage `json:"type"`
			Default json.RawMessage `json:"default"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(schema), &s); err != nil {
		t.Fatalf("schema %s: %v", schema, err)
	}
	for _, f := range s.Fields {
		names = append(names, f.Name)
		types = append(types, string(f.Type)+" default "+string(f.Default))
	}
	return names, types
}

func TestSchemaAddsOptionalFields(t *testing.T) {
	v10, _ := currents.SyntheticSchema("users.messages.email.Click")
	oldNames, oldTypes := schemaFields(t, v10)
	s, err := currentstest.Schema("users.messages.email.Click", currentstest.AddedFields("users.messages.email.Click", 12)...)
	if err != nil {
		t.Fatal(err)
	}
	names, types := schemaFields(t, s)
	if !slices.Equal(names[:len(oldNames)], oldNames) || !slices.Equal(types[:len(oldTypes)], oldTypes) {
		t.Errorf("v10 fields changed:\n%s\n%s", v10, s)
	}
	wantNames := []string{"send_time", "has_url_parameters", "link_aliasing_enabled"}
	wantTypes := []string{`["null","int"] default null`, `["null","boolean"] default null`, `["null","boolean"] default null`}
	if !slices.Equal(names[len(oldNames):], wantNames) || !slices.Equal(types[len(oldTypes):], wantTypes) {
		t.Errorf("added %v %v", names[len(oldNames):], types[len(oldTypes):])
	}
	// A complex added type, and a new type's stand-in envelope.
	s, err = currentstest.Schema("users.messages.survey.Response", currentstest.Field{Name: "answers", Type: `{"type":"array","items":"string"}`})
	if err != nil {
		t.Fatal(err)
	}
	names, types = schemaFields(t, s)
	if !slices.Equal(names, []string{"id", "user_id", "external_user_id", "time", "app_group_id", "answers"}) ||
		types[5] != `["null",{"type":"array","items":"string"}] default null` || !strings.Contains(s, `"name":"Response","namespace":"users.messages.survey"`) {
		t.Errorf("new type schema %s", s)
	}
	if s, _ := currentstest.Schema("contentoptimizer.ComponentStore"); !strings.Contains(s, `"fields":[{"name":"id","type":"string"},{"name":"time","type":"int"}]`) {
		t.Errorf("non-users envelope %s", s)
	}
}

func TestAddedFieldsByRelease(t *testing.T) {
	tests := []struct {
		eventType string
		version   int
		want      string
	}{
		{"users.messages.email.Click", 10, ""},
		{"users.messages.email.Click", 11, ""},
		{"users.messages.email.Click", 12, "send_time:int has_url_parameters:boolean link_aliasing_enabled:boolean"},
		{"users.messages.email.Open", 13, "send_time:int"},
		{"users.messages.email.Send", 12, ""},
		{"users.messages.email.Abort", 12, "message_extras:string"},
		{"users.messages.whatsapp.Abort", 12, "message_extras:string"},
		{"users.messages.inappmessage.Abort", 12, ""},
		{"users.messages.banner.Dismiss", 11, "is_unique:boolean"},
		{"users.messages.contentcard.Send", 12, ""},
		{"users.messages.featureflag.Impression", 12, "is_unique:boolean"},
		{"agentconsole.AgentExecuted", 11, "thinking_level:string"},
		{"agentconsole.AgentExecuted", 10, ""},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range currentstest.AddedFields(tt.eventType, tt.version) {
			got = append(got, f.Name+":"+f.Type)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("AddedFields(%s, %d) = %v, want %s", tt.eventType, tt.version, got, tt.want)
		}
	}
	// Every type's v12 schema is valid Avro that hamba reads back.
	for _, et := range currents.KnownEventTypes() {
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, et, []map[string]any{{"id": "x"}}, currentstest.WithAddedFields(currentstest.AddedFields(et, 12)...)); err != nil {
			t.Fatalf("%s: %v", et, err)
		}
		d, err := ocf.NewDecoder(&buf)
		if err != nil {
			t.Fatalf("%s: %v", et, err)
		}
		var m map[string]any
		if !d.HasNext() || d.Decode(&m) != nil || m["id"] != "x" {
			t.Errorf("%s: read back %v, %v", et, m, d.Error())
		}
	}
}

func TestWithAddedFieldsErrors(t *testing.T) {
	var buf bytes.Buffer
	for name, opts := range map[string][]currentstest.Option{
		"duplicate field": {currentstest.WithAddedFields(currentstest.Field{Name: "url", Type: "string"})},
		"empty name":      {currentstest.WithAddedFields(currentstest.Field{Type: "string"})},
		"bad type JSON":   {currentstest.WithAddedFields(currentstest.Field{Name: "x", Type: "{nope"})},
		"unknown type":    {currentstest.WithAddedFields(currentstest.Field{Name: "x", Type: "strin"})},
		"with WithSchema": {currentstest.WithAddedFields(), currentstest.WithSchema(`{"type":"record","name":"R","fields":[]}`)},
	} {
		if err := currentstest.WriteFile(&buf, "users.messages.email.Click", nil, opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A file as Currents v12 writes it: the email Click fields v12 added are
// not in *currents.EmailClick, and come back from Get and the JSON view.
func ExampleWithAddedFields() {
	const click = "users.messages.email.Click"
	var buf bytes.Buffer
	err := currentstest.WriteFile(&buf, click, []map[string]any{
		{"id": "c1", "user_id": "u1", "time": 1788000000, "email_address": "a@example.com", "send_time": 1787990000, "has_url_parameters": true},
	}, currentstest.WithAddedFields(currentstest.AddedFields(click, 12)...))
	if err != nil {
		panic(err)
	}
	for ev, err := range currents.NewDecoder().Events(&buf, click) {
		if err != nil {
			panic(err)
		}
		e := ev.(*currents.EmailClick)
		sendTime, _ := e.Get("send_time")
		aliasing, _ := e.Get("link_aliasing_enabled")
		fmt.Println(e.EmailAddress, sendTime, aliasing)
	}
	// Output:
	// a@example.com 1787990000 <nil>
}
