package currents

import "time"

// Event is one decoded Currents record. Every typed event (EmailSend,
// CustomEvent, ...) and the generic fallback implement it.
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
