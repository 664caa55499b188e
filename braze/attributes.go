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
	switch name {
	case "external_id", "braze_id":
		s, ok := value.(string)
		if !ok {
			if value == nil {
				return &ValidationError{Field: name, Reason: "an identifier cannot be removed (null)"}
			}
			return typeErr(name, value, "a string identifier")
		}
		if name == "external_id" {
			a.ExternalID = s
		} else {
			a.BrazeID = s
		}
		return nil
	case "user_alias":
		switch v := value.(type) {
		case UserAlias:
			a.UserAlias = &v
		case *UserAlias:
			if v == nil {
				return &ValidationError{Field: name, Reason: "an identifier cannot be removed (null)"}
			}
			c := *v
			a.UserAlias = &c
		case map[string]any:
			n, ok1 := v["alias_name"].(string)
			l, ok2 := v["alias_label"].(string)
			if !ok1 || !ok2 || len(v) != 2 {
				return &ValidationError{Field: name, Reason: "want an object with string alias_name and alias_label only"}
			}
			a.UserAlias = &UserAlias{Name: n, Label: l}
		case nil:
			return &ValidationError{Field: name, Reason: "an identifier cannot be removed (null)"}
		default:
			return typeErr(name, value, "a user alias")
		}
		return nil
	case "_update_existing_only":
		b, ok := value.(bool)
		if !ok {
			return typeErr(name, value, "a bool")
		}
		a.UpdateExistingOnly = &b
		return nil
	case "_merge_objects":
		b, ok := value.(bool)
		if !ok {
			return typeErr(name, value, "a bool")
		}
		a.MergeObjects = b
		return nil
	case "push_token_import":
		b, ok := value.(bool)
		if !ok {
			return typeErr(name, value, "a bool")
		}
		a.PushTokenImport = b
		return nil
	case "email":
		return setString(&a.Email, name, value)
	case "phone":
		return setString(&a.Phone, name, value)
	case "country":
		return setString(&a.Country, name, value)
	case "first_name":
		return setString(&a.FirstName, name, value)
	case "last_name":
		return setString(&a.LastName, name, value)
	case "home_city":
		return setString(&a.HomeCity, name, value)
	case "image_url":
		return setString(&a.ImageURL, name, value)
	case "language":
		return setString(&a.Language, name, value)
	case "time_zone":
		return setString(&a.TimeZone, name, value)
	case "email_click_tracking_disabled":
		return setBool(&a.EmailClickTrackingDisabled, name, value)
	case "email_open_tracking_disabled":
		return setBool(&a.EmailOpenTrackingDisabled, name, value)
	case "date_of_first_session":
		return setTime(&a.DateOfFirstSession, name, value)
	case "date_of_last_session":
		return setTime(&a.DateOfLastSession, name, value)
	case "marked_email_as_spam_at":
		return setTime(&a.MarkedEmailAsSpamAt, name, value)
	case "dob":
		switch v := value.(type) {
		case nil:
			a.DOB = Null[Date]()
		case Date:
			a.DOB = Value(v)
		case string:
			d, err := ParseDate(v)
			if err != nil {
				return &ValidationError{Field: name, Reason: fmt.Sprintf("%q is not a YYYY-MM-DD calendar date", v)}
			}
			a.DOB = Value(d)
		default:
			return typeErr(name, value, "a braze.Date")
		}
		return nil
	case "gender":
		switch v := value.(type) {
		case nil:
			a.Gender = Null[Gender]()
		case Gender:
			a.Gender = Value(v)
		case string:
			a.Gender = Value(Gender(v))
		default:
			return typeErr(name, value, "a gender string")
		}
		return nil
	case "email_subscribe", "push_subscribe":
		var s SubscriptionStatus
		switch v := value.(type) {
		case SubscriptionStatus:
			s = v
		case string:
			s = SubscriptionStatus(v)
		case nil:
			return &ValidationError{Field: name, Reason: "cannot be null; use \"subscribed\", \"unsubscribed\" or \"opted_in\""}
		default:
			return typeErr(name, value, "a subscription status string")
		}
		if name == "email_subscribe" {
			a.EmailSubscribe = Value(s)
		} else {
			a.PushSubscribe = Value(s)
		}
		return nil
	case "current_location":
		switch v := value.(type) {
		case nil:
			a.CurrentLocation = Null[Location]()
		case Location:
			a.CurrentLocation = Value(v)
		case map[string]any:
			lat, ok1 := toFloat(v["latitude"])
			lon, ok2 := toFloat(v["longitude"])
			if !ok1 || !ok2 || len(v) != 2 {
				return &ValidationError{Field: name, Reason: "want an object with numeric latitude and longitude only"}
			}
			a.CurrentLocation = Value(Location{Latitude: lat, Longitude: lon})
		default:
			return typeErr(name, value, "a braze.Location")
		}
		return nil
	case "facebook":
		switch v := value.(type) {
		case nil:
			a.Facebook = Null[Facebook]()
		case Facebook:
			a.Facebook = Value(v)
		case map[string]any:
			fb, err := facebookFromMap(v)
			if err != nil {
				return &ValidationError{Field: name, Reason: err.Error()}
			}
			a.Facebook = Value(fb)
		default:
			return typeErr(name, value, "a braze.Facebook")
		}
		return nil
	case "twitter":
		switch v := value.(type) {
		case nil:
			a.Twitter = Null[Twitter]()
		case Twitter:
			a.Twitter = Value(v)
		case map[string]any:
			tw, err := twitterFromMap(v)
			if err != nil {
				return &ValidationError{Field: name, Reason: err.Error()}
			}
			a.Twitter = Value(tw)
		default:
			return typeErr(name, value, "a braze.Twitter")
		}
		return nil
	case "push_tokens":
		switch v := value.(type) {
		case []PushToken:
			a.PushTokens = Value(slices.Clone(v))
		case []any:
			out := make([]PushToken, 0, len(v))
			for i, it := range v {
				m, ok := it.(map[string]any)
				if !ok {
					return &ValidationError{Field: name, Reason: fmt.Sprintf("item %d is %s, want an object", i, typeName(it))}
				}
				var pt PushToken
				if err := stringMembers(m, map[string]*string{"app_id": &pt.AppID, "token": &pt.Token, "device_id": &pt.DeviceID}); err != nil {
					return &ValidationError{Field: name, Reason: fmt.Sprintf("item %d: %v", i, err)}
				}
				out = append(out, pt)
			}
			a.PushTokens = Value(out)
		default:
			return typeErr(name, value, "[]braze.PushToken")
		}
		return nil
	case "subscription_groups":
		switch v := value.(type) {
		case []SubscriptionGroupState:
			a.SubscriptionGroups = Value(slices.Clone(v))
		case []any:
			out := make([]SubscriptionGroupState, 0, len(v))
			for i, it := range v {
				m, ok := it.(map[string]any)
				if !ok {
					return &ValidationError{Field: name, Reason: fmt.Sprintf("item %d is %s, want an object", i, typeName(it))}
				}
				var id, st string
				if err := stringMembers(m, map[string]*string{"subscription_group_id": &id, "subscription_state": &st}); err != nil {
					return &ValidationError{Field: name, Reason: fmt.Sprintf("item %d: %v", i, err)}
				}
				out = append(out, SubscriptionGroupState{GroupID: id, State: GroupState(st)})
			}
			a.SubscriptionGroups = Value(out)
		default:
			return typeErr(name, value, "[]braze.SubscriptionGroupState")
		}
		return nil
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

func setString(f *Field[string], name string, value any) error {
	switch v := value.(type) {
	case nil:
		*f = Null[string]()
	case string:
		*f = Value(v)
	default:
		return typeErr(name, value, "a string")
	}
	return nil
}

func setBool(f *Field[bool], name string, value any) error {
	switch v := value.(type) {
	case nil:
		*f = Null[bool]()
	case bool:
		*f = Value(v)
	default:
		return typeErr(name, value, "a bool")
	}
	return nil
}

func setTime(f *Field[time.Time], name string, value any) error {
	switch v := value.(type) {
	case nil:
		*f = Null[time.Time]()
	case time.Time:
		*f = Value(v)
	case Date:
		if !v.IsValid() {
			return &ValidationError{Field: name, Reason: "not a real calendar date"}
		}
		*f = Value(time.Date(v.Year, v.Month, v.Day, 0, 0, 0, 0, time.UTC))
	default:
		return typeErr(name, value, "a time.Time")
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

func stringMembers(m map[string]any, dst map[string]*string) error {
	for k, v := range m {
		p, ok := dst[k]
		if !ok {
			return fmt.Errorf("unknown member %q", k)
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("member %q is %s, want a string", k, typeName(v))
		}
		*p = s
	}
	return nil
}

func facebookFromMap(m map[string]any) (Facebook, error) {
	var fb Facebook
	for k, v := range m {
		switch k {
		case "id":
			s, ok := v.(string)
			if !ok {
				return fb, fmt.Errorf("member \"id\" is %s, want a string", typeName(v))
			}
			fb.ID = s
		case "likes":
			switch l := v.(type) {
			case []string:
				fb.Likes = slices.Clone(l)
			default:
				return fb, fmt.Errorf("member \"likes\" is %s, want []string", typeName(v))
			}
		case "num_friends":
			n, ok := toInt(v)
			if !ok {
				return fb, fmt.Errorf("member \"num_friends\" is %s, want an integer", typeName(v))
			}
			fb.NumFriends = n
		default:
			return fb, fmt.Errorf("unknown member %q", k)
		}
	}
	return fb, nil
}

func twitterFromMap(m map[string]any) (Twitter, error) {
	var tw Twitter
	for k, v := range m {
		if k == "screen_name" {
			s, ok := v.(string)
			if !ok {
				return tw, fmt.Errorf("member \"screen_name\" is %s, want a string", typeName(v))
			}
			tw.ScreenName = s
			continue
		}
		var p *int64
		switch k {
		case "id":
			p = &tw.ID
		case "followers_count":
			p = &tw.FollowersCount
		case "friends_count":
			p = &tw.FriendsCount
		case "statuses_count":
			p = &tw.StatusesCount
		default:
			return tw, fmt.Errorf("unknown member %q", k)
		}
		n, ok := toInt(v)
		if !ok {
			return tw, fmt.Errorf("member %q is %s, want an integer", k, typeName(v))
		}
		*p = n
	}
	return tw, nil
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
