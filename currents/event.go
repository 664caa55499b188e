package currents

import (
	"encoding/json"
	"time"
)

// Event is one decoded Currents record. Every typed event (EmailSend,
// CustomEvent, ...) and the generic fallback implement it, and also
// FieldEvent.
type Event interface {
	// EventType is the Currents event type, e.g. "users.messages.email.Send",
	// taken from the object key (or the caller) rather than the schema name,
	// because Braze has renamed schemas over the years.
	EventType() string
	// EventID is the globally unique event id (the `id` field); Currents
	// delivers at least once, so this is the deduplication key.
	EventID() string
	// UserID is the Braze user id (`user_id`).
	UserID() string
	// Time is the event time (`time`, Unix seconds) in UTC.
	Time() time.Time
}

// FieldEvent is implemented by every event this package decodes: access
// by Avro field name, in the terms of the file's own writer schema.
type FieldEvent interface {
	Event
	// Fields lists the field names of the file's writer schema, in file
	// order (for a hand-built event: the current schema's).
	Fields() []string
	// Get returns a field's value by its Avro name (nil for null) and
	// whether the writer schema has the field. Typed scalar fields come
	// back as their Go type (string, int64, float64, or float32 for an
	// Avro float, bool); arrays as written, a []any whose items are
	// strings or nil (the struct field holds them as []string); other
	// fields as in Generic.Get.
	Get(field string) (value any, ok bool)
	// MarshalJSON returns the JSON view: an object whose keys are exactly
	// the writer schema's field names, with plain JSON values (null for
	// null, no union wrapping) and `time` as the integer in the file.
	json.Marshaler
}

var _ FieldEvent = (*Generic)(nil)
