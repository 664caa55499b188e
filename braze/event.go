package braze

import (
	"strconv"
	"time"
)

// UserRef identifies the user of an event or purchase. One of its members
// is required. ExternalID, BrazeID and UserAlias are primary identifiers,
// of which Braze accepts at most one per object (Validate refuses two);
// Email and Phone are secondary, used to find the user only when no
// primary identifier is given (email before phone).
type UserRef struct {
	ExternalID string
	BrazeID    string
	UserAlias  *UserAlias
	Email      string
	Phone      string
}

func (r *UserRef) isZero() bool {
	return r.ExternalID == "" && r.BrazeID == "" && r.UserAlias == nil && r.Email == "" && r.Phone == ""
}

func (r *UserRef) appendJSON(b []byte, first *bool) []byte {
	if r.ExternalID != "" {
		b = appendKey(b, first, "external_id")
		b = appendString(b, r.ExternalID)
	}
	if r.BrazeID != "" {
		b = appendKey(b, first, "braze_id")
		b = appendString(b, r.BrazeID)
	}
	if r.UserAlias != nil {
		b = appendKey(b, first, "user_alias")
		b = appendAlias(b, r.UserAlias)
	}
	if r.Email != "" {
		b = appendKey(b, first, "email")
		b = appendString(b, r.Email)
	}
	if r.Phone != "" {
		b = appendKey(b, first, "phone")
		b = appendString(b, r.Phone)
	}
	return b
}

// Event is a custom event object. Events are not idempotent: Braze records
// a replayed event again, so an ambiguous failure is not retried unless the
// caller opts in (RetryPolicy.Ambiguous).
type Event struct {
	UserRef
	// AppID optionally associates the event with an app.
	AppID string
	// Name is required.
	Name string
	// Time is required; Braze replaces future times with the current time.
	Time time.Time
	// Properties are optional; names must not start with "$" and "time" and
	// "event_name" are reserved. Values follow the value model; a time.Time
	// is sent as an ISO-8601 string.
	Properties map[string]any
	// UpdateExistingOnly, when set, is sent as _update_existing_only.
	UpdateExistingOnly *bool
}

func (e *Event) appendJSON(b []byte, keys *[]string) ([]byte, error) {
	first := true
	b = append(b, '{')
	b = e.UserRef.appendJSON(b, &first)
	if e.AppID != "" {
		b = appendKey(b, &first, "app_id")
		b = appendString(b, e.AppID)
	}
	b = appendKey(b, &first, "name")
	b = appendString(b, e.Name)
	b = appendKey(b, &first, "time")
	b = appendTime(b, e.Time)
	return appendEventTail(b, &first, e.Properties, e.UpdateExistingOnly, keys)
}

// appendEventTail writes what events and purchases end with, properties and
// _update_existing_only, and closes the object.
func appendEventTail(b []byte, first *bool, props map[string]any, existingOnly *bool, keys *[]string) ([]byte, error) {
	if props != nil {
		b = appendKey(b, first, "properties")
		var err error
		if b, err = appendProperties(b, props, keys); err != nil {
			return b, err
		}
	}
	if existingOnly != nil {
		b = appendKey(b, first, "_update_existing_only")
		b = strconv.AppendBool(b, *existingOnly)
	}
	return append(b, '}'), nil
}

// appendProperties writes event or purchase properties: top-level times
// are plain ISO-8601 strings, as Braze documents for properties.
func appendProperties(b []byte, m map[string]any, keys *[]string) ([]byte, error) {
	start := len(*keys)
	for k := range m {
		*keys = append(*keys, k)
	}
	ks := (*keys)[start:]
	sortStrings(ks)
	b = append(b, '{')
	var err error
	for i := range ks {
		k := (*keys)[start+i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		v := m[k]
		switch x := v.(type) {
		case map[string]any:
			b, err = appendPlainObject(b, x, keys)
		case []any:
			b, err = appendPlainArray(b, x, keys)
		default:
			b, err = appendValue(b, v, modeTop, keys)
		}
		if err != nil {
			err = &ValidationError{Field: "properties." + k, Reason: err.Error()}
			break
		}
	}
	clear((*keys)[start:])
	*keys = (*keys)[:start]
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendPlainObject writes a property object without the $time wrapping
// used for nested custom attributes.
func appendPlainObject(b []byte, m map[string]any, keys *[]string) ([]byte, error) {
	start := len(*keys)
	for k := range m {
		*keys = append(*keys, k)
	}
	ks := (*keys)[start:]
	sortStrings(ks)
	b = append(b, '{')
	var err error
	for i := range ks {
		k := (*keys)[start+i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendPlain(b, m[k], keys); err != nil {
			break
		}
	}
	clear((*keys)[start:])
	*keys = (*keys)[:start]
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func appendPlainArray(b []byte, a []any, keys *[]string) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i, it := range a {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendPlain(b, it, keys); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendPlain(b []byte, v any, keys *[]string) ([]byte, error) {
	switch x := v.(type) {
	case map[string]any:
		return appendPlainObject(b, x, keys)
	case []any:
		return appendPlainArray(b, x, keys)
	}
	return appendValue(b, v, modeTop, keys)
}

// MarshalJSON encodes the event exactly as sent to Braze.
func (e *Event) MarshalJSON() ([]byte, error) {
	var keys []string
	return e.appendJSON(make([]byte, 0, 128), &keys)
}

// Purchase is a purchase object. Purchases are not idempotent: a replay
// records the purchase and its revenue again, so an ambiguous failure is not
// retried unless the caller opts in (RetryPolicy.Ambiguous).
type Purchase struct {
	UserRef
	// AppID optionally associates the purchase with an app.
	AppID string
	// ProductID is required (at most 255 characters).
	ProductID string
	// Currency is a required ISO-4217 alphabetic code ("USD").
	Currency string
	// Price is required, in the currency's base unit (dollars, yen).
	Price float64
	// Quantity is optional (0 is not sent; Braze assumes 1), at most 100.
	Quantity int
	// Time is required.
	Time time.Time
	// Properties as for events.
	Properties map[string]any
	// UpdateExistingOnly, when set, is sent as _update_existing_only.
	UpdateExistingOnly *bool
}

func (p *Purchase) appendJSON(b []byte, keys *[]string) ([]byte, error) {
	first := true
	b = append(b, '{')
	b = p.UserRef.appendJSON(b, &first)
	if p.AppID != "" {
		b = appendKey(b, &first, "app_id")
		b = appendString(b, p.AppID)
	}
	b = appendKey(b, &first, "product_id")
	b = appendString(b, p.ProductID)
	b = appendKey(b, &first, "currency")
	b = appendString(b, p.Currency)
	b = appendKey(b, &first, "price")
	var err error
	if b, err = appendFloat(b, p.Price); err != nil {
		return b, &ValidationError{Field: "price", Reason: err.Error()}
	}
	if p.Quantity != 0 {
		b = appendKey(b, &first, "quantity")
		b = strconv.AppendInt(b, int64(p.Quantity), 10)
	}
	b = appendKey(b, &first, "time")
	b = appendTime(b, p.Time)
	return appendEventTail(b, &first, p.Properties, p.UpdateExistingOnly, keys)
}

// MarshalJSON encodes the purchase exactly as sent to Braze.
func (p *Purchase) MarshalJSON() ([]byte, error) {
	var keys []string
	return p.appendJSON(make([]byte, 0, 128), &keys)
}
