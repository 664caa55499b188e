package currents

import (
	"sort"
	"strings"
	"unsafe"
)

// goKind is the Go type of a typed event field.
type goKind uint8

const (
	kString  goKind = iota + 1 // string
	kInt64                     // int64, from Avro int or long
	kFloat64                   // float64, from Avro float or double (or int/long)
	kBool                      // bool
	kStrings                   // []string, from an Avro array of strings
)

// fieldInfo describes one field of a generated event struct: the Avro name
// it decodes from and where it lives in the struct.
type fieldInfo struct {
	name     string  // Avro field name
	kind     goKind  // Go type
	avroType string  // current Avro type: string, int, long, float, double, boolean, array
	nullable bool    // ["null", T] in the current schema
	itemNull bool    // array items are ["null", "string"]
	off      uintptr // offset in the struct
}

// typeInfo describes a generated event type. The tables are built by the
// generator and never modified after package initialisation.
type typeInfo struct {
	eventType string
	goName    string
	fields    []fieldInfo
	alloc     func() unsafe.Pointer
	event     func(unsafe.Pointer) Event
	// defaultPlan describes events built by hand (not by a Decoder): the
	// current schema's fields in order.
	defaultPlan *program
}

// knownTypes maps each Currents event type to its generated Go type.
var knownTypes = func() map[string]*typeInfo {
	m := make(map[string]*typeInfo, len(generatedTypes))
	for _, ti := range generatedTypes {
		ti.defaultPlan = defaultProgram(ti)
		m[ti.eventType] = ti
	}
	return m
}()

// KnownEventTypes lists, sorted, the event types that decode into a
// generated Go struct. Any other type decodes into *Generic.
func KnownEventTypes() []string {
	out := make([]string, 0, len(knownTypes))
	for t := range knownTypes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// AnnouncedEventTypes lists, sorted, event types that Braze has announced
// or shown but for which this package has no writer schema and so no Go
// struct; their files decode into *Generic, with every field. They are
// the types Currents v11 added (2026-08-05, Braze's Currents changelog:
// contentoptimizer.ComponentStore, users.canvas.costep.Conversion,
// users.messages.landingpage.{Click,FormSubmission,Impression} and
// users.messages.survey.Response) and those named in Braze's sample data
// outside v10 (users.campaigns.UniqueReceipt,
// users.canvas.sendtodestination.{Sent,NotSent}). Programs that check a
// user's list of event types accept these as well as KnownEventTypes.
func AnnouncedEventTypes() []string {
	return []string{
		"contentoptimizer.ComponentStore",
		"users.campaigns.UniqueReceipt",
		"users.canvas.costep.Conversion",
		"users.canvas.sendtodestination.NotSent",
		"users.canvas.sendtodestination.Sent",
		"users.messages.landingpage.Click",
		"users.messages.landingpage.FormSubmission",
		"users.messages.landingpage.Impression",
		"users.messages.survey.Response",
	}
}

// NewEvent returns a new, empty typed event for eventType (for example
// *EmailSend for "users.messages.email.Send"), or a *Generic for a type
// the package does not know. It is useful to build events by hand, for
// tests or for writers.
func NewEvent(eventType string) Event {
	if ti, ok := knownTypes[eventType]; ok {
		return ti.event(ti.alloc())
	}
	g := &Generic{}
	g.eventType = eventType
	return g
}

// SyntheticSchema returns an Avro writer schema for eventType built from
// this package's own field tables (names and types of the current Currents
// version, no documentation), for writing synthetic test files. It
// reports false for an unknown event type.
func SyntheticSchema(eventType string) (string, bool) {
	ti, ok := knownTypes[eventType]
	if !ok {
		return "", false
	}
	ns, name := splitEventType(eventType)
	var b strings.Builder
	b.WriteString(`{"type":"record","name":"`)
	b.WriteString(name)
	b.WriteString(`","namespace":"`)
	b.WriteString(ns)
	b.WriteString(`","fields":[`)
	for i, f := range ti.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"`)
		b.WriteString(f.name)
		b.WriteString(`","type":`)
		t := `"` + f.avroType + `"`
		if f.avroType == "array" {
			items := `"string"`
			if f.itemNull {
				items = `["null","string"]`
			}
			t = `{"type":"array","items":` + items + `}`
		}
		if f.nullable {
			b.WriteString(`["null",` + t + `],"default":null}`)
		} else {
			b.WriteString(t + `}`)
		}
	}
	b.WriteString(`]}`)
	return b.String(), true
}

func splitEventType(t string) (namespace, name string) {
	i := strings.LastIndexByte(t, '.')
	if i < 0 {
		return "", t
	}
	return t[:i], t[i+1:]
}

// inferEventType derives the event type from a record's full name: Braze
// has used "users.messages.email.Send" and
// "dataexport.S3.inner.users.messages.email.Send" for the same type, so
// everything from the first "users" or "agentconsole" segment on is kept.
func inferEventType(fullName string) string {
	// Braze's namespaces are dataexport.<connection>.inner.<event type
	// prefix>: what follows "inner." is the type, whatever its root
	// (contentoptimizer., landingpage. in newer releases).
	if i := strings.LastIndex(fullName, ".inner."); i >= 0 && strings.HasPrefix(fullName, "dataexport.") {
		return fullName[i+len(".inner."):]
	}
	parts := strings.Split(fullName, ".")
	for i, p := range parts {
		if p == "users" || p == "agentconsole" {
			return strings.Join(parts[i:], ".")
		}
	}
	return fullName
}
