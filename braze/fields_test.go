package braze

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The encoder and validation find a Field's state and value by the offsets
// the catalog computed: every Field of UserAttributes must have exactly one
// entry, and each entry's offsets and value layout must be its own Field's.
func TestCatalogCoversEveryField(t *testing.T) {
	typ := reflect.TypeFor[UserAttributes]()
	stateOffsets := map[uintptr]string{}
	valueOffsets := map[string]uintptr{}
	wires := map[string]wireKind{}
	for i := range typ.NumField() {
		sf := typ.Field(i)
		if !strings.HasPrefix(sf.Type.Name(), "Field[") {
			continue
		}
		st, ok := sf.Type.FieldByName("state")
		if !ok {
			t.Fatalf("%s has no state", sf.Type)
		}
		stateOffsets[sf.Offset+st.Offset] = sf.Name
		valueOffsets[sf.Name] = sf.Offset
		vt, _ := sf.Type.FieldByName("value")
		switch {
		case vt.Type == reflect.TypeFor[time.Time]():
			wires[sf.Name] = wireTime
		case vt.Type.Kind() == reflect.String:
			wires[sf.Name] = wireString
		case vt.Type.Kind() == reflect.Bool:
			wires[sf.Name] = wireBool
		default:
			wires[sf.Name] = wireOther
		}
	}
	seen := map[uintptr]string{}
	for _, f := range attrFields {
		if f.state == 0 {
			if f.present == nil {
				t.Errorf("%s: neither a Field offset nor present", f.Name)
			}
			continue
		}
		goName, ok := stateOffsets[f.state]
		if !ok {
			t.Errorf("%s: offset %d is no Field's state", f.Name, f.state)
			continue
		}
		if f.value != valueOffsets[goName] || f.wire != wires[goName] {
			t.Errorf("%s: value at %d as %d, want %d as %d", f.Name, f.value, f.wire, valueOffsets[goName], wires[goName])
		}
		if prev, dup := seen[f.state]; dup {
			t.Errorf("%s and %s share the Field %s", prev, f.Name, goName)
		}
		seen[f.state] = f.Name
	}
	for off, goName := range stateOffsets {
		if _, ok := seen[off]; !ok {
			t.Errorf("UserAttributes.%s has no catalog entry", goName)
		}
	}
}

// Set, the encoder and validation of each entry reach the same Go field:
// a null set by name is written under that name and read back as null.
func TestCatalogEntriesRoundTrip(t *testing.T) {
	for _, f := range attrFields {
		a := &UserAttributes{ExternalID: "u"}
		if f.Name == "external_id" {
			a = &UserAttributes{BrazeID: "b"}
		}
		if !f.Nullable {
			continue
		}
		if err := a.Set(f.Name, nil); err != nil {
			t.Errorf("Set(%q, nil): %v", f.Name, err)
			continue
		}
		if sent, null := f.sent(a); !sent || !null {
			t.Errorf("%s: after Set(nil) sent=%v null=%v", f.Name, sent, null)
		}
		b, err := a.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + f.Name + `":null`; !strings.Contains(string(b), want) {
			t.Errorf("%s: %s lacks %s", f.Name, b, want)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%s: null refused: %v", f.Name, err)
		}
	}
	for _, f := range attrFields {
		if f.Nullable || f.control {
			continue
		}
		a := &UserAttributes{ExternalID: "u"}
		err := a.Set(f.Name, nil)
		if err == nil || !strings.Contains(err.Error(), f.Name) {
			t.Errorf("Set(%q, nil) = %v, want an error naming the field", f.Name, err)
		}
	}
}

// The encoder writes the catalog's keys in table order: the primary
// identifiers, the request flags, then the profile fields by name.
func TestCatalogWireOrder(t *testing.T) {
	var profile []string
	for i, f := range attrFields {
		switch {
		case i < 3:
			if !f.Identifier || f.Nullable {
				t.Errorf("entry %d (%s) is not a primary identifier", i, f.Name)
			}
		case i < 6:
			if !f.control {
				t.Errorf("entry %d (%s) is not a request flag", i, f.Name)
			}
		default:
			profile = append(profile, f.Name)
		}
	}
	for i := 1; i < len(profile); i++ {
		if profile[i-1] >= profile[i] {
			t.Errorf("profile fields out of order: %s before %s", profile[i-1], profile[i])
		}
	}
}

// FuzzSetAndEncode sets any name to any JSON value (decoded as a mapper
// would hand it over) and encodes the object: Set and Validate never
// panic, and what Set accepts encodes to valid JSON or a
// *ValidationError.
func FuzzSetAndEncode(f *testing.F) {
	for _, fl := range attrFields {
		f.Add(fl.Name, `"x"`)
		f.Add(fl.Name, `null`)
	}
	for _, v := range []string{`true`, `12`, `1.5e300`, `"1988-02-30"`, `"1988-02-14"`, `{"latitude":1,"longitude":2}`,
		`[{"app_id":"a","token":"t"}]`, `[{"subscription_group_id":"g","subscription_state":"subscribed"}]`,
		`{"id":"1","likes":["a"],"num_friends":3}`, `{"alias_name":"n","alias_label":"l"}`, `[{"a":{"b":[1,{"c":null}]}}]`} {
		f.Add("custom", v)
		f.Add("current_location", v)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		dec := json.NewDecoder(strings.NewReader(value))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		a := &UserAttributes{ExternalID: "u"}
		if err := a.Set(name, v); err != nil {
			if !errors.Is(err, ErrValidation) {
				t.Fatalf("Set(%q, %v) = %v, not a *ValidationError", name, v, err)
			}
			return
		}
		_ = a.Validate()
		b, err := a.MarshalJSON()
		if err != nil {
			if !errors.Is(err, ErrValidation) {
				t.Fatalf("MarshalJSON after Set(%q, %v) = %v", name, v, err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("Set(%q, %v) encodes to invalid JSON %s", name, v, b)
		}
	})
}
