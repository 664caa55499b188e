package brazetest

import (
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	// The zone database is embedded so that time_zone checks give the same
	// answer on hosts without one (minimal CI containers).
	_ "time/tzdata"
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

// idKind is the identifier an object is resolved by.
type idKind uint8

const (
	idExternal idKind = iota + 1
	idBraze
	idAlias
	idEmail
	idPhone
	idPushImport
)

func (k idKind) String() string {
	return [...]string{"", "external_id", "braze_id", "user_alias", "email", "phone", "push_token_import"}[k]
}

// identity says which profile an object targets and whether it may create
// one.
type identity struct {
	kind       idKind
	value      string // external_id, braze_id, email or phone
	alias      Alias
	updateOnly bool
}

// identify reads an object's identifier: its one primary identifier
// (external_id, braze_id or user_alias; two are refused, as Braze does),
// or else email, then phone (email wins over phone, as Braze documents).
func identify(obj *jv) (identity, string) {
	var id identity
	explicit, hasFlag := false, false
	if f, ok := obj.get("_update_existing_only"); ok && f.k != kNull {
		if f.k != kBool {
			return id, notValid("_update_existing_only")
		}
		explicit, hasFlag = f.b, true
	}
	if v, ok := obj.get("push_token_import"); ok && v.k == kBool && v.b {
		if _, ok := obj.get("external_id"); ok {
			return id, notValid("push_token_import")
		}
		if _, ok := obj.get("braze_id"); ok {
			return id, notValid("push_token_import")
		}
		if t, ok := obj.get("push_tokens"); !ok || t.k != kArray || len(t.o) == 0 {
			return id, required("push_tokens")
		}
		return identity{kind: idPushImport}, ""
	}
	primaries := 0
	for _, k := range [...]string{"external_id", "braze_id", "user_alias"} {
		if has(obj, k) {
			primaries++
		}
	}
	if primaries > 1 {
		return id, MsgMultiplePrimaryIdentifiers
	}
	switch {
	case has(obj, "external_id"):
		v, _ := obj.get("external_id")
		if v.k != kString || v.s == "" || utf8.RuneCountInString(v.s) > maxStringLen {
			return id, notValid("external_id")
		}
		id = identity{kind: idExternal, value: v.s}
	case has(obj, "braze_id"):
		v, _ := obj.get("braze_id")
		if v.k != kString || v.s == "" {
			return id, notValid("braze_id")
		}
		id = identity{kind: idBraze, value: v.s, updateOnly: true}
	case has(obj, "user_alias"):
		v, _ := obj.get("user_alias")
		name, _ := v.get("alias_name")
		label, _ := v.get("alias_label")
		if v.k != kObject || name == nil || label == nil || name.k != kString || label.k != kString || name.s == "" || label.s == "" {
			return id, notValid("user_alias")
		}
		// Objects identified by an alias are update-only unless the flag is
		// explicitly false.
		id = identity{kind: idAlias, alias: Alias{Name: name.s, Label: label.s}, updateOnly: !hasFlag || explicit}
		return id, ""
	case has(obj, "email"):
		v, _ := obj.get("email")
		if v.k != kString || !validEmail(v.s) {
			return id, notValid("email")
		}
		id = identity{kind: idEmail, value: v.s}
	case has(obj, "phone"):
		v, _ := obj.get("phone")
		if v.k != kString || !validPhone(v.s) {
			return id, notValid("phone")
		}
		id = identity{kind: idPhone, value: v.s}
	default:
		return id, MsgIdentifierRequired
	}
	if hasFlag {
		id.updateOnly = id.updateOnly || explicit
	}
	return id, ""
}

func has(obj *jv, key string) bool {
	v, ok := obj.get(key)
	return ok && v.k != kNull
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && utf8.RuneCountInString(s) <= maxStringLen && !strings.ContainsAny(s, " \t\r\n")
}

// validPhone accepts what Braze can use: digits with optional +, spaces,
// dots, dashes and parentheses, 7 to 15 digits (E.164 is recommended).
func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

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

// eventProperties validates the properties of an event or purchase.
func validProperties(props *jv, maxBytes int) bool {
	if props.k == kNull {
		return true
	}
	if props.k != kObject {
		return false
	}
	nested := 0
	for i := range props.o {
		k := props.o[i].key
		if k == "" || utf8.RuneCountInString(k) > maxStringLen || k[0] == '$' || k == "time" || k == "event_name" {
			return false
		}
		val := &props.o[i].val
		switch val.k {
		case kString:
			if utf8.RuneCountInString(val.s) > maxStringLen {
				return false
			}
		case kArray, kObject:
			nested += len(val.s)
		}
	}
	return nested <= maxBytes
}

// event validates an event object beyond its identifier.
func validateEvent(obj *jv) string {
	name, ok := obj.get("name")
	if !ok || name.k == kNull {
		return required("name")
	}
	if name.k != kString || name.s == "" || utf8.RuneCountInString(name.s) > maxStringLen {
		return notValid("name")
	}
	if msg := validateTime(obj); msg != "" {
		return msg
	}
	if app, ok := obj.get("app_id"); ok && app.k != kNull && app.k != kString {
		return notValid("app_id")
	}
	if props, ok := obj.get("properties"); ok && !validProperties(props, maxNestedBytes) {
		return notValid("properties")
	}
	return ""
}

// validatePurchase validates a purchase object beyond its identifier.
func validatePurchase(obj *jv) string {
	pid, ok := obj.get("product_id")
	if !ok || pid.k == kNull {
		return required("product_id")
	}
	if pid.k != kString || pid.s == "" || utf8.RuneCountInString(pid.s) > maxStringLen {
		return notValid("product_id")
	}
	cur, ok := obj.get("currency")
	if !ok || cur.k == kNull {
		return required("currency")
	}
	if cur.k != kString || !currencySet[cur.s] {
		return notValid("currency")
	}
	price, ok := obj.get("price")
	if !ok || price.k == kNull {
		return required("price")
	}
	if price.k != kNumber {
		return notValid("price")
	}
	if q, ok := obj.get("quantity"); ok && q.k != kNull {
		if !isInteger(q) {
			return notValid("quantity")
		}
		n, ok := numberValue(q.s).(int64)
		if !ok || n < 1 || n > maxQuantity {
			return notValid("quantity")
		}
	}
	if msg := validateTime(obj); msg != "" {
		return msg
	}
	if app, ok := obj.get("app_id"); ok && app.k != kNull && app.k != kString {
		return notValid("app_id")
	}
	if props, ok := obj.get("properties"); ok && !validProperties(props, maxPurchasePropsB) {
		return notValid("properties")
	}
	return ""
}

func validateTime(obj *jv) string {
	t, ok := obj.get("time")
	if !ok || t.k == kNull {
		return required("time")
	}
	if t.k != kString {
		return notValid("time")
	}
	if _, ok := parseBrazeTime(t.s); !ok {
		return notValid("time")
	}
	return ""
}

// Code sets, built once from the generated lists and never modified.
var (
	countrySet  = codeSet(countryCodes)
	languageSet = codeSet(languageCodes)
	currencySet = codeSet(currencyCodes)
)

func codeSet(codes string) map[string]bool {
	set := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		set[c] = true
	}
	return set
}

// validDOB reports whether s is exactly YYYY-MM-DD and a calendar date.
func validDOB(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return false
	}
	// Day 0 of the next month is the last day of this one.
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// brazeTimeLayouts are the date forms Braze accepts for event and purchase
// times and date attributes: ISO-8601 and the patterns the Attributes
// object page lists, written as Go layouts.
var brazeTimeLayouts = [...]string{
	time.RFC3339Nano, // 2013-07-16T19:20:45.123+01:00 and without fraction
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999", // yyyy-MM-ddTHH:mm:ss (zone-less: UTC)
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05", // yyyy-MM-dd HH:mm:ss
	"2006-01-02",          // yyyy-MM-dd
	"01/02/2006",          // MM/dd/yyyy
	"1/2/2006",
	time.UnixDate, // Tue Jul 16 19:20:30 UTC 2013
	time.RubyDate,
}

// parseBrazeTime parses s in one of the forms Braze accepts. Times without a
// zone are taken as UTC, as Braze does.
func parseBrazeTime(s string) (time.Time, bool) {
	// yyyy-MM-ddTHH:mm:ss:SSSZ writes the milliseconds after a colon, which
	// Go layouts cannot express: read it as a decimal point.
	if len(s) > 20 && s[10] == 'T' && s[19] == ':' {
		s = s[:19] + "." + s[20:]
	}
	for _, layout := range brazeTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// validZone reports whether name is an IANA time zone; results are cached
// because time.LoadLocation reads the zone database each time.
func (v *validator) validZone(name string) bool {
	if ok, hit := v.zones.Load(name); hit {
		return ok.(bool)
	}
	_, err := time.LoadLocation(name)
	ok := err == nil && name != "" && name != "Local"
	v.zones.Store(strings.Clone(name), ok)
	return ok
}
