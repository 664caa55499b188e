package braze

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The codecs of the catalog's entries (fields.go): how each kind of key is
// set from the value model, written to the request and checked before
// sending.

// nullErr refuses null for a field Braze cannot clear.
func nullErr(f *FieldInfo) error {
	if f.Identifier {
		return &ValidationError{Field: f.Name, Reason: "an identifier cannot be removed (null)"}
	}
	if len(f.Values) > 0 {
		return &ValidationError{Field: f.Name, Reason: "cannot be null; use one of " + strings.Join(f.Values, ", ")}
	}
	return &ValidationError{Field: f.Name, Reason: "cannot be null"}
}

// identifierString is the entry of external_id or braze_id: a plain
// string, sent when not empty.
func identifierString(name string, get func(*UserAttributes) *string) attrField {
	info := FieldInfo{Name: name, Kind: FieldString, Identifier: true}
	return attrField{
		FieldInfo: info,
		present:   func(a *UserAttributes) bool { return *get(a) != "" },
		set: func(a *UserAttributes, v any) error {
			s, ok := v.(string)
			if !ok {
				if v == nil {
					return nullErr(&info)
				}
				return typeErr(name, v, "a string identifier")
			}
			*get(a) = s
			return nil
		},
		write: func(b []byte, a *UserAttributes, _ *[]string) ([]byte, error) { return appendString(b, *get(a)), nil },
		check: func(a *UserAttributes, _ *checker) error { return checkString(name, *get(a)) },
	}
}

var userAliasField = attrField{
	FieldInfo: FieldInfo{Name: "user_alias", Kind: FieldObject, Identifier: true},
	present:   func(a *UserAttributes) bool { return a.UserAlias != nil },
	set: func(a *UserAttributes, v any) error {
		const name = "user_alias"
		switch x := v.(type) {
		case UserAlias:
			a.UserAlias = &x
		case *UserAlias:
			if x == nil {
				return &ValidationError{Field: name, Reason: "an identifier cannot be removed (null)"}
			}
			c := *x
			a.UserAlias = &c
		case map[string]any:
			n, ok1 := x["alias_name"].(string)
			l, ok2 := x["alias_label"].(string)
			if !ok1 || !ok2 || len(x) != 2 {
				return &ValidationError{Field: name, Reason: "want an object with string alias_name and alias_label only"}
			}
			a.UserAlias = &UserAlias{Name: n, Label: l}
		case nil:
			return &ValidationError{Field: name, Reason: "an identifier cannot be removed (null)"}
		default:
			return typeErr(name, v, "a user alias")
		}
		return nil
	},
	write: func(b []byte, a *UserAttributes, _ *[]string) ([]byte, error) {
		return appendAlias(b, a.UserAlias), nil
	},
	check: func(a *UserAttributes, _ *checker) error {
		if a.UserAlias.Name == "" || a.UserAlias.Label == "" {
			return bad("user_alias", "alias_name and alias_label are both required")
		}
		return nil
	},
}

var updateExistingOnlyField = attrField{
	FieldInfo: FieldInfo{Name: "_update_existing_only", Kind: FieldBool},
	control:   true,
	present:   func(a *UserAttributes) bool { return a.UpdateExistingOnly != nil },
	set: func(a *UserAttributes, v any) error {
		b, ok := v.(bool)
		if !ok {
			return typeErr("_update_existing_only", v, "a bool")
		}
		a.UpdateExistingOnly = &b
		return nil
	},
	write: func(b []byte, a *UserAttributes, _ *[]string) ([]byte, error) {
		return strconv.AppendBool(b, *a.UpdateExistingOnly), nil
	},
}

// controlFlag is the entry of a request flag sent as true when set.
func controlFlag(name string, get func(*UserAttributes) *bool) attrField {
	return attrField{
		FieldInfo: FieldInfo{Name: name, Kind: FieldBool},
		control:   true,
		present:   func(a *UserAttributes) bool { return *get(a) },
		set: func(a *UserAttributes, v any) error {
			b, ok := v.(bool)
			if !ok {
				return typeErr(name, v, "a bool")
			}
			*get(a) = b
			return nil
		},
		write: func(b []byte, _ *UserAttributes, _ *[]string) ([]byte, error) { return append(b, "true"...), nil },
	}
}

func fromString(_ *FieldInfo, v any) (string, bool, error) {
	s, ok := v.(string)
	return s, ok, nil
}

func writeString(b []byte, s string, _ *[]string) ([]byte, error) { return appendString(b, s), nil }

var (
	stringCodec = fieldCodec[string]{want: "a string", from: fromString, write: writeString,
		check: func(f *FieldInfo, s string, _ *checker) error { return checkString(f.Name, s) }}
	countryCodec = fieldCodec[string]{want: "a string", from: fromString, write: writeString,
		check: func(f *FieldInfo, s string, _ *checker) error {
			if !IsCountryCode(s) {
				return bad(f.Name, "%q is not an ISO-3166-1 alpha-2 code", s)
			}
			return nil
		}}
	languageCodec = fieldCodec[string]{want: "a string", from: fromString, write: writeString,
		check: func(f *FieldInfo, s string, _ *checker) error {
			if !IsLanguageCode(s) {
				return bad(f.Name, "%q is not an ISO-639-1 code", s)
			}
			return nil
		}}
	timeZoneCodec = fieldCodec[string]{want: "a string", from: fromString, write: writeString,
		check: func(f *FieldInfo, s string, k *checker) error {
			if !k.timeZone(s) {
				return bad(f.Name, "%q is not an IANA time zone name", s)
			}
			return nil
		}}
	boolCodec = fieldCodec[bool]{want: "a bool",
		from: func(_ *FieldInfo, v any) (bool, bool, error) {
			b, ok := v.(bool)
			return b, ok, nil
		},
		write: func(b []byte, v bool, _ *[]string) ([]byte, error) { return strconv.AppendBool(b, v), nil }}
	timeCodec = fieldCodec[time.Time]{want: "a time.Time",
		from: func(f *FieldInfo, v any) (time.Time, bool, error) {
			switch x := v.(type) {
			case time.Time:
				return x, true, nil
			case Date:
				if !x.IsValid() {
					return time.Time{}, true, &ValidationError{Field: f.Name, Reason: "not a real calendar date"}
				}
				return time.Date(x.Year, x.Month, x.Day, 0, 0, 0, 0, time.UTC), true, nil
			}
			return time.Time{}, false, nil
		},
		write: func(b []byte, t time.Time, _ *[]string) ([]byte, error) { return appendTime(b, t), nil },
		check: func(f *FieldInfo, t time.Time, _ *checker) error {
			if t.IsZero() || t.Year() < 0 || t.Year() > 3000 {
				return bad(f.Name, "time %s is outside years 0-3000", t.Format(time.RFC3339))
			}
			return nil
		}}
	dateCodec = fieldCodec[Date]{want: "a braze.Date",
		from: func(f *FieldInfo, v any) (Date, bool, error) {
			switch x := v.(type) {
			case Date:
				return x, true, nil
			case string:
				d, err := ParseDate(x)
				if err != nil {
					return Date{}, true, &ValidationError{Field: f.Name, Reason: fmt.Sprintf("%q is not a YYYY-MM-DD calendar date", x)}
				}
				return d, true, nil
			}
			return Date{}, false, nil
		},
		write: func(b []byte, d Date, _ *[]string) ([]byte, error) {
			if !d.IsValid() {
				return b, fmt.Errorf("%s is not a real calendar date", d)
			}
			b = append(b, '"')
			b = append(b, d.String()...)
			return append(b, '"'), nil
		},
		check: func(f *FieldInfo, d Date, _ *checker) error {
			if !d.IsValid() {
				return bad(f.Name, "%s is not a real calendar date", d)
			}
			return nil
		}}
	locationCodec = fieldCodec[Location]{want: "a braze.Location",
		from: func(f *FieldInfo, v any) (Location, bool, error) {
			switch x := v.(type) {
			case Location:
				return x, true, nil
			case map[string]any:
				lat, ok1 := toFloat(x["latitude"])
				lon, ok2 := toFloat(x["longitude"])
				if !ok1 || !ok2 || len(x) != 2 {
					return Location{}, true, &ValidationError{Field: f.Name, Reason: "want an object with numeric latitude and longitude only"}
				}
				return Location{Latitude: lat, Longitude: lon}, true, nil
			}
			return Location{}, false, nil
		},
		write: appendLocation,
		check: func(f *FieldInfo, l Location, _ *checker) error {
			if l.Latitude < -90 || l.Latitude > 90 || l.Longitude < -180 || l.Longitude > 180 {
				return bad(f.Name, "latitude %v, longitude %v is not a point on Earth", l.Latitude, l.Longitude)
			}
			return nil
		}}
	facebookCodec = fieldCodec[Facebook]{want: "a braze.Facebook",
		from: func(f *FieldInfo, v any) (Facebook, bool, error) {
			switch x := v.(type) {
			case Facebook:
				return x, true, nil
			case map[string]any:
				fb, err := facebookFromMap(x)
				if err != nil {
					return fb, true, &ValidationError{Field: f.Name, Reason: err.Error()}
				}
				return fb, true, nil
			}
			return Facebook{}, false, nil
		},
		write: appendFacebook}
	twitterCodec = fieldCodec[Twitter]{want: "a braze.Twitter",
		from: func(f *FieldInfo, v any) (Twitter, bool, error) {
			switch x := v.(type) {
			case Twitter:
				return x, true, nil
			case map[string]any:
				tw, err := twitterFromMap(x)
				if err != nil {
					return tw, true, &ValidationError{Field: f.Name, Reason: err.Error()}
				}
				return tw, true, nil
			}
			return Twitter{}, false, nil
		},
		write: appendTwitter}
	pushTokensCodec = fieldCodec[[]PushToken]{want: "[]braze.PushToken",
		from: func(f *FieldInfo, v any) ([]PushToken, bool, error) {
			switch x := v.(type) {
			case []PushToken:
				return slices.Clone(x), true, nil
			case []any:
				return objectItems(f.Name, x, func(m map[string]any) (PushToken, error) {
					var pt PushToken
					err := stringMembers(m, map[string]*string{"app_id": &pt.AppID, "token": &pt.Token, "device_id": &pt.DeviceID})
					return pt, err
				})
			}
			return nil, false, nil
		},
		write: appendPushTokens,
		check: func(f *FieldInfo, pts []PushToken, _ *checker) error {
			for i, pt := range pts {
				if pt.AppID == "" || pt.Token == "" {
					return bad(f.Name, "item %d needs app_id and token", i)
				}
			}
			return nil
		}}
	subscriptionGroupsCodec = fieldCodec[[]SubscriptionGroupState]{want: "[]braze.SubscriptionGroupState",
		from: func(f *FieldInfo, v any) ([]SubscriptionGroupState, bool, error) {
			switch x := v.(type) {
			case []SubscriptionGroupState:
				return slices.Clone(x), true, nil
			case []any:
				return objectItems(f.Name, x, func(m map[string]any) (SubscriptionGroupState, error) {
					var id, st string
					err := stringMembers(m, map[string]*string{"subscription_group_id": &id, "subscription_state": &st})
					return SubscriptionGroupState{GroupID: id, State: GroupState(st)}, err
				})
			}
			return nil, false, nil
		},
		write: appendSubscriptionGroups,
		check: func(f *FieldInfo, sgs []SubscriptionGroupState, _ *checker) error {
			for i, sg := range sgs {
				if sg.GroupID == "" {
					return bad(f.Name, "item %d has no subscription_group_id", i)
				}
				if sg.State != GroupSubscribed && sg.State != GroupUnsubscribed {
					return bad(f.Name, "item %d: %q is not subscribed or unsubscribed", i, string(sg.State))
				}
			}
			return nil
		}}
)

// enumCodec is the codec of a string enum field: it takes a T or a string,
// and checks the value against the entry's Values.
func enumCodec[T ~string](want string) fieldCodec[T] {
	return fieldCodec[T]{want: want,
		from: func(_ *FieldInfo, v any) (T, bool, error) {
			switch x := v.(type) {
			case T:
				return x, true, nil
			case string:
				return T(x), true, nil
			}
			return "", false, nil
		},
		write: func(b []byte, v T, _ *[]string) ([]byte, error) { return appendString(b, string(v)), nil },
		check: func(f *FieldInfo, v T, _ *checker) error {
			if slices.Contains(f.Values, string(v)) {
				return nil
			}
			orNull := ""
			if f.Nullable {
				orNull = " (or null)"
			}
			return bad(f.Name, "%q is not one of %s%s", string(v), strings.Join(f.Values, ", "), orNull)
		}}
}

// objectItems converts the []any of maps of an object-array field.
func objectItems[T any](name string, items []any, conv func(map[string]any) (T, error)) ([]T, bool, error) {
	out := make([]T, 0, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, true, &ValidationError{Field: name, Reason: fmt.Sprintf("item %d is %s, want an object", i, typeName(it))}
		}
		t, err := conv(m)
		if err != nil {
			return nil, true, &ValidationError{Field: name, Reason: fmt.Sprintf("item %d: %v", i, err)}
		}
		out = append(out, t)
	}
	return out, true, nil
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
