package brazetest

import (
	"strings"
	"unicode/utf8"
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
