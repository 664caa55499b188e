package brazetest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	`{"attributes":[{"external_id":"u1","a":1,"b":-1.5e3,"c":true,"d":null,"e":[1,"x",{}],"f":{"g":[]}}]}`,
	`"esc\"aped \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 \ud800 x"`,
	`  [ 1 , 2 ]  `,
	`{"dup":1,"dup":2}`,
	"\"\xff\xfe invalid utf8\"",
	`0`, `-0`, `1e400`, `01`, `1.`, `.5`, `-`, `tru`, `nul`, `{"a" 1}`, `[1,]`, `{,}`, `"\u12"`, "\"a\x01\"",
	`[[[[[[[[[[]]]]]]]]]]`,
}

// FuzzParseJSON checks the fake's JSON parser against encoding/json: the
// same inputs are accepted and decode to the same values.
func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseJSON(s)
		valid := json.Valid([]byte(s))
		if (err == nil) != valid {
			t.Fatalf("parseJSON(%q) err = %v, json.Valid = %v", s, err, valid)
		}
		if err != nil {
			return
		}
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatalf("encoding/json cannot decode valid %q: %v", s, err)
		}
		if got := v.toJSONAny(); !reflect.DeepEqual(got, want) {
			t.Fatalf("parseJSON(%q) = %#v, encoding/json = %#v", s, got, want)
		}
	})
}

func TestParseJSONSeeds(t *testing.T) {
	valid := map[string]bool{}
	for _, s := range jsonSeeds {
		valid[s] = json.Valid([]byte(s))
		_, err := parseJSON(s)
		if (err == nil) != valid[s] {
			t.Errorf("parseJSON(%q) err = %v, json.Valid = %v", s, err, valid[s])
		}
	}
	p := parser{}
	for range 3 { // a reused parser gives the same result
		v, err := p.parse(jsonSeeds[0])
		if err != nil {
			t.Fatal(err)
		}
		attrs, _ := v.get("attributes")
		if got := attrs.o[0].val.toJSONAny().(map[string]any)["external_id"]; got != "u1" {
			t.Fatalf("external_id = %v", got)
		}
		p.reset()
	}
}

// FuzzServeHTTP sends arbitrary bodies: the server must answer every one
// with a JSON body and a status Braze uses, and never panic.
func FuzzServeHTTP(f *testing.F) {
	f.Add(`{"attributes":[{"external_id":"u1","n":{"inc":1},"tags":{"add":["a"]},"pets":{"$add":[{"id":1}],"$remove":[{"$identifier_key":"id","$identifier_value":1}]}}]}`)
	f.Add(`{"events":[{"external_id":"u1","name":"e","time":"2024-01-01","properties":{"a":[1]}}],"purchases":[{"email":"a@b.co","product_id":"p","currency":"USD","price":1,"time":"2024-01-01"}]}`)
	f.Add(`{"attributes":[{"user_alias":{"alias_name":"a","alias_label":"b"},"_update_existing_only":false,"_merge_objects":true,"car":{"x":{"y":1}}}]}`)
	f.Add(`{"attributes":[{"external_id":"u1","car":{"$time":"x"},"pets":{"$update":[{"$identifier_key":"id","$identifier_value":1,"$new_object":{"a":null}}]}}]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		s := NewHandler()
		for range 2 { // twice, so updates meet existing state
			r := httptest.NewRequest(http.MethodPost, "/users/track", strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != 201 && w.Code != 400 {
				t.Fatalf("status %d for %q", w.Code, body)
			}
			if !json.Valid(bytes.TrimSpace(w.Body.Bytes())) {
				t.Fatalf("response %q is not JSON", w.Body.String())
			}
		}
		_ = s.Users()
	})
}
