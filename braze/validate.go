package braze

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits checked before sending, from Braze's documentation.
const (
	maxStringLen     = 255     // keys and string values
	maxNestedBytes   = 100_000 // one nested object or array of objects
	maxEventPropSize = 100_000 // event properties holding arrays or objects
	maxPurchPropSize = 50_000  // purchase properties holding arrays or objects
	maxQuantity      = 100
)

// Validate checks the object against Braze's documented rules with the
// default limits: an identifier (at most one primary one), a real dob, known enum values, ISO
// country and language codes, an IANA time zone, custom attribute names
// and string lengths, string arrays of at most 25 elements and nested
// objects of at most 100 KB. The error is a *ValidationError naming the
// field.
func (a *UserAttributes) Validate() error { return a.validate(newChecker(DefaultMaxArrayLength)) }

// checkPrimary refuses an object with more than one primary identifier
// (external_id, braze_id, user_alias), which Braze rejects.
func checkPrimary(externalID, brazeID string, alias *UserAlias) error {
	var names []string
	if externalID != "" {
		names = append(names, "external_id")
	}
	if brazeID != "" {
		names = append(names, "braze_id")
	}
	if alias != nil {
		names = append(names, "user_alias")
	}
	if len(names) > 1 {
		return &ValidationError{Field: names[1], Reason: fmt.Sprintf("two primary identifiers (%s): Braze rejects an object with more than one of external_id, braze_id and user_alias", strings.Join(names, ", "))}
	}
	return nil
}

// hasIdentifier reports whether an identifier of the catalog holds a
// value (a null email is no identifier).
func (a *UserAttributes) hasIdentifier() bool {
	for i := range attrFields {
		f := &attrFields[i]
		if f.Identifier {
			if sent, null := f.sent(a); sent && !null {
				return true
			}
		}
	}
	return false
}

func bad(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func checkString(field, s string) error {
	if n := utf8.RuneCountInString(s); n > maxStringLen {
		return bad(field, "string of %d characters is over the %d-character limit", n, maxStringLen)
	}
	return nil
}

func (a *UserAttributes) validate(k *checker) error {
	if a.PushTokenImport {
		if a.ExternalID != "" || a.BrazeID != "" {
			return bad("push_token_import", "external_id and braze_id must be left out when importing push tokens")
		}
		if pts, _ := a.PushTokens.Get(); len(pts) == 0 {
			return bad("push_tokens", "required when push_token_import is true")
		}
	} else if !a.hasIdentifier() {
		return &ValidationError{Reason: "no identifier: one of external_id, braze_id, user_alias, email or phone is required"}
	}
	if err := checkPrimary(a.ExternalID, a.BrazeID, a.UserAlias); err != nil {
		return err
	}
	for i := range attrFields {
		f := &attrFields[i]
		if f.check == nil {
			continue
		}
		if f.state != 0 {
			if f.stateOf(a) == fieldUnset { // inline, as in appendJSON
				continue
			}
		} else if !f.present(a) {
			continue
		}
		if err := f.check(a, k); err != nil {
			return err
		}
	}
	for name, v := range a.custom {
		if err := validateCustom(name, v, k.maxArray); err != nil {
			return err
		}
	}
	return nil
}

func checkCustomName(name string) error {
	switch {
	case name == "":
		return bad(name, "custom attribute name is empty")
	case utf8.RuneCountInString(name) > maxStringLen:
		return bad(name, "custom attribute name is over %d characters", maxStringLen)
	case name[0] == '$':
		return bad(name, "custom attribute names starting with \"$\" are reserved for operators")
	}
	return nil
}

func validateCustom(name string, v any, maxArray int) error {
	if err := checkCustomName(name); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		return checkString(name, x)
	case float64:
		if _, err := appendFloat(nil, x); err != nil {
			return bad(name, "%v", err)
		}
	case time.Time:
		if x.Year() < 0 || x.Year() > 3000 {
			return bad(name, "time %s is outside years 0-3000", x.Format(time.RFC3339))
		}
	case Date:
		if !x.IsValid() {
			return bad(name, "%s is not a real calendar date", x)
		}
	case json.Number:
		if !validNumber(string(x)) {
			return bad(name, "%q is not a JSON number", string(x))
		}
	case []string:
		if len(x) > maxArray {
			return bad(name, "array of %d elements is over the limit of %d", len(x), maxArray)
		}
		for _, s := range x {
			if err := checkString(name, s); err != nil {
				return err
			}
		}
	case ArrayUpdate:
		if len(x.Add) > maxArray {
			return bad(name, "adding %d elements is over the array limit of %d", len(x.Add), maxArray)
		}
		for _, s := range append(x.Add[:len(x.Add):len(x.Add)], x.Remove...) {
			if err := checkString(name, s); err != nil {
				return err
			}
		}
	case map[string]any:
		return checkNestedSize(name, x)
	case []any:
		return checkNestedSize(name, x)
	case ObjectArrayUpdate:
		for _, m := range x.Add {
			if err := checkNestedKeys(name, m); err != nil {
				return err
			}
		}
		for _, u := range x.Update {
			if err := checkNestedKeys(name, u.NewObject); err != nil {
				return err
			}
		}
		return checkNestedSize(name, x)
	}
	return nil
}

// checkNestedSize checks a nested object or array of objects: keys without
// ".", "$" or spaces, strings within 255 characters, at most 100 KB.
func checkNestedSize(name string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		if err := checkNestedKeys(name, x); err != nil {
			return err
		}
	case []any:
		for _, it := range x {
			if m, ok := it.(map[string]any); ok {
				if err := checkNestedKeys(name, m); err != nil {
					return err
				}
			}
		}
	}
	var keys []string
	b, err := appendValue(nil, v, modeTop, &keys)
	if err != nil {
		return bad(name, "%v", err)
	}
	if len(b) > maxNestedBytes {
		return bad(name, "nested value of %d bytes is over the 100 KB limit", len(b))
	}
	return nil
}

func checkNestedKeys(name string, m map[string]any) error {
	for k, v := range m {
		if k == "" || strings.ContainsAny(k, ".$ ") {
			return bad(name, "nested key %q must be non-empty, without \".\", \"$\" or spaces", k)
		}
		if err := checkString(name, k); err != nil {
			return err
		}
		switch x := v.(type) {
		case string:
			if err := checkString(name+"."+k, x); err != nil {
				return err
			}
		case map[string]any:
			if err := checkNestedKeys(name, x); err != nil {
				return err
			}
		case []any:
			for _, it := range x {
				if mm, ok := it.(map[string]any); ok {
					if err := checkNestedKeys(name, mm); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// tzAvailable reports whether the system has a time zone database; without
// one, time zone names are checked for shape only.
var tzAvailable = sync.OnceValue(func() bool {
	_, err := time.LoadLocation("America/New_York")
	return err == nil
})

func isTimeZone(name string) bool {
	if name == "" || name == "Local" {
		return false
	}
	if tzAvailable() {
		_, err := time.LoadLocation(name)
		return err == nil
	}
	for _, r := range name {
		if !(r == '/' || r == '_' || r == '-' || r == '+' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// idempotent reports whether applying the object twice has the same effect
// as once: false with inc or $add.
func (a *UserAttributes) idempotent() bool {
	for _, v := range a.custom {
		switch x := v.(type) {
		case Increment:
			return false
		case ObjectArrayUpdate:
			if len(x.Add) > 0 {
				return false
			}
		}
	}
	return true
}

// Validate checks the event: an identifier (at most one primary one), a name, a time, and property
// names and values.
func (e *Event) Validate() error { return e.validate() }

func (e *Event) validate() error {
	if e.UserRef.isZero() {
		return &ValidationError{Reason: "no identifier: one of external_id, braze_id, user_alias, email or phone is required"}
	}
	if err := checkPrimary(e.ExternalID, e.BrazeID, e.UserAlias); err != nil {
		return err
	}
	if e.Name == "" {
		return bad("name", "required")
	}
	if err := checkString("name", e.Name); err != nil {
		return err
	}
	if e.Time.IsZero() {
		return bad("time", "required")
	}
	return checkProperties(e.Properties, maxEventPropSize, true)
}

// Validate checks the purchase: an identifier (at most one primary one), product_id, an ISO-4217
// currency, price, time, quantity at most 100, and properties.
func (p *Purchase) Validate() error { return p.validate() }

func (p *Purchase) validate() error {
	if p.UserRef.isZero() {
		return &ValidationError{Reason: "no identifier: one of external_id, braze_id, user_alias, email or phone is required"}
	}
	if err := checkPrimary(p.ExternalID, p.BrazeID, p.UserAlias); err != nil {
		return err
	}
	if p.ProductID == "" {
		return bad("product_id", "required")
	}
	if err := checkString("product_id", p.ProductID); err != nil {
		return err
	}
	if len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency || strings.IndexFunc(p.Currency, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return bad("currency", "%q is not an ISO-4217 alphabetic code", p.Currency)
	}
	if _, err := appendFloat(nil, p.Price); err != nil {
		return bad("price", "%v", err)
	}
	if p.Quantity < 0 || p.Quantity > maxQuantity {
		return bad("quantity", "%d is outside 1-%d", p.Quantity, maxQuantity)
	}
	if p.Time.IsZero() {
		return bad("time", "required")
	}
	return checkProperties(p.Properties, maxPurchPropSize, false)
}

func checkProperties(props map[string]any, maxComplex int, event bool) error {
	complexSize := 0
	var keys []string
	for k, v := range props {
		f := "properties." + k
		switch {
		case k == "":
			return bad("properties", "empty property name")
		case k[0] == '$':
			return bad(f, "property names must not start with \"$\"")
		case event && (k == "time" || k == "event_name"):
			return bad(f, "property name is reserved")
		}
		if err := checkString(f, k); err != nil {
			return err
		}
		switch x := v.(type) {
		case string:
			if err := checkString(f, x); err != nil {
				return err
			}
		case map[string]any, []any, []string:
			b, err := appendPlain(nil, x, &keys)
			if err != nil {
				return bad(f, "%v", err)
			}
			complexSize += len(b)
		case nil, bool, int64, int, float64, json.Number, time.Time, Date:
			if _, err := appendValue(nil, x, modeTop, &keys); err != nil {
				return bad(f, "%v", err)
			}
		default:
			return bad(f, "unsupported type %s", typeName(v))
		}
	}
	if complexSize > maxComplex {
		return bad("properties", "array and object properties total %d bytes, over the %d-byte limit", complexSize, maxComplex)
	}
	return nil
}
