package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// encodingJSON is the reference: encoding/json's string encoding, with or
// without HTML escaping.
func encodingJSON(t testing.TB, s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "\n\r\t\x00\x1f\x7f", "<a href='x'>&amp;</a>",
		"héllo wörld ✓ 😀", "\u2028\u2029", "bad \xff utf-8 \xc3", "\xed\xa0\x80",
	} {
		for _, html := range []bool{false, true} {
			if got, want := string(AppendString([]byte("x"), s, html)), "x"+encodingJSON(t, s, html); got != want {
				t.Errorf("AppendString(%q, %v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

// The fuzz target checks meaning rather than bytes: encoding/json writes
// \b and \f as short escapes, AppendString as \u0008 and \u000c.
func FuzzAppendString(f *testing.F) {
	f.Add("a<b>&\"\\\n\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{false, true} {
			got := AppendString(nil, s, html)
			var back, want string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("AppendString(%q, %v) = %s, not JSON: %v", s, html, got, err)
			}
			if err := json.Unmarshal([]byte(encodingJSON(t, s, html)), &want); err != nil {
				t.Fatal(err)
			}
			if back != want {
				t.Fatalf("AppendString(%q, %v) = %s, reads back as %q, want %q", s, html, got, back, want)
			}
			if html && bytes.ContainsAny(got, "<>&") {
				t.Fatalf("AppendString(%q, true) = %s: HTML characters unescaped", s, got)
			}
		}
	})
}
