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

// TestAppendStringWordScan puts each byte that needs care at each position
// of strings longer than a word, so that the word-at-a-time scan sees it
// in every lane and in the tail after the words.
func TestAppendStringWordScan(t *testing.T) {
	for c := range 256 {
		if c == '\b' || c == '\f' { // encoding/json's short forms; see FuzzAppendString
			continue
		}
		for n := 8; n <= 17; n++ {
			for pos := range n {
				b := bytes.Repeat([]byte("a"), n)
				b[pos] = byte(c)
				if c >= 0x80 { // a valid two-byte sequence, and a lone byte
					b = append(b[:pos:pos], append([]byte{0xc3, byte(0x80 | c&0x3f)}, b[pos+1:]...)...)
				}
				for _, html := range []bool{false, true} {
					if got, want := string(AppendString(nil, string(b), html)), encodingJSON(t, string(b), html); got != want {
						t.Fatalf("AppendString(%q, %v) = %s, want %s", b, html, got, want)
					}
				}
				b[pos] = byte(c)
				if got, want := string(AppendString(nil, string(b), false)), encodingJSON(t, string(b), false); c >= 0x80 && got != want {
					t.Fatalf("AppendString(%q) = %s, want %s", b, got, want)
				}
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
