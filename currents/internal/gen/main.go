// Command gen writes currents/events_gen.go, the Go struct for every
// Currents event type, from Braze's writer schemas.
//
// The schemas are read at generation time from a folder outside the
// repository (Braze does not allow redistributing them); only Go code
// derived from them (type and field names, Avro types, doc strings) is
// written and committed. Run it through go generate in package currents:
//
//	go generate ./currents
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

type avsc struct {
	Name      string  `json:"name"`
	Namespace string  `json:"namespace"`
	Doc       string  `json:"doc"`
	Fields    []field `json:"fields"`
}

type field struct {
	Name string          `json:"name"`
	Type json.RawMessage `json:"type"`
	Doc  string          `json:"doc"`
}

// goField is one generated struct field.
type goField struct {
	avroName, goName, goType, kind, avroType, doc string
	nullable, itemNull                            bool
}

type goType struct {
	eventType, goName, doc string
	fields                 []goField
	hasUserID              bool
}

func main() {
	schemas := flag.String("schemas", "../../shared/currents/schemas", "folder of <event_type>.avsc writer schemas")
	out := flag.String("out", "events_gen.go", "output Go file")
	flag.Parse()
	if _, err := os.Stat(*schemas); err != nil {
		log.Fatalf("gen: schemas folder %s not found (it lives outside the repository, see currents/doc.go): %v", *schemas, err)
	}
	paths, err := filepath.Glob(filepath.Join(*schemas, "*.avsc"))
	if err != nil || len(paths) == 0 {
		log.Fatalf("gen: no .avsc files in %s", *schemas)
	}
	sort.Strings(paths)
	var types []goType
	seen := map[string]string{}
	for _, p := range paths {
		t, err := load(p)
		if err != nil {
			log.Fatalf("gen: %s: %v", p, err)
		}
		if other, dup := seen[t.goName]; dup {
			log.Fatalf("gen: %s and %s both map to Go type %s", other, t.eventType, t.goName)
		}
		seen[t.goName] = t.eventType
		types = append(types, t)
	}
	src, err := render(types)
	if err != nil {
		log.Fatalf("gen: %v", err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// reserved are the method names every event has; a field may not use them.
var reserved = map[string]bool{
	"EventType": true, "EventID": true, "UserID": true, "Time": true, "Get": true,
	"Fields": true, "MarshalJSON": true, "Record": true, "WriterSchema": true,
}

// jsonFields hold JSON text inside a string; they get a Decode<Field> helper.
var jsonFields = map[string]bool{
	"properties": true, "message_extras": true, "custom_attributes": true,
	"tool_arguments": true, "flow_response_json": true,
}

func load(path string) (goType, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return goType{}, err
	}
	var s avsc
	if err := json.Unmarshal(raw, &s); err != nil {
		return goType{}, err
	}
	et := strings.TrimSuffix(filepath.Base(path), ".avsc")
	t := goType{eventType: et, goName: typeName(et), doc: s.Doc}
	names := map[string]bool{}
	for _, f := range s.Fields {
		gf, err := mapField(f)
		if err != nil {
			return goType{}, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if reserved[gf.goName] || names[gf.goName] {
			return goType{}, fmt.Errorf("field %s: Go name %s collides", f.Name, gf.goName)
		}
		names[gf.goName] = true
		if f.Name == "user_id" {
			t.hasUserID = true
		}
		t.fields = append(t.fields, gf)
	}
	return t, nil
}

func mapField(f field) (goField, error) {
	gf := goField{avroName: f.Name, goName: fieldName(f.Name), doc: f.Doc}
	var t any
	if err := json.Unmarshal(f.Type, &t); err != nil {
		return gf, err
	}
	if u, ok := t.([]any); ok {
		var rest []any
		for _, b := range u {
			if b == "null" {
				gf.nullable = true
			} else {
				rest = append(rest, b)
			}
		}
		if len(rest) != 1 {
			return gf, fmt.Errorf("unsupported union %s", f.Type)
		}
		t = rest[0]
	}
	if m, ok := t.(map[string]any); ok {
		if m["type"] != "array" {
			if s, ok := m["type"].(string); ok {
				t = s
			} else {
				return gf, fmt.Errorf("unsupported type %s", f.Type)
			}
		} else {
			gf.avroType, gf.kind, gf.goType = "array", "kStrings", "[]string"
			switch it := m["items"].(type) {
			case string:
				if it != "string" {
					return gf, fmt.Errorf("unsupported array %s", f.Type)
				}
			case []any:
				if len(it) != 2 || it[0] != "null" || it[1] != "string" {
					return gf, fmt.Errorf("unsupported array %s", f.Type)
				}
				gf.itemNull = true
			default:
				return gf, fmt.Errorf("unsupported array %s", f.Type)
			}
			return gf, nil
		}
	}
	s, _ := t.(string)
	gf.avroType = s
	switch s {
	case "string", "bytes":
		gf.kind, gf.goType = "kString", "string"
		gf.avroType = "string"
	case "int", "long":
		gf.kind, gf.goType = "kInt64", "int64"
	case "float", "double":
		gf.kind, gf.goType = "kFloat64", "float64"
	case "boolean":
		gf.kind, gf.goType = "kBool", "bool"
	default:
		return gf, fmt.Errorf("unsupported type %s", f.Type)
	}
	return gf, nil
}

// words that keep their conventional Go spelling.
var initialisms = map[string]string{
	"id": "ID", "url": "URL", "ip": "IP", "api": "API", "sdk": "SDK", "os": "OS", "json": "JSON",
	"sms": "SMS", "rcs": "RCS", "uuid": "UUID", "dob": "DOB", "llm": "LLM", "ms": "Ms", "ios": "IOS",
	"utm": "UTM", "mms": "MMS", "html": "HTML", "http": "HTTP", "ttl": "TTL",
}

func fieldName(avro string) string {
	switch avro {
	case "user_id":
		return "BrazeUserID" // UserID() is the Event method
	case "time":
		return "UnixTime" // Time() is the Event method
	}
	var b strings.Builder
	for _, w := range strings.Split(avro, "_") {
		if w == "" {
			continue
		}
		if s, ok := initialisms[w]; ok {
			b.WriteString(s)
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	name := b.String()
	if name == "" || !unicode.IsLetter([]rune(name)[0]) {
		name = "F" + name
	}
	return name
}

// segment spellings for type names.
var segments = map[string]string{
	"pushnotification": "PushNotification", "inappmessage": "InAppMessage", "contentcard": "ContentCard",
	"liveactivity": "LiveActivity", "featureflag": "FeatureFlag", "newsfeedcard": "NewsFeedCard",
	"subscriptiongroup": "SubscriptionGroup", "canvasstep": "CanvasStep", "experimentstep": "ExperimentStep",
	"whatsapp": "WhatsApp", "sms": "SMS", "rcs": "RCS", "costep": "CoStep", "campaigns": "Campaign",
	"agentconsole": "", "users": "", "messages": "", "behaviors": "", "app": "", "profile": "Profile",
}

// typeName turns users.messages.email.Send into EmailSend.
func typeName(eventType string) string {
	var b strings.Builder
	for _, seg := range strings.Split(eventType, ".") {
		if s, ok := segments[seg]; ok {
			b.WriteString(s)
			continue
		}
		r := []rune(seg)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

func comment(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func render(types []goType) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by currents/internal/gen from the Currents writer schemas; DO NOT EDIT.\n\n")
	b.WriteString("package currents\n\nimport (\n\t\"time\"\n\t\"unsafe\"\n)\n\n")
	b.WriteString("var generatedTypes = []*typeInfo{\n")
	for _, t := range types {
		fmt.Fprintf(&b, "\t&type%s,\n", t.goName)
	}
	b.WriteString("}\n\n")
	b.WriteString("var (\n")
	for _, t := range types {
		fmt.Fprintf(&b, "\t_ FieldEvent = (*%s)(nil)\n", t.goName)
	}
	b.WriteString(")\n\n")
	for _, t := range types {
		fmt.Fprintf(&b, "// %s is a %s event", t.goName, t.eventType)
		if d := comment(t.doc); d != "" {
			fmt.Fprintf(&b, ": %s", strings.ToLower(d[:1])+d[1:])
		} else {
			b.WriteString(".")
		}
		b.WriteString("\n//\n// Fields hold the zero value when the file's schema lacks them or\n// they are null; Get and the JSON view tell the cases apart.\n")
		fmt.Fprintf(&b, "type %s struct {\n\tRecord\n\n", t.goName)
		for _, f := range t.fields {
			kind := f.avroType
			if f.avroType == "array" {
				kind = "array of string"
			}
			if f.nullable {
				kind = "nullable " + kind
			}
			fmt.Fprintf(&b, "\t// %s is %q (%s).", f.goName, f.avroName, kind)
			if d := comment(f.doc); d != "" {
				fmt.Fprintf(&b, " %s", d)
			}
			fmt.Fprintf(&b, "\n\t%s %s `json:%q`\n", f.goName, f.goType, f.avroName)
		}
		b.WriteString("}\n\n")
		g := t.goName
		fmt.Fprintf(&b, "// EventType returns %q.\nfunc (e *%s) EventType() string { return %q }\n\n", t.eventType, g, t.eventType)
		fmt.Fprintf(&b, "// EventID returns the event's id, the deduplication key.\nfunc (e *%s) EventID() string { return e.ID }\n\n", g)
		if t.hasUserID {
			fmt.Fprintf(&b, "// UserID returns the Braze user id (user_id).\nfunc (e *%s) UserID() string { return e.BrazeUserID }\n\n", g)
		} else {
			fmt.Fprintf(&b, "// UserID returns \"\": this event type has no user_id.\nfunc (e *%s) UserID() string { return \"\" }\n\n", g)
		}
		fmt.Fprintf(&b, "// Time returns the event time (time, Unix seconds) in UTC.\nfunc (e *%s) Time() time.Time { return time.Unix(e.UnixTime, 0).UTC() }\n\n", g)
		fmt.Fprintf(&b, "// Get returns the value of a field of the file's writer schema by its Avro name,\n// nil for null, and whether the schema has that field.\nfunc (e *%s) Get(name string) (any, bool) { return e.get(&type%s, name) }\n\n", g, g)
		fmt.Fprintf(&b, "// Fields returns the writer schema's field names in file order.\nfunc (e *%s) Fields() []string { return e.fields(&type%s) }\n\n", g, g)
		fmt.Fprintf(&b, "// MarshalJSON returns the JSON view: the writer schema's fields, plain values.\nfunc (e *%s) MarshalJSON() ([]byte, error) { return e.marshalJSON(&type%s) }\n\n", g, g)
		for _, f := range t.fields {
			if jsonFields[f.avroName] && f.goType == "string" {
				fmt.Fprintf(&b, "// Decode%s unmarshals the JSON text in %s into v (see DecodeJSONField).\nfunc (e *%s) Decode%s(v any) error { return DecodeJSONField(e.%s, v) }\n\n", f.goName, f.goName, g, f.goName, f.goName)
			}
		}
		fmt.Fprintf(&b, "var type%s = typeInfo{\n\teventType: %q,\n\tgoName: %q,\n", g, t.eventType, g)
		fmt.Fprintf(&b, "\talloc: func() unsafe.Pointer { return unsafe.Pointer(new(%s)) },\n", g)
		fmt.Fprintf(&b, "\tevent: func(p unsafe.Pointer) Event { return (*%s)(p) },\n\tfields: []fieldInfo{\n", g)
		for _, f := range t.fields {
			fmt.Fprintf(&b, "\t\t{name: %q, kind: %s, avroType: %q, nullable: %v, itemNull: %v, off: unsafe.Offsetof(%s{}.%s)},\n",
				f.avroName, f.kind, f.avroType, f.nullable, f.itemNull, g, f.goName)
		}
		b.WriteString("\t},\n}\n\n")
	}
	return format.Source(b.Bytes())
}
