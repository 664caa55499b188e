package braze

import "slices"

// FieldKind is the value type of a standard Braze profile field. It tells a
// mapper which Go value (of the value model in ARCHITECTURE.md) the field
// takes in [UserAttributes.Set].
type FieldKind uint8

// The kinds of standard profile fields.
const (
	// KindString takes a string (or nil to clear, where allowed).
	KindString FieldKind = iota + 1
	// KindDate takes a braze.Date (or a "YYYY-MM-DD" string); sent as "YYYY-MM-DD".
	KindDate
	// KindTime takes a time.Time (or a braze.Date, meaning midnight UTC).
	KindTime
	// KindEnum takes a string from FieldInfo.Values.
	KindEnum
	// KindBool takes a bool.
	KindBool
	// KindLocation takes a braze.Location or a map with "latitude" and "longitude".
	KindLocation
	// KindObject takes a typed struct (braze.Facebook, braze.Twitter,
	// braze.UserAlias) or the equivalent map[string]any.
	KindObject
	// KindObjectArray takes a typed slice ([]braze.PushToken,
	// []braze.SubscriptionGroupState) or the equivalent []any of maps.
	KindObjectArray
)

var kindNames = [...]string{
	KindString: "string", KindDate: "date", KindTime: "time", KindEnum: "enum",
	KindBool: "bool", KindLocation: "location", KindObject: "object", KindObjectArray: "object array",
}

// String returns the kind's lower-case name.
func (k FieldKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// FieldInfo describes one standard Braze profile field or identifier.
type FieldInfo struct {
	// Name is the exact, case-sensitive Braze name ("dob", "first_name").
	Name string
	// Kind is the value type the field takes.
	Kind FieldKind
	// Consent marks fields that carry subscription consent (email_subscribe,
	// push_subscribe, subscription_groups); changing them also changes other
	// profiles sharing the same email.
	Consent bool
	// Identifier marks fields that identify a user in a /users/track object
	// (external_id, braze_id, user_alias, email, phone).
	Identifier bool
	// Nullable reports whether the field may be sent as null to clear it.
	// Identifiers that Braze cannot remove (external_id, braze_id,
	// user_alias) are not nullable.
	Nullable bool
	// Values lists the accepted values of an enum field.
	Values []string
	// Format names the expected text format, if any ("ISO-3166-1 alpha-2").
	Format string
}

// The standard fields, sorted by name. Enum value lists are shared and must
// not be modified; StandardField and StandardFields hand out copies.
var standardFields = []FieldInfo{
	{Name: "braze_id", Kind: KindString, Identifier: true},
	{Name: "country", Kind: KindString, Nullable: true, Format: "ISO-3166-1 alpha-2"},
	{Name: "current_location", Kind: KindLocation, Nullable: true},
	{Name: "date_of_first_session", Kind: KindTime, Nullable: true, Format: "ISO-8601"},
	{Name: "date_of_last_session", Kind: KindTime, Nullable: true, Format: "ISO-8601"},
	{Name: "dob", Kind: KindDate, Nullable: true, Format: "YYYY-MM-DD"},
	{Name: "email", Kind: KindString, Identifier: true, Nullable: true},
	{Name: "email_click_tracking_disabled", Kind: KindBool, Nullable: true},
	{Name: "email_open_tracking_disabled", Kind: KindBool, Nullable: true},
	{Name: "email_subscribe", Kind: KindEnum, Consent: true, Values: subscribeValues},
	{Name: "external_id", Kind: KindString, Identifier: true},
	{Name: "facebook", Kind: KindObject, Nullable: true},
	{Name: "first_name", Kind: KindString, Nullable: true},
	{Name: "gender", Kind: KindEnum, Nullable: true, Values: genderValues},
	{Name: "home_city", Kind: KindString, Nullable: true},
	{Name: "image_url", Kind: KindString, Nullable: true, Format: "URL"},
	{Name: "language", Kind: KindString, Nullable: true, Format: "ISO-639-1"},
	{Name: "last_name", Kind: KindString, Nullable: true},
	{Name: "marked_email_as_spam_at", Kind: KindTime, Nullable: true, Format: "ISO-8601"},
	{Name: "phone", Kind: KindString, Identifier: true, Nullable: true, Format: "E.164"},
	{Name: "push_subscribe", Kind: KindEnum, Consent: true, Values: subscribeValues},
	{Name: "push_tokens", Kind: KindObjectArray},
	{Name: "subscription_groups", Kind: KindObjectArray, Consent: true},
	{Name: "time_zone", Kind: KindString, Nullable: true, Format: "IANA time zone"},
	{Name: "twitter", Kind: KindObject, Nullable: true},
	{Name: "user_alias", Kind: KindObject, Identifier: true},
}

var subscribeValues = []string{string(OptedIn), string(Subscribed), string(Unsubscribed)}
var genderValues = []string{string(GenderMale), string(GenderFemale), string(GenderOther), string(GenderNotApplicable), string(GenderPreferNotToSay)}

// StandardField returns the description of the standard field or identifier
// with the exact Braze name. Any other name (including other spellings such
// as "DOB" or "Email") is a custom attribute for Braze, and ok is false.
func StandardField(name string) (FieldInfo, bool) {
	i, ok := slices.BinarySearchFunc(standardFields, name, func(f FieldInfo, n string) int {
		switch {
		case f.Name < n:
			return -1
		case f.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return FieldInfo{}, false
	}
	f := standardFields[i]
	f.Values = slices.Clone(f.Values)
	return f, true
}

// StandardFields returns every standard field and identifier, sorted by name.
func StandardFields() []FieldInfo {
	out := make([]FieldInfo, len(standardFields))
	for i, f := range standardFields {
		f.Values = slices.Clone(f.Values)
		out[i] = f
	}
	return out
}
