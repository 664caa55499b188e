package braze

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/ampbraze/ampbraze/internal/jsonenc"
)

// The encoder writes request JSON by hand: it is the hot path of the
// sender, and a fixed field order makes golden files stable.

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// in encoding/json.
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s, false) }

func appendKey(b []byte, first *bool, key string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = appendString(b, key)
	return append(b, ':')
}

// timeLayout is ISO-8601 in UTC with the fraction only when non-zero.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%v is not a JSON number", f)
	}
	// Like encoding/json: plain notation for ordinary magnitudes.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64), nil
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[i] == '-' {
		i++
		if i == len(s) {
			return false
		}
	}
	switch {
	case s[i] == '0':
		i++
	case s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

// valueMode selects how dates are written: at the top of an attributes
// object a time is a plain ISO-8601 string, inside a nested custom object
// Braze needs {"$time": "..."}.
type valueMode uint8

const (
	modeTop valueMode = iota
	modeNested
)

// appendValue appends a value-model value. keys is scratch space for sorting
// map keys.
func appendValue(b []byte, v any, mode valueMode, keys *[]string) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		return appendFloat(b, x)
	case json.Number:
		if !validNumber(string(x)) {
			return b, fmt.Errorf("%q is not a JSON number", string(x))
		}
		return append(b, x...), nil
	case string:
		return appendString(b, x), nil
	case time.Time:
		if mode == modeNested {
			b = append(b, `{"$time":`...)
			b = appendTime(b, x)
			return append(b, '}'), nil
		}
		return appendTime(b, x), nil
	case Date:
		if !x.IsValid() {
			return b, fmt.Errorf("invalid date %s", x)
		}
		if mode == modeNested {
			b = append(b, `{"$time":"`...)
			b = append(b, x.String()...)
			return append(b, `"}`...), nil
		}
		b = append(b, '"')
		b = append(b, x.String()...)
		return append(b, '"'), nil
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	case map[string]any:
		return appendObject(b, x, keys)
	case []any:
		b = append(b, '[')
		for i, it := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, it, modeNested, keys); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case Increment:
		b = append(b, `{"inc":`...)
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, '}'), nil
	case ArrayUpdate:
		first := true
		b = append(b, '{')
		if x.Add != nil {
			b = appendKey(b, &first, "add")
			b, _ = appendValue(b, x.Add, modeTop, keys)
		}
		if x.Remove != nil {
			b = appendKey(b, &first, "remove")
			b, _ = appendValue(b, x.Remove, modeTop, keys)
		}
		return append(b, '}'), nil
	case ObjectArrayUpdate:
		return appendObjectArrayUpdate(b, x, keys)
	}
	return b, fmt.Errorf("unsupported value type %s", typeName(v))
}

func appendObject(b []byte, m map[string]any, keys *[]string) ([]byte, error) {
	// Sort keys for stable output; the scratch slice is shared across
	// nesting levels, so take a private window of it.
	start := len(*keys)
	for k := range m {
		*keys = append(*keys, k)
	}
	ks := (*keys)[start:]
	slices.Sort(ks)
	b = append(b, '{')
	var err error
	for i := range ks {
		k := (*keys)[start+i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, m[k], modeNested, keys); err != nil {
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

func appendObjectArrayUpdate(b []byte, u ObjectArrayUpdate, keys *[]string) ([]byte, error) {
	first := true
	var err error
	b = append(b, '{')
	if u.Add != nil {
		b = appendKey(b, &first, "$add")
		b = append(b, '[')
		for i, m := range u.Add {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendObject(b, m, keys); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	if u.Remove != nil {
		b = appendKey(b, &first, "$remove")
		b = append(b, '[')
		for i, r := range u.Remove {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendIdentifier(b, r.Key, r.Value, keys); err != nil {
				return b, err
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if u.Update != nil {
		b = appendKey(b, &first, "$update")
		b = append(b, '[')
		for i, r := range u.Update {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendIdentifier(b, r.Key, r.Value, keys); err != nil {
				return b, err
			}
			b = append(b, `,"$new_object":`...)
			if b, err = appendObject(b, r.NewObject, keys); err != nil {
				return b, err
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendIdentifier opens the object that names an element of an array of
// objects for $remove and $update; the caller closes it.
func appendIdentifier(b []byte, key string, value any, keys *[]string) ([]byte, error) {
	b = append(b, `{"$identifier_key":`...)
	b = appendString(b, key)
	b = append(b, `,"$identifier_value":`...)
	return appendValue(b, value, modeNested, keys)
}

// appendJSON appends the attributes object: the catalog's keys in table
// order (fields.go), then the custom attributes by name. keys is scratch
// space.
func (a *UserAttributes) appendJSON(b []byte, keys *[]string) ([]byte, error) {
	first := true
	var err error
	b = append(b, '{')
	for i := range attrFields {
		f := &attrFields[i]
		if f.state != 0 {
			// Inline, without a call: most fields of an object are unset.
			st := f.stateOf(a)
			if st == fieldUnset {
				continue
			}
			b = appendKey(b, &first, f.Name)
			if st == fieldNull {
				b = append(b, "null"...)
				continue
			}
		} else {
			if !f.present(a) {
				continue
			}
			b = appendKey(b, &first, f.Name)
		}
		// The plain kinds are read at their offset, without a call.
		p := unsafe.Add(unsafe.Pointer(a), f.value)
		switch f.wire {
		case wireString:
			b = appendString(b, *(*string)(p))
			continue
		case wireBool:
			b = strconv.AppendBool(b, *(*bool)(p))
			continue
		case wireTime:
			b = appendTime(b, *(*time.Time)(p))
			continue
		}
		if b, err = f.write(b, a, keys); err != nil {
			if _, ok := err.(*ValidationError); ok {
				return b, err
			}
			return b, &ValidationError{Field: f.Name, Reason: err.Error()}
		}
	}
	if len(a.custom) > 0 {
		start := len(*keys)
		for k := range a.custom {
			*keys = append(*keys, k)
		}
		ks := (*keys)[start:]
		slices.Sort(ks)
		for i := range ks {
			k := (*keys)[start+i]
			b = appendKey(b, &first, k)
			if b, err = appendValue(b, a.custom[k], modeTop, keys); err != nil {
				err = &ValidationError{Field: k, Reason: err.Error()}
				break
			}
		}
		clear((*keys)[start:])
		*keys = (*keys)[:start]
		if err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendAlias(b []byte, a *UserAlias) []byte {
	b = append(b, `{"alias_name":`...)
	b = appendString(b, a.Name)
	b = append(b, `,"alias_label":`...)
	b = appendString(b, a.Label)
	return append(b, '}')
}

func appendLocation(b []byte, l Location, _ *[]string) ([]byte, error) {
	var err error
	b = append(b, `{"longitude":`...)
	if b, err = appendFloat(b, l.Longitude); err != nil {
		return b, err
	}
	b = append(b, `,"latitude":`...)
	if b, err = appendFloat(b, l.Latitude); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func appendFacebook(b []byte, fb Facebook, keys *[]string) ([]byte, error) {
	f := true
	b = append(b, '{')
	if fb.ID != "" {
		b = appendKey(b, &f, "id")
		b = appendString(b, fb.ID)
	}
	if fb.Likes != nil {
		b = appendKey(b, &f, "likes")
		b, _ = appendValue(b, fb.Likes, modeTop, keys)
	}
	if fb.NumFriends != 0 {
		b = appendKey(b, &f, "num_friends")
		b = strconv.AppendInt(b, fb.NumFriends, 10)
	}
	return append(b, '}'), nil
}

func appendTwitter(b []byte, tw Twitter, _ *[]string) ([]byte, error) {
	f := true
	b = append(b, '{')
	if tw.ID != 0 {
		b = appendKey(b, &f, "id")
		b = strconv.AppendInt(b, tw.ID, 10)
	}
	if tw.ScreenName != "" {
		b = appendKey(b, &f, "screen_name")
		b = appendString(b, tw.ScreenName)
	}
	for _, m := range [...]struct {
		key string
		n   int64
	}{{"followers_count", tw.FollowersCount}, {"friends_count", tw.FriendsCount}, {"statuses_count", tw.StatusesCount}} {
		if m.n != 0 {
			b = appendKey(b, &f, m.key)
			b = strconv.AppendInt(b, m.n, 10)
		}
	}
	return append(b, '}'), nil
}

func appendPushTokens(b []byte, pts []PushToken, _ *[]string) ([]byte, error) {
	b = append(b, '[')
	for i, pt := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"app_id":`...)
		b = appendString(b, pt.AppID)
		b = append(b, `,"token":`...)
		b = appendString(b, pt.Token)
		if pt.DeviceID != "" {
			b = append(b, `,"device_id":`...)
			b = appendString(b, pt.DeviceID)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

func appendSubscriptionGroups(b []byte, sgs []SubscriptionGroupState, _ *[]string) ([]byte, error) {
	b = append(b, '[')
	for i, sg := range sgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"subscription_group_id":`...)
		b = appendString(b, sg.GroupID)
		b = append(b, `,"subscription_state":`...)
		b = appendString(b, string(sg.State))
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// MarshalJSON encodes the attributes object exactly as sent to Braze.
func (a *UserAttributes) MarshalJSON() ([]byte, error) {
	var keys []string
	return a.appendJSON(make([]byte, 0, 256), &keys)
}

func sortStrings(s []string) { slices.Sort(s) }
