package braze

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json: always valid JSON that decodes to what encoding/json's
// own encoding decodes to.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "\x00\x1f\x7f", "é日本", "\xff", "\u2028\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %q", b)
		}
		var got, want string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		ref, _ := json.Marshal(s)
		_ = json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("%q decodes to %q, encoding/json gives %q", s, got, want)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("valid %q decodes to %q", s, got)
		}
	})
}

// FuzzParseDate checks that ParseDate accepts only real YYYY-MM-DD dates
// and round-trips them.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1980-12-21", "2023-02-29", "2024-02-29", "0000-01-01", "9999-12-31", "1980-1-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if !d.IsValid() || d.String() != s {
			t.Fatalf("%q parsed as %v (valid %v)", s, d, d.IsValid())
		}
		var ua UserAttributes
		if err := ua.Set("dob", s); err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(&ua); err != nil {
			t.Fatal(err)
		}
	})
}
