package braze

import (
	"reflect"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// FieldKind is the value type of a standard Braze profile field. It tells a
// mapper which Go value (of the value model in ARCHITECTURE.md) the field
// takes in [UserAttributes.Set].
type FieldKind uint8

// The kinds of standard profile fields.
const (
	// FieldString takes a string (or nil to clear, where allowed).
	FieldString FieldKind = iota + 1
	// FieldDate takes a braze.Date (or a "YYYY-MM-DD" string); sent as "YYYY-MM-DD".
	FieldDate
	// FieldTime takes a time.Time (or a braze.Date, meaning midnight UTC).
	FieldTime
	// FieldEnum takes a string from FieldInfo.Values.
	FieldEnum
	// FieldBool takes a bool.
	FieldBool
	// FieldLocation takes a braze.Location or a map with "latitude" and "longitude".
	FieldLocation
	// FieldObject takes a typed struct (braze.Facebook, braze.Twitter,
	// braze.UserAlias) or the equivalent map[string]any.
	FieldObject
	// FieldObjectArray takes a typed slice ([]braze.PushToken,
	// []braze.SubscriptionGroupState) or the equivalent []any of maps.
	FieldObjectArray
)

var kindNames = [...]string{
	FieldString: "string", FieldDate: "date", FieldTime: "time", FieldEnum: "enum",
	FieldBool: "bool", FieldLocation: "location", FieldObject: "object", FieldObjectArray: "object array",
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

// attrField is one key of an attributes object: its catalog entry and how
// UserAttributes holds it. It is the one place that knows the standard
// fields: Set finds the entry by name, the encoder writes the entries in
// table order and validation checks them, none of them naming a field.
type attrField struct {
	FieldInfo
	// control marks the request flags (_update_existing_only,
	// _merge_objects, push_token_import): keys of the object, but no
	// profile field, so StandardFields leaves them out.
	control bool
	// state is the offset within UserAttributes of the state of the Field
	// holding the value, so that the encoder and validation skip an unset
	// field (most of them, in a typical object) without a call; 0 for the
	// keys not held in a Field, whose present says whether they are sent.
	state   uintptr
	present func(*UserAttributes) bool
	// value is the offset of the Field's value and wire its plain Go
	// kind, so that the encoder writes strings (and string enums), bools
	// and times, most of an object, without a call; wireOther calls write.
	value uintptr
	wire  wireKind
	// set stores a value of the value model (never a plainValuer), or
	// returns a *ValidationError naming the field and leaves a unchanged.
	set func(a *UserAttributes, v any) error
	// write appends the value of a field that is sent and not null.
	write func(b []byte, a *UserAttributes, keys *[]string) ([]byte, error)
	// check validates a field that is sent (null included); nil when
	// there is nothing to check.
	check func(a *UserAttributes, k *checker) error
}

// wireKind is the memory layout of a Field's value that the encoder
// writes itself.
type wireKind uint8

const (
	wireOther  wireKind = iota // written by the entry's write
	wireString                 // string, or a type whose underlying type is string
	wireBool
	wireTime
)

// wireKindOf returns the wireKind of values of type T.
func wireKindOf[T any]() wireKind {
	t := reflect.TypeFor[T]()
	switch {
	case t == reflect.TypeFor[time.Time]():
		return wireTime
	case t.Kind() == reflect.String:
		return wireString
	case t.Kind() == reflect.Bool:
		return wireBool
	}
	return wireOther
}

// stateOf returns the state of a Field-held key without a call.
func (f *attrField) stateOf(a *UserAttributes) fieldState {
	return *(*fieldState)(unsafe.Add(unsafe.Pointer(a), f.state))
}

// sent reports whether the object sends the key, and whether as null.
func (f *attrField) sent(a *UserAttributes) (sent, null bool) {
	if f.state == 0 {
		return f.present(a), false
	}
	st := f.stateOf(a)
	return st != fieldUnset, st == fieldNull
}

// attrFields is every key of an attributes object but the custom
// attributes, in the order the encoder writes them (the primary
// identifiers, the request flags, then the profile fields by name; golden
// files and Braze's documentation examples use this order). Enum value
// lists are shared and must not be modified; StandardField and
// StandardFields hand out copies.
var attrFields = []attrField{
	identifierString("external_id", func(a *UserAttributes) *string { return &a.ExternalID }),
	identifierString("braze_id", func(a *UserAttributes) *string { return &a.BrazeID }),
	userAliasField,
	updateExistingOnlyField,
	controlFlag("_merge_objects", func(a *UserAttributes) *bool { return &a.MergeObjects }),
	controlFlag("push_token_import", func(a *UserAttributes) *bool { return &a.PushTokenImport }),
	field(FieldInfo{Name: "country", Kind: FieldString, Nullable: true, Format: "ISO-3166-1 alpha-2"},
		func(a *UserAttributes) *Field[string] { return &a.Country }, countryCodec),
	field(FieldInfo{Name: "current_location", Kind: FieldLocation, Nullable: true},
		func(a *UserAttributes) *Field[Location] { return &a.CurrentLocation }, locationCodec),
	field(FieldInfo{Name: "date_of_first_session", Kind: FieldTime, Nullable: true, Format: "ISO-8601"},
		func(a *UserAttributes) *Field[time.Time] { return &a.DateOfFirstSession }, timeCodec),
	field(FieldInfo{Name: "date_of_last_session", Kind: FieldTime, Nullable: true, Format: "ISO-8601"},
		func(a *UserAttributes) *Field[time.Time] { return &a.DateOfLastSession }, timeCodec),
	field(FieldInfo{Name: "dob", Kind: FieldDate, Nullable: true, Format: "YYYY-MM-DD"},
		func(a *UserAttributes) *Field[Date] { return &a.DOB }, dateCodec),
	field(FieldInfo{Name: "email", Kind: FieldString, Identifier: true, Nullable: true},
		func(a *UserAttributes) *Field[string] { return &a.Email }, stringCodec),
	field(FieldInfo{Name: "email_click_tracking_disabled", Kind: FieldBool, Nullable: true},
		func(a *UserAttributes) *Field[bool] { return &a.EmailClickTrackingDisabled }, boolCodec),
	field(FieldInfo{Name: "email_open_tracking_disabled", Kind: FieldBool, Nullable: true},
		func(a *UserAttributes) *Field[bool] { return &a.EmailOpenTrackingDisabled }, boolCodec),
	field(FieldInfo{Name: "email_subscribe", Kind: FieldEnum, Consent: true, Values: subscribeValues},
		func(a *UserAttributes) *Field[SubscriptionStatus] { return &a.EmailSubscribe }, enumCodec[SubscriptionStatus]("a subscription status string")),
	field(FieldInfo{Name: "facebook", Kind: FieldObject, Nullable: true},
		func(a *UserAttributes) *Field[Facebook] { return &a.Facebook }, facebookCodec),
	field(FieldInfo{Name: "first_name", Kind: FieldString, Nullable: true},
		func(a *UserAttributes) *Field[string] { return &a.FirstName }, stringCodec),
	field(FieldInfo{Name: "gender", Kind: FieldEnum, Nullable: true, Values: genderValues},
		func(a *UserAttributes) *Field[Gender] { return &a.Gender }, enumCodec[Gender]("a gender string")),
	field(FieldInfo{Name: "home_city", Kind: FieldString, Nullable: true},
		func(a *UserAttributes) *Field[string] { return &a.HomeCity }, stringCodec),
	field(FieldInfo{Name: "image_url", Kind: FieldString, Nullable: true, Format: "URL"},
		func(a *UserAttributes) *Field[string] { return &a.ImageURL }, stringCodec),
	field(FieldInfo{Name: "language", Kind: FieldString, Nullable: true, Format: "ISO-639-1"},
		func(a *UserAttributes) *Field[string] { return &a.Language }, languageCodec),
	field(FieldInfo{Name: "last_name", Kind: FieldString, Nullable: true},
		func(a *UserAttributes) *Field[string] { return &a.LastName }, stringCodec),
	field(FieldInfo{Name: "marked_email_as_spam_at", Kind: FieldTime, Nullable: true, Format: "ISO-8601"},
		func(a *UserAttributes) *Field[time.Time] { return &a.MarkedEmailAsSpamAt }, timeCodec),
	field(FieldInfo{Name: "phone", Kind: FieldString, Identifier: true, Nullable: true, Format: "E.164"},
		func(a *UserAttributes) *Field[string] { return &a.Phone }, stringCodec),
	field(FieldInfo{Name: "push_subscribe", Kind: FieldEnum, Consent: true, Values: subscribeValues},
		func(a *UserAttributes) *Field[SubscriptionStatus] { return &a.PushSubscribe }, enumCodec[SubscriptionStatus]("a subscription status string")),
	field(FieldInfo{Name: "push_tokens", Kind: FieldObjectArray},
		func(a *UserAttributes) *Field[[]PushToken] { return &a.PushTokens }, pushTokensCodec),
	field(FieldInfo{Name: "subscription_groups", Kind: FieldObjectArray, Consent: true},
		func(a *UserAttributes) *Field[[]SubscriptionGroupState] { return &a.SubscriptionGroups }, subscriptionGroupsCodec),
	field(FieldInfo{Name: "time_zone", Kind: FieldString, Nullable: true, Format: "IANA time zone"},
		func(a *UserAttributes) *Field[string] { return &a.TimeZone }, timeZoneCodec),
	field(FieldInfo{Name: "twitter", Kind: FieldObject, Nullable: true},
		func(a *UserAttributes) *Field[Twitter] { return &a.Twitter }, twitterCodec),
}

var subscribeValues = []string{string(OptedIn), string(Subscribed), string(Unsubscribed)}
var genderValues = []string{string(GenderMale), string(GenderFemale), string(GenderOther), string(GenderNotApplicable), string(GenderPreferNotToSay)}

// attrFieldByName finds the entry of a key for Set.
var attrFieldByName = func() map[string]*attrField {
	m := make(map[string]*attrField, len(attrFields))
	for i := range attrFields {
		m[attrFields[i].Name] = &attrFields[i]
	}
	return m
}()

// standardFields is the public catalog: the entries of attrFields but the
// request flags, sorted by name.
var standardFields = func() []FieldInfo {
	var out []FieldInfo
	for _, f := range attrFields {
		if !f.control {
			out = append(out, f.FieldInfo)
		}
	}
	slices.SortFunc(out, func(x, y FieldInfo) int { return strings.Compare(x.Name, y.Name) })
	return out
}()

// fieldCodec is how a profile field of Go type T is set from the value
// model, written and checked; field turns it into a table entry.
type fieldCodec[T any] struct {
	// want names the accepted Go type in Set's type errors.
	want string
	// from converts a non-nil Set value; ok is false for a value of the
	// wrong type.
	from func(f *FieldInfo, v any) (t T, ok bool, err error)
	// write appends the value; an error becomes a *ValidationError of the
	// field.
	write func(b []byte, v T, keys *[]string) ([]byte, error)
	// check validates a value (nil: nothing to check).
	check func(f *FieldInfo, v T, k *checker) error
}

// field builds the entry of a profile field held in a Field[T] of
// UserAttributes, which get returns.
func field[T any](info FieldInfo, get func(*UserAttributes) *Field[T], c fieldCodec[T]) attrField {
	var probe UserAttributes
	base := uintptr(unsafe.Pointer(&probe))
	f := attrField{FieldInfo: info, state: uintptr(unsafe.Pointer(&get(&probe).state)) - base,
		value: uintptr(unsafe.Pointer(&get(&probe).value)) - base, wire: wireKindOf[T]()}
	f.set = func(a *UserAttributes, v any) error {
		if v == nil {
			if !info.Nullable {
				return nullErr(&info)
			}
			*get(a) = NullField[T]()
			return nil
		}
		t, ok, err := c.from(&info, v)
		if err != nil {
			return err
		}
		if !ok {
			return typeErr(info.Name, v, c.want)
		}
		*get(a) = FieldOf(t)
		return nil
	}
	f.write = func(b []byte, a *UserAttributes, keys *[]string) ([]byte, error) {
		return c.write(b, get(a).value, keys)
	}
	f.check = func(a *UserAttributes, k *checker) error {
		fv := get(a)
		switch {
		case fv.state == fieldNull && !info.Nullable:
			return nullErr(&info)
		case fv.state == fieldSet && c.check != nil:
			return c.check(&info, fv.value, k)
		}
		return nil
	}
	return f
}

// StandardField returns the description of the standard field or identifier
// with the exact Braze name. Any other name (including other spellings such
// as "DOB" or "Email") is a custom attribute for Braze, and ok is false.
func StandardField(name string) (FieldInfo, bool) {
	i, ok := slices.BinarySearchFunc(standardFields, name, func(f FieldInfo, n string) int { return strings.Compare(f.Name, n) })
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
