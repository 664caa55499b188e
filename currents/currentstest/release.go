package currentstest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ampbraze/ampbraze/currents"
)

// Field is a field to add to a synthetic writer schema: its Avro name and
// type, a primitive name ("string", "int", "long", "float", "double",
// "boolean", "bytes") or the JSON of a complex type
// (`{"type":"array","items":"string"}`). It is written as
// ["null", Type] with default null, the only way Braze has ever added a
// field.
type Field struct {
	Name string
	Type string
}

// WithAddedFields writes the event type's synthetic schema
// (currents.SyntheticSchema, the Currents v10 fields) with fields
// appended, as a later Currents release writes it; AddedFields lists what
// releases 11 and 12 added. For an event type the currents package does
// not know, the schema is the envelope every Currents type starts with
// (id, user_id, external_user_id, time, app_group_id; only id and time
// outside users.*) followed by fields: a stand-in for a new type, whose
// real schema Braze has not published. It cannot be combined with
// WithSchema.
func WithAddedFields(fields ...Field) Option {
	return func(c *config) { c.added, c.addedSet = append(c.added, fields...), true }
}

// Schema returns the writer schema WithAddedFields writes for eventType.
func Schema(eventType string, added ...Field) (string, error) {
	base, known := currents.SyntheticSchema(eventType)
	if !known {
		base = envelopeSchema(eventType)
	}
	if len(added) == 0 {
		return base, nil
	}
	var s struct {
		Type      string            `json:"type"`
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Fields    []json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal([]byte(base), &s); err != nil {
		return "", fmt.Errorf("currentstest: schema of %s: %w", eventType, err)
	}
	var names []string
	for _, f := range s.Fields {
		var n struct{ Name string }
		json.Unmarshal(f, &n)
		names = append(names, n.Name)
	}
	for _, f := range added {
		if f.Name == "" || slices.Contains(names, f.Name) {
			return "", fmt.Errorf("currentstest: %s: added field %q is empty or already in the schema", eventType, f.Name)
		}
		t := strings.TrimSpace(f.Type)
		if !strings.HasPrefix(t, "{") {
			t = `"` + t + `"`
		}
		name, _ := json.Marshal(f.Name)
		s.Fields = append(s.Fields, json.RawMessage(`{"name":`+string(name)+`,"type":["null",`+t+`],"default":null}`))
		names = append(names, f.Name)
	}
	out, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("currentstest: %s: added field types: %w", eventType, err)
	}
	return string(out), nil
}

// envelopeSchema is the stand-in schema of an event type without one.
func envelopeSchema(eventType string) string {
	ns, name := eventType, eventType
	if i := strings.LastIndexByte(eventType, '.'); i >= 0 {
		ns, name = eventType[:i], eventType[i+1:]
	}
	fields := `{"name":"id","type":"string"},{"name":"time","type":"int"}`
	if strings.HasPrefix(eventType, "users.") {
		fields = `{"name":"id","type":"string"},{"name":"user_id","type":"string"},` +
			`{"name":"external_user_id","type":["null","string"],"default":null},{"name":"time","type":"int"},` +
			`{"name":"app_group_id","type":["null","string"],"default":null}`
	}
	return fmt.Sprintf(`{"type":"record","name":%q,"namespace":%q,"fields":[%s]}`, name, ns, fields)
}

// AddedFields returns the fields that Currents releases after v10, up to
// and including version, added to eventType, in the order Braze's Currents
// changelog lists them: v11 (2026-08-05) added is_unique to the banner
// and content card Click, Dismiss and Impression events and to
// featureflag.Impression, and thinking_level to agentconsole.AgentExecuted;
// v12 (2026-09-02) added send_time to the email events that follow a
// send, has_url_parameters and link_aliasing_enabled to email.Click, and
// message_extras to the Abort events of email, LINE, push, RCS, SMS,
// webhook and WhatsApp. The types (Avro int for send_time) are the
// changelog's.
func AddedFields(eventType string, version int) []Field {
	var out []Field
	kind := eventType[strings.LastIndexByte(eventType, '.')+1:]
	channel := strings.TrimSuffix(strings.TrimPrefix(eventType, "users.messages."), "."+kind)
	if version >= 11 {
		switch {
		case eventType == "agentconsole.AgentExecuted":
			out = append(out, Field{"thinking_level", "string"})
		case (channel == "banner" || channel == "contentcard") && (kind == "Click" || kind == "Dismiss" || kind == "Impression"),
			eventType == "users.messages.featureflag.Impression":
			out = append(out, Field{"is_unique", "boolean"})
		}
	}
	if version >= 12 {
		switch {
		case channel == "email" && kind == "Abort":
			out = append(out, Field{"message_extras", "string"})
		case channel == "email" && kind == "Click":
			out = append(out, Field{"send_time", "int"}, Field{"has_url_parameters", "boolean"}, Field{"link_aliasing_enabled", "boolean"})
		case channel == "email" && slices.Contains([]string{"Bounce", "Deferral", "Delivery", "MarkAsSpam", "Open", "SoftBounce"}, kind):
			out = append(out, Field{"send_time", "int"})
		case kind == "Abort" && slices.Contains([]string{"line", "pushnotification", "rcs", "sms", "webhook", "whatsapp"}, channel):
			out = append(out, Field{"message_extras", "string"})
		}
	}
	return out
}
