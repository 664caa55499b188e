package braze

import (
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"
)

// UserAttributes is one attributes object of a /users/track request: the
// identifier of a user, the standard profile fields to change and the
// custom attributes to change.
//
// A Field left at its zero value is not sent, so Braze leaves it unchanged;
// a Field set with Null is sent as null and clears the value. Custom
// attributes are set with Set or the operation helpers (Increment,
// AddToArray, ...).
//
// One identifier is required. ExternalID, BrazeID and UserAlias are
// primary identifiers: give at most one, since Braze rejects an object
// with two (Validate refuses it before sending). Email and Phone are
// secondary identifiers: Braze uses them to find the user only when no
// primary identifier is given (email before phone); next to a primary
// identifier they are ordinary profile updates.
type UserAttributes struct {
	ExternalID string
	BrazeID    string
	UserAlias  *UserAlias
	Email      Field[string]
	Phone      Field[string]

	// UpdateExistingOnly, when set, is sent as _update_existing_only. Braze
	// defaults it to false for external_id (the profile is created if
	// missing) and to true for user_alias; set it to false explicitly to
	// create alias-only profiles.
	UpdateExistingOnly *bool
	// MergeObjects sends "_merge_objects": true: nested objects are
	// deep-merged and $update merges into array items instead of replacing.
	MergeObjects bool
	// PushTokenImport sends "push_token_import": true, for importing push
	// tokens without an external_id or braze_id; PushTokens is then required.
	PushTokenImport bool

	Country                    Field[string]
	CurrentLocation            Field[Location]
	DateOfFirstSession         Field[time.Time]
	DateOfLastSession          Field[time.Time]
	DOB                        Field[Date]
	EmailClickTrackingDisabled Field[bool]
	EmailOpenTrackingDisabled  Field[bool]
	EmailSubscribe             Field[SubscriptionStatus]
	Facebook                   Field[Facebook]
	FirstName                  Field[string]
	Gender                     Field[Gender]
	HomeCity                   Field[string]
	ImageURL                   Field[string]
	Language                   Field[string]
	LastName                   Field[string]
	MarkedEmailAsSpamAt        Field[time.Time]
	PushSubscribe              Field[SubscriptionStatus]
	PushTokens                 Field[[]PushToken]
	SubscriptionGroups         Field[[]SubscriptionGroupState]
	TimeZone                   Field[string]
	Twitter                    Field[Twitter]

	custom map[string]any
}

// NewUserAttributes builds the attributes object of one user: the
// identifier field idField ("external_id", "braze_id", "email" or "phone")
// set to id, then every attribute of attrs by its Braze name, as Set does.
// It is the one call between a delta engine's change (diff.Change.All) or
// a mapped record and a TrackAll update. The first value Set refuses is
// returned as a *ValidationError naming the field.
//
// A nil attrs sets only the identifier.
func NewUserAttributes(idField, id string, attrs iter.Seq2[string, any]) (*UserAttributes, error) {
	ua := &UserAttributes{}
	if err := ua.Set(idField, id); err != nil {
		return nil, err
	}
	if attrs == nil {
		return ua, nil
	}
	for name, v := range attrs {
		if err := ua.Set(name, v); err != nil {
			return nil, err
		}
	}
	return ua, nil
}

// Set sets an identifier, a standard field or a custom attribute by its
// exact Braze name from a value of the SDK's value model: nil (null: clear
// the value), bool, int64 (int is accepted too), float64, json.Number,
// string, Date, time.Time, []string, map[string]any, and []any of
// map[string]any; custom attributes also take the operation types
// Increment, ArrayUpdate and ObjectArrayUpdate. Standard fields also accept
// their typed values (Gender, Location, []PushToken, ...). The special keys
// _update_existing_only, _merge_objects and push_token_import take a bool.
//
// A value with an Any() any method, such as a diff.Value from a mapped
// record, is replaced by what that method returns.
//
// A value of the wrong type for the field gives a *ValidationError naming
// the field, and leaves a unchanged. Set checks types only; the values
// themselves (a real country code, a string under 255 characters) are
// checked by Validate.
func (a *UserAttributes) Set(name string, value any) error {
	if w, ok := value.(plainValuer); ok {
		value = w.Any()
	}
	return a.set(name, value)
}

// plainValuer is a typed value that gives its plain Go value, as
// diff.Value does (braze does not import diff).
type plainValuer interface{ Any() any }

func typeErr(name string, value any, want string) error {
	return &ValidationError{Field: name, Reason: fmt.Sprintf("value of type %s cannot be used as %s", typeName(value), want)}
}

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

func (a *UserAttributes) set(name string, value any) error {
	if f, ok := attrFieldByName[name]; ok {
		return f.set(a, value)
	}
	v, err := customValue(name, value)
	if err != nil {
		return err
	}
	if a.custom == nil {
		a.custom = make(map[string]any, 4)
	}
	a.custom[name] = v
	return nil
}

// customValue checks that value belongs to the value model (or is an
// operation) and returns it in canonical form (int becomes int64).
func customValue(name string, value any) (any, error) {
	switch v := value.(type) {
	case nil, bool, int64, float64, string, time.Time, Increment:
		return v, nil
	case int:
		return int64(v), nil
	case json.Number:
		if !validNumber(string(v)) {
			return nil, &ValidationError{Field: name, Reason: fmt.Sprintf("%q is not a JSON number", string(v))}
		}
		return v, nil
	case Date:
		return v, nil
	case []string:
		return v, nil
	case map[string]any:
		if err := checkNested(name, v, 0); err != nil {
			return nil, err
		}
		return v, nil
	case []any:
		for i, it := range v {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, &ValidationError{Field: name, Reason: fmt.Sprintf("item %d is %s; an array attribute holds objects (or use []string)", i, typeName(it))}
			}
			if err := checkNested(name, m, 0); err != nil {
				return nil, err
			}
		}
		return v, nil
	case ArrayUpdate:
		return v, nil
	case ObjectArrayUpdate:
		for _, m := range v.Add {
			if err := checkNested(name, m, 0); err != nil {
				return nil, err
			}
		}
		for _, u := range v.Update {
			if err := checkNested(name, u.NewObject, 0); err != nil {
				return nil, err
			}
		}
		return v, nil
	}
	return nil, typeErr(name, value, "a custom attribute value")
}

const maxNesting = 50

// checkNested checks that a nested object holds only value-model values.
func checkNested(name string, m map[string]any, depth int) error {
	if depth > maxNesting {
		return &ValidationError{Field: name, Reason: "nested object too deep"}
	}
	for k, v := range m {
		if err := checkNestedValue(name, k, v, depth); err != nil {
			return err
		}
	}
	return nil
}

func checkNestedValue(name, key string, v any, depth int) error {
	switch x := v.(type) {
	case nil, bool, int64, int, float64, string, time.Time, Date, []string:
		return nil
	case json.Number:
		if !validNumber(string(x)) {
			return &ValidationError{Field: name, Reason: fmt.Sprintf("member %q: %q is not a JSON number", key, string(x))}
		}
		return nil
	case map[string]any:
		return checkNested(name, x, depth+1)
	case []any:
		for _, it := range x {
			if err := checkNestedValue(name, key, it, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return &ValidationError{Field: name, Reason: fmt.Sprintf("member %q has unsupported type %s", key, typeName(v))}
}

// Custom returns the value or operation set for a custom attribute.
func (a *UserAttributes) Custom(name string) (any, bool) {
	v, ok := a.custom[name]
	return v, ok
}

// CustomNames returns the names of the custom attributes set, sorted.
func (a *UserAttributes) CustomNames() []string {
	return slices.Sorted(maps.Keys(a.custom))
}

// Unset forgets a custom attribute so that it is not sent (unlike
// Set(name, nil), which sends null to remove it in Braze).
func (a *UserAttributes) Unset(name string) { delete(a.custom, name) }

// Increment adds n to the integer custom attribute name ({"inc": n}).
// Not idempotent: see RetryPolicy.Ambiguous.
func (a *UserAttributes) Increment(name string, n int64) error {
	return a.Set(name, Increment(n))
}

// AddToArray adds values to the string-array custom attribute name, merging
// with an ArrayUpdate already set for it.
func (a *UserAttributes) AddToArray(name string, values ...string) error {
	u, _ := a.custom[name].(ArrayUpdate)
	u.Add = append(slices.Clip(u.Add), values...)
	return a.Set(name, u)
}

// RemoveFromArray removes values from the string-array custom attribute
// name, merging with an ArrayUpdate already set for it.
func (a *UserAttributes) RemoveFromArray(name string, values ...string) error {
	u, _ := a.custom[name].(ArrayUpdate)
	u.Remove = append(slices.Clip(u.Remove), values...)
	return a.Set(name, u)
}

// AddObjects appends objects to the array-of-objects custom attribute name
// ($add). Not idempotent: see RetryPolicy.Ambiguous.
func (a *UserAttributes) AddObjects(name string, objects ...map[string]any) error {
	u, _ := a.custom[name].(ObjectArrayUpdate)
	u.Add = append(slices.Clip(u.Add), objects...)
	return a.Set(name, u)
}

// RemoveObjects removes every item of the array-of-objects attribute name
// whose key member equals one of values ($remove).
func (a *UserAttributes) RemoveObjects(name, key string, values ...any) error {
	u, _ := a.custom[name].(ObjectArrayUpdate)
	u.Remove = slices.Clip(u.Remove)
	for _, v := range values {
		u.Remove = append(u.Remove, ObjectRef{Key: key, Value: v})
	}
	return a.Set(name, u)
}

// UpdateObjects merges newObject into the items of the array-of-objects
// attribute name whose key member equals value ($update). Set MergeObjects
// for a deep merge; without it Braze overwrites the items.
func (a *UserAttributes) UpdateObjects(name, key string, value any, newObject map[string]any) error {
	u, _ := a.custom[name].(ObjectArrayUpdate)
	u.Update = append(slices.Clip(u.Update), ObjectUpdate{Key: key, Value: value, NewObject: newObject})
	return a.Set(name, u)
}
