package brazetest

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// Messages Braze sends, quoted exactly where the reference records them.
const (
	// MsgNoValidData is the 400 message for a request with no valid object.
	MsgNoValidData = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
	// MsgMaxInputLength is the 400 message for a request over the object cap.
	MsgMaxInputLength = "Max Input Length Exceeded"
	// MsgIdentifierRequired is the per-object error type for an object
	// without any identifier.
	MsgIdentifierRequired = "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
	// MsgInvalidJSON is the 400 message for a body that is not JSON. Braze's
	// exact wording is not documented.
	MsgInvalidJSON = "Invalid JSON in request body"
	// MsgMultiplePrimaryIdentifiers is the per-object error type for an
	// object with more than one primary identifier, which Braze rejects
	// (its exact wording is not documented).
	MsgMultiplePrimaryIdentifiers = "only one of 'external_id', 'braze_id' or 'user_alias' may be given"
	// MsgConflictingIdentifiers is the 400 message WithRejectMixedIdentifiers
	// produces (Amperity's remediation name; Braze's text is not documented).
	MsgConflictingIdentifiers = "Conflicting user identifiers"
)

// notValid is the per-object error type for a field with a bad value, in the
// form Braze uses ("'quantity' is not valid").
func notValid(field string) string { return "'" + field + "' is not valid" }

// required is the per-object error type for a missing required field.
func required(field string) string { return "'" + field + "' is required" }

const (
	maxStringLen      = 255
	maxNestedBytes    = 100 << 10 // nested object, array of objects, event properties
	maxPurchasePropsB = 50 << 10
	maxQuantity       = 100
)

// verdict is the outcome of validating one attribute of an attributes
// object.
type verdict uint8

const (
	attrOK         verdict = iota
	attrReject             // the whole object is rejected (errors[] entry)
	attrNestedBad          // an invalid nested value: nested updates are dropped
	attrIgnore             // accepted but not stored (bio, a bad time_zone)
	attrStoreNull          // stored as null: an unmappable country
	attrControlKey         // identifier or flag, not an attribute
)

// validator holds what validation needs from the server configuration.
type validator struct {
	zones *sync.Map // time zone name -> bool, shared per server
}

// attribute validates one member of an attributes object. It returns the
// verdict and, for attrReject, the error type.
func (v *validator) attribute(key string, val *jv) (verdict, string) {
	switch key {
	case "external_id", "braze_id", "user_alias", "_update_existing_only", "_merge_objects", "push_token_import":
		if key == "_merge_objects" && val.k != kBool && val.k != kNull {
			return attrReject, notValid(key)
		}
		return attrControlKey, ""
	case "first_name", "last_name", "home_city", "image_url", "alias_name", "alias_label":
		return stringField(key, val)
	case "email":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString || !validEmail(val.s) {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "phone":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString || !validPhone(val.s) {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "dob":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString || !validDOB(val.s) {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "gender":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString || len(val.s) != 1 || !strings.Contains("MFONP", val.s) {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "email_subscribe", "push_subscribe":
		if val.k != kString || (val.s != "opted_in" && val.s != "unsubscribed" && val.s != "subscribed") {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "country":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString {
			return attrReject, notValid(key)
		}
		if !countrySet[strings.ToUpper(val.s)] {
			// Braze maps what it can and stores the rest as null.
			return attrStoreNull, ""
		}
		return attrOK, ""
	case "language":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString || !languageSet[val.s] {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "time_zone":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString {
			return attrReject, notValid(key)
		}
		if !v.validZone(val.s) {
			return attrIgnore, "" // Braze silently does not set it
		}
		return attrOK, ""
	case "date_of_first_session", "date_of_last_session", "marked_email_as_spam_at":
		if val.k == kNull {
			return attrOK, ""
		}
		if val.k != kString {
			return attrReject, notValid(key)
		}
		if _, ok := parseBrazeTime(val.s); !ok {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "email_open_tracking_disabled", "email_click_tracking_disabled":
		if val.k != kBool {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "current_location":
		if val.k == kNull {
			return attrOK, ""
		}
		lon, ok1 := val.get("longitude")
		lat, ok2 := val.get("latitude")
		if val.k != kObject || !ok1 || !ok2 || lon.k != kNumber || lat.k != kNumber {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case "facebook":
		return socialField(key, val, map[string]func(*jv) bool{
			"id": isString, "likes": isStringArray, "num_friends": isInteger,
		})
	case "twitter":
		return socialField(key, val, map[string]func(*jv) bool{
			"id": isInteger, "screen_name": isString, "followers_count": isInteger,
			"friends_count": isInteger, "statuses_count": isInteger,
		})
	case "push_tokens":
		if val.k != kArray {
			return attrReject, notValid(key)
		}
		for i := range val.o {
			t := &val.o[i].val
			app, _ := t.get("app_id")
			tok, _ := t.get("token")
			if t.k != kObject || app == nil || tok == nil || !isString(app) || !isString(tok) || tok.s == "" {
				return attrReject, notValid(key)
			}
		}
		return attrOK, ""
	case "subscription_groups":
		if val.k != kArray {
			return attrReject, notValid(key)
		}
		for i := range val.o {
			g := &val.o[i].val
			id, _ := g.get("subscription_group_id")
			st, _ := g.get("subscription_state")
			if g.k != kObject || id == nil || st == nil || !isString(id) || id.s == "" || st.k != kString ||
				(st.s != "subscribed" && st.s != "unsubscribed") {
				return attrReject, notValid(key)
			}
		}
		return attrOK, ""
	case "bio":
		return attrIgnore, "" // removed; not processed as a custom attribute either
	}
	return v.custom(key, val)
}

func stringField(key string, val *jv) (verdict, string) {
	if val.k == kNull {
		return attrOK, ""
	}
	if val.k != kString || utf8.RuneCountInString(val.s) > maxStringLen {
		return attrReject, notValid(key)
	}
	return attrOK, ""
}

func socialField(key string, val *jv, fields map[string]func(*jv) bool) (verdict, string) {
	if val.k == kNull {
		return attrOK, ""
	}
	if val.k != kObject {
		return attrReject, notValid(key)
	}
	for i := range val.o {
		check, ok := fields[val.o[i].key]
		if !ok || !check(&val.o[i].val) {
			return attrReject, notValid(key + "." + val.o[i].key)
		}
	}
	return attrOK, ""
}

func isString(v *jv) bool  { return v.k == kString && utf8.RuneCountInString(v.s) <= maxStringLen }
func isInteger(v *jv) bool { return v.k == kNumber && isIntLiteral(v.s) }
func isStringArray(v *jv) bool {
	if v.k != kArray {
		return false
	}
	for i := range v.o {
		if !isString(&v.o[i].val) {
			return false
		}
	}
	return true
}

// opKind classifies an object value of a custom attribute.
type opKind uint8

const (
	opNested    opKind = iota // a nested object to set or merge
	opInc                     // {"inc": n}
	opArray                   // {"add": [...], "remove": [...]}
	opObjArray                // {"$add": ..., "$remove": ..., "$update": ...}
	opTimeValue               // {"$time": "..."}
)

func classifyObject(val *jv) opKind {
	if len(val.o) == 0 {
		return opNested
	}
	inc, arr, objArr, tm := 0, 0, 0, 0
	for i := range val.o {
		switch val.o[i].key {
		case "inc":
			inc++
		case "add", "remove":
			arr++
		case "$add", "$remove", "$update":
			objArr++
		case "$time":
			tm++
		}
	}
	n := len(val.o)
	switch {
	case inc == n:
		return opInc
	case arr == n:
		return opArray
	case objArr == n:
		return opObjArray
	case tm == n:
		return opTimeValue
	}
	return opNested
}

// custom validates a custom attribute.
func (v *validator) custom(key string, val *jv) (verdict, string) {
	if key == "" || utf8.RuneCountInString(key) > maxStringLen || key[0] == '$' {
		return attrReject, notValid(key)
	}
	switch val.k {
	case kNull, kBool, kNumber:
		return attrOK, ""
	case kString:
		if utf8.RuneCountInString(val.s) > maxStringLen {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	case kArray:
		if len(val.o) == 0 {
			return attrOK, ""
		}
		if val.o[0].val.k == kObject {
			if len(val.s) > maxNestedBytes {
				return attrNestedBad, ""
			}
			for i := range val.o {
				if val.o[i].val.k != kObject {
					return attrReject, notValid(key)
				}
				if !validNested(&val.o[i].val) {
					return attrNestedBad, ""
				}
			}
			return attrOK, ""
		}
		if !isStringArray(val) {
			return attrReject, notValid(key)
		}
		return attrOK, ""
	}
	// An object: an operation or a nested attribute.
	switch classifyObject(val) {
	case opInc:
		n, _ := val.get("inc")
		if !isInteger(n) {
			return attrReject, notValid(key)
		}
	case opArray:
		for i := range val.o {
			if !isStringArray(&val.o[i].val) {
				return attrReject, notValid(key)
			}
		}
	case opTimeValue:
		t, _ := val.get("$time")
		if t.k != kString {
			return attrReject, notValid(key)
		}
		if _, ok := parseBrazeTime(t.s); !ok {
			return attrReject, notValid(key)
		}
	case opObjArray:
		for i := range val.o {
			m := &val.o[i]
			if m.val.k != kArray {
				return attrReject, notValid(key)
			}
			for j := range m.val.o {
				item := &m.val.o[j].val
				if item.k != kObject {
					return attrReject, notValid(key)
				}
				switch m.key {
				case "$add":
					if !validNested(item) {
						return attrNestedBad, ""
					}
				case "$remove", "$update":
					ik, _ := item.get("$identifier_key")
					iv, _ := item.get("$identifier_value")
					if ik == nil || iv == nil || ik.k != kString || ik.s == "" || iv.k == kArray || iv.k == kObject {
						return attrReject, notValid(key)
					}
					if m.key == "$update" {
						no, _ := item.get("$new_object")
						if no == nil || no.k != kObject {
							return attrReject, notValid(key)
						}
						if !validNested(no) {
							return attrNestedBad, ""
						}
					}
				}
			}
		}
		if len(val.s) > maxNestedBytes {
			return attrNestedBad, ""
		}
	case opNested:
		if len(val.s) > maxNestedBytes || !validNested(val) {
			return attrNestedBad, ""
		}
	}
	return attrOK, ""
}

// validNested checks a nested object: keys without '.', '$' or spaces and at
// most 255 characters, no nulls, strings at most 255 characters, dates only
// as a valid {"$time": ...}.
func validNested(v *jv) bool {
	switch v.k {
	case kNull:
		return false
	case kString:
		return utf8.RuneCountInString(v.s) <= maxStringLen
	case kArray:
		for i := range v.o {
			if !validNested(&v.o[i].val) {
				return false
			}
		}
	case kObject:
		if len(v.o) == 1 && v.o[0].key == "$time" {
			t := &v.o[0].val
			if t.k != kString {
				return false
			}
			tm, ok := parseBrazeTime(t.s)
			return ok && tm.Year() >= 0 && tm.Year() <= 3000
		}
		for i := range v.o {
			k := v.o[i].key
			if k == "" || utf8.RuneCountInString(k) > maxStringLen || strings.ContainsAny(k, ".$ ") {
				return false
			}
			if !validNested(&v.o[i].val) {
				return false
			}
		}
	}
	return true
}
