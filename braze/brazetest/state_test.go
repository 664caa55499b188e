package brazetest

import (
	"reflect"
	"testing"
	"time"
)

// TestAttributeOperations sends a sequence of attributes objects for user
// u1 and compares the resulting profile attributes.
func TestAttributeOperations(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		sends []string // members of successive attributes objects for u1
		want  map[string]any
	}{
		{name: "set scalars", sends: []string{`"s":"x","i":3,"f":1.5,"b":true,"big":12345678901234`},
			want: map[string]any{"s": "x", "i": int64(3), "f": 1.5, "b": true, "big": int64(12345678901234)}},
		{name: "overwrite", sends: []string{`"s":"x"`, `"s":"y"`}, want: map[string]any{"s": "y"}},
		{name: "null removes", sends: []string{`"s":"x","t":"keep"`, `"s":null`}, want: map[string]any{"t": "keep"}},
		{name: "null on missing", sends: []string{`"s":null`}, want: map[string]any{}},
		{name: "standard fields", sends: []string{`"first_name":"Jon","dob":"1988-02-14","gender":"M","email":"j@x.co","language":"en","email_subscribe":"opted_in"`},
			want: map[string]any{"first_name": "Jon", "dob": "1988-02-14", "gender": "M", "email": "j@x.co", "language": "en", "email_subscribe": "opted_in"}},
		{name: "gender null removes", sends: []string{`"gender":"F"`, `"gender":null`}, want: map[string]any{}},
		{name: "country upper-cased", sends: []string{`"country":"us"`}, want: map[string]any{"country": "US"}},
		{name: "unmappable country stored as null", sends: []string{`"country":"US"`, `"country":"Atlantis"`}, want: map[string]any{}},
		{name: "invalid time_zone not set", sends: []string{`"time_zone":"America/New_York"`, `"time_zone":"Mars/Olympus"`},
			want: map[string]any{"time_zone": "America/New_York"}},
		{name: "bio ignored", sends: []string{`"bio":"hi"`}, want: map[string]any{}},
		{name: "inc from nothing", sends: []string{`"n":{"inc":2}`}, want: map[string]any{"n": int64(2)}},
		{name: "inc adds", sends: []string{`"n":5`, `"n":{"inc":2}`, `"n":{"inc":-10}`}, want: map[string]any{"n": int64(-3)}},
		{name: "inc on a string changes nothing", sends: []string{`"n":"five"`, `"n":{"inc":2}`}, want: map[string]any{"n": "five"}},
		{name: "string array de-duplicated", sends: []string{`"tags":["a","b","a","c"]`}, want: map[string]any{"tags": []string{"a", "b", "c"}}},
		{name: "string array truncated", opts: []Option{WithArrayMax(3)}, sends: []string{`"tags":["a","b","c","d","e"]`},
			want: map[string]any{"tags": []string{"a", "b", "c"}}},
		{name: "empty array", sends: []string{`"tags":[]`}, want: map[string]any{"tags": []string{}}},
		{name: "add appends", sends: []string{`"tags":["a"]`, `"tags":{"add":["b","c"]}`}, want: map[string]any{"tags": []string{"a", "b", "c"}}},
		{name: "add to missing", sends: []string{`"tags":{"add":["b"]}`}, want: map[string]any{"tags": []string{"b"}}},
		{name: "add existing moves it to the end", sends: []string{`"tags":["a","b","c"]`, `"tags":{"add":["a"]}`},
			want: map[string]any{"tags": []string{"b", "c", "a"}}},
		{name: "add to a full array drops the oldest", opts: []Option{WithArrayMax(3)}, sends: []string{`"tags":["a","b","c"]`, `"tags":{"add":["d","e"]}`},
			want: map[string]any{"tags": []string{"c", "d", "e"}}},
		{name: "remove", sends: []string{`"tags":["a","b","c"]`, `"tags":{"remove":["b","x"]}`}, want: map[string]any{"tags": []string{"a", "c"}}},
		{name: "add and remove together", sends: []string{`"tags":["a","b"]`, `"tags":{"add":["c"],"remove":["a"]}`},
			want: map[string]any{"tags": []string{"b", "c"}}},
		{name: "nested replaces by default", sends: []string{`"car":{"make":"VW","model":"Golf"}`, `"car":{"make":"BMW"}`},
			want: map[string]any{"car": map[string]any{"make": "BMW"}}},
		{name: "nested deep-merges with _merge_objects", sends: []string{`"car":{"make":"VW","spec":{"hp":100,"doors":5}}`, `"_merge_objects":true,"car":{"spec":{"hp":150},"year":2020}`},
			want: map[string]any{"car": map[string]any{"make": "VW", "year": int64(2020), "spec": map[string]any{"hp": int64(150), "doors": int64(5)}}}},
		{name: "nested null deletes the object", sends: []string{`"car":{"make":"VW"}`, `"car":null`}, want: map[string]any{}},
		{name: "nested $time kept", sends: []string{`"car":{"bought":{"$time":"2020-05-28"}}`},
			want: map[string]any{"car": map[string]any{"bought": map[string]any{"$time": "2020-05-28"}}}},
		{name: "top-level $time stored as the date", sends: []string{`"signup":{"$time":"2020-05-28"}`}, want: map[string]any{"signup": "2020-05-28"}},
		{name: "array of objects set", sends: []string{`"pets":[{"id":1,"type":"dog"}]`},
			want: map[string]any{"pets": []any{map[string]any{"id": int64(1), "type": "dog"}}}},
		{name: "$add appends without de-duplication", sends: []string{`"pets":{"$add":[{"id":1}]}`, `"pets":{"$add":[{"id":1},{"id":2}]}`},
			want: map[string]any{"pets": []any{map[string]any{"id": int64(1)}, map[string]any{"id": int64(1)}, map[string]any{"id": int64(2)}}}},
		{name: "$remove removes every match", sends: []string{`"pets":[{"id":1},{"id":2},{"id":1,"x":true}]`, `"pets":{"$remove":[{"$identifier_key":"id","$identifier_value":1}]}`},
			want: map[string]any{"pets": []any{map[string]any{"id": int64(2)}}}},
		{name: "$remove compares numbers by value", sends: []string{`"pets":[{"id":1}]`, `"pets":{"$remove":[{"$identifier_key":"id","$identifier_value":1.0}]}`},
			want: map[string]any{"pets": []any{}}},
		{name: "$remove string id", sends: []string{`"pets":[{"id":"a"},{"id":"b"}]`, `"pets":{"$remove":[{"$identifier_key":"id","$identifier_value":"a"}]}`},
			want: map[string]any{"pets": []any{map[string]any{"id": "b"}}}},
		{name: "$update replaces the item without _merge_objects", sends: []string{`"pets":[{"id":1,"type":"dog","age":3}]`, `"pets":{"$update":[{"$identifier_key":"id","$identifier_value":1,"$new_object":{"age":4}}]}`},
			want: map[string]any{"pets": []any{map[string]any{"age": int64(4)}}}},
		{name: "$update merges with _merge_objects", sends: []string{`"pets":[{"id":1,"type":"dog","age":3}]`, `"_merge_objects":true,"pets":{"$update":[{"$identifier_key":"id","$identifier_value":1,"$new_object":{"age":4}}]}`},
			want: map[string]any{"pets": []any{map[string]any{"id": int64(1), "type": "dog", "age": int64(4)}}}},
		{name: "$add then $remove in one request removes the new item too", sends: []string{`"pets":[{"id":1}]`, `"pets":{"$remove":[{"$identifier_key":"id","$identifier_value":1}],"$add":[{"id":1,"v":2}]}`},
			want: map[string]any{"pets": []any{}}},
		{name: "an invalid nested value drops every nested update in the request", sends: []string{`"car":{"make":"VW"}`, `"car":{"make":"BMW"},"pets":{"$add":[{"id":null}]},"s":"applied"`},
			want: map[string]any{"car": map[string]any{"make": "VW"}, "s": "applied"}},
		{name: "per-attribute nested failure option", opts: []Option{WithNestedFailurePerAttribute()}, sends: []string{`"car":{"make":"VW"}`, `"car":{"make":"BMW"},"pets":{"$add":[{"id":null}]}`},
			want: map[string]any{"car": map[string]any{"make": "BMW"}}},
		{name: "identifier keys are not attributes", sends: []string{`"_update_existing_only":false,"_merge_objects":true,"s":"x"`}, want: map[string]any{"s": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewHandler(tt.opts...)
			for _, members := range tt.sends {
				mustSend(t, s, attrs(`"external_id":"u1",`+members))
			}
			got := mustUser(t, s, "u1").Attributes
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("attributes = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestNestedDropAcrossObjects checks the request-wide reading: a bad nested
// value in one user's object drops another user's nested update.
func TestNestedDropAcrossObjects(t *testing.T) {
	s := NewHandler()
	res := mustSend(t, s, `{"attributes":[{"external_id":"a","car":{"make":"VW"}},{"external_id":"b","car":{"make":null},"s":"x"}]}`)
	if res.resp.AttributesProcessed != 2 {
		t.Errorf("processed %d, want 2", res.resp.AttributesProcessed)
	}
	if a := mustUser(t, s, "a"); a.Attributes["car"] != nil {
		t.Errorf("a's nested update was applied: %v", a.Attributes)
	}
	if b := mustUser(t, s, "b"); b.Attributes["s"] != "x" {
		t.Errorf("b's plain update was dropped: %v", b.Attributes)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || len(reqs[0].Notes) != 1 {
		t.Errorf("notes = %v, want one about the dropped nested updates", reqs[0].Notes)
	}
}

// TestProfileResolution covers creation and lookup by each identifier.
func TestProfileResolution(t *testing.T) {
	t.Run("external_id creates", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"external_id":"u1"`))
		if u := mustUser(t, s, "u1"); u.BrazeID == "" || len(u.Attributes) != 0 {
			t.Errorf("user = %+v", u)
		}
	})
	t.Run("_update_existing_only does not create", func(t *testing.T) {
		s := NewHandler()
		res := mustSend(t, s, attrs(`"external_id":"u1","_update_existing_only":true,"s":"x"`))
		if _, ok := s.User("u1"); ok {
			t.Fatal("profile created")
		}
		if res.resp.AttributesProcessed != 1 || s.Stats().Skipped != 1 {
			t.Errorf("processed %d, skipped %d; want the object accepted but skipped", res.resp.AttributesProcessed, s.Stats().Skipped)
		}
		mustSend(t, s, attrs(`"external_id":"u1"`))
		mustSend(t, s, attrs(`"external_id":"u1","_update_existing_only":true,"s":"x"`))
		if u := mustUser(t, s, "u1"); u.Attributes["s"] != "x" {
			t.Errorf("existing profile not updated: %v", u.Attributes)
		}
	})
	t.Run("alias is update-only by default", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"user_alias":{"alias_name":"n","alias_label":"l"},"s":"x"`))
		if len(s.Users()) != 0 {
			t.Fatalf("alias object created a profile: %+v", s.Users())
		}
		mustSend(t, s, attrs(`"user_alias":{"alias_name":"n","alias_label":"l"},"_update_existing_only":false,"s":"x"`))
		u, ok := s.UserByAlias("n", "l")
		if !ok || u.ExternalID != "" || u.Attributes["s"] != "x" || !reflect.DeepEqual(u.Aliases, []Alias{{"n", "l"}}) {
			t.Fatalf("alias-only profile = %+v, %v", u, ok)
		}
		mustSend(t, s, attrs(`"user_alias":{"alias_name":"n","alias_label":"l"},"s":"y"`))
		if u, _ := s.UserByAlias("n", "l"); u.Attributes["s"] != "y" {
			t.Errorf("update by alias not applied: %v", u.Attributes)
		}
	})
	t.Run("braze_id updates but never creates", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"braze_id":"nope","s":"x"`))
		if len(s.Users()) != 0 {
			t.Fatal("braze_id created a profile")
		}
		mustSend(t, s, attrs(`"external_id":"u1"`))
		id := mustUser(t, s, "u1").BrazeID
		mustSend(t, s, attrs(`"braze_id":"`+id+`","s":"x"`))
		if u := mustUser(t, s, "u1"); u.Attributes["s"] != "x" {
			t.Errorf("update by braze_id not applied: %v", u.Attributes)
		}
	})
	t.Run("email creates an email-only profile", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"email":"a@x.co","s":"x"`))
		u, ok := s.UserByEmail("a@x.co")
		if !ok || u.ExternalID != "" || u.Attributes["s"] != "x" || u.Attributes["email"] != "a@x.co" {
			t.Errorf("email-only profile = %+v, %v", u, ok)
		}
	})
	t.Run("email prefers the most recent profile with an external_id", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"external_id":"old","email":"a@x.co"`))
		mustSend(t, s, attrs(`"external_id":"new","email":"a@x.co"`))
		mustSend(t, s, attrs(`"email":"a@x.co","_update_existing_only":true`)) // would create; must resolve instead
		mustSend(t, s, attrs(`"user_alias":{"alias_name":"n","alias_label":"l"},"_update_existing_only":false,"email":"a@x.co"`))
		mustSend(t, s, attrs(`"email":"a@x.co","hit":true`))
		for id, want := range map[string]any{"old": nil, "new": true} {
			if got := mustUser(t, s, id).Attributes["hit"]; got != want {
				t.Errorf("%s: hit = %v, want %v", id, got, want)
			}
		}
		if u, _ := s.UserByAlias("n", "l"); u.Attributes["hit"] != nil {
			t.Error("the alias-only profile (no external_id) was chosen")
		}
	})
	t.Run("email without external_id picks the most recently updated", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"user_alias":{"alias_name":"a","alias_label":"l"},"_update_existing_only":false,"email":"e@x.co"`))
		mustSend(t, s, attrs(`"user_alias":{"alias_name":"b","alias_label":"l"},"_update_existing_only":false,"email":"e@x.co"`))
		mustSend(t, s, attrs(`"user_alias":{"alias_name":"a","alias_label":"l"},"touched":1`))
		mustSend(t, s, attrs(`"email":"e@x.co","hit":true`))
		if u, _ := s.UserByAlias("a", "l"); u.Attributes["hit"] != true {
			t.Errorf("most recently updated profile not chosen: %v", u.Attributes)
		}
	})
	t.Run("changing email moves the index", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"external_id":"u1","email":"a@x.co"`))
		mustSend(t, s, attrs(`"external_id":"u1","email":"b@x.co"`))
		if _, ok := s.UserByEmail("a@x.co"); ok {
			t.Error("old email still resolves")
		}
		if u, ok := s.UserByEmail("b@x.co"); !ok || u.ExternalID != "u1" {
			t.Error("new email does not resolve")
		}
	})
	t.Run("phone", func(t *testing.T) {
		s := NewHandler()
		mustSend(t, s, attrs(`"external_id":"u1","phone":"+15043277269"`))
		mustSend(t, s, attrs(`"phone":"+15043277269","s":"x"`))
		if u := mustUser(t, s, "u1"); u.Attributes["s"] != "x" || len(s.Users()) != 1 {
			t.Errorf("update by phone: %v, users %d", u.Attributes, len(s.Users()))
		}
	})
	t.Run("push token import", func(t *testing.T) {
		s := NewHandler()
		body := attrs(`"push_token_import":true,"push_tokens":[{"app_id":"a","token":"t1"}]`)
		mustSend(t, s, body)
		mustSend(t, s, body) // a known token is a no-op
		if n := len(s.Users()); n != 1 {
			t.Errorf("%d profiles, want 1 anonymous profile", n)
		}
	})
}

// TestEventsAndPurchases checks recording: duplicates kept, future times
// replaced, update-only objects for unknown users dropped.
func TestEventsAndPurchases(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := NewHandler(WithClock(func() time.Time { return now }))
	body := `{"events":[{` + ev + `,"properties":{"movie":"x"}},{` + ev + `},{"external_id":"u2","name":"later","time":"2030-01-01T00:00:00Z"},
		{"user_alias":{"alias_name":"n","alias_label":"l"},"name":"ghost","time":"2024-01-01"}],
		"purchases":[{` + pur + `,"quantity":3,"app_id":"app"}]}`
	res := mustSend(t, s, body)
	if res.resp.EventsProcessed != 4 || res.resp.PurchasesProcessed != 1 {
		t.Errorf("processed = %+v", res.resp)
	}
	evs := s.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events recorded, want 3 (the alias event has no profile): %+v", len(evs), evs)
	}
	if evs[0].Name != "played" || evs[0].ExternalID != "u1" || evs[0].Properties["movie"] != "x" || evs[0].Request != 1 {
		t.Errorf("event 0 = %+v", evs[0])
	}
	if !evs[2].Time.Equal(now) {
		t.Errorf("future event time = %v, want the receipt time %v", evs[2].Time, now)
	}
	want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if !evs[0].Time.Equal(want) {
		t.Errorf("event time = %v, want %v", evs[0].Time, want)
	}
	ps := s.Purchases()
	if len(ps) != 1 || ps[0].ProductID != "p1" || ps[0].Currency != "USD" || ps[0].Price != 9.99 || ps[0].Quantity != 3 || ps[0].AppID != "app" {
		t.Errorf("purchases = %+v", ps)
	}
	u := mustUser(t, s, "u1")
	if u.Events != 2 || u.Purchases != 1 {
		t.Errorf("profile counts: events %d purchases %d", u.Events, u.Purchases)
	}
	if _, ok := s.User("u2"); !ok {
		t.Error("an event for an unknown external_id should create the profile")
	}
	st := s.Stats()
	if st.EventsProcessed != 4 || st.PurchasesProcessed != 1 || st.Skipped != 1 || st.Accepted != 1 {
		t.Errorf("stats = %+v", st)
	}
	// Mutating a snapshot must not touch the server's state.
	evs[0].Properties["movie"] = "changed"
	u.Attributes["x"] = 1
	if s.Events()[0].Properties["movie"] != "x" {
		t.Error("Events returned shared maps")
	}
}

func TestReset(t *testing.T) {
	s := NewHandler()
	mustSend(t, s, attrs(`"external_id":"u1"`))
	s.Reset()
	if len(s.Users()) != 0 || len(s.Requests()) != 0 || s.Stats() != (Stats{}) {
		t.Error("Reset left state behind")
	}
}

func TestUserAccessors(t *testing.T) {
	s := NewHandler()
	mustSend(t, s, attrs(`"external_id":"u1","s":"x","i":3,"f":1.5,"b":true,"tags":["a"],"car":{"make":"VW"},"pets":[{"id":1}]`))
	u := mustUser(t, s, "u1")
	if v, ok := u.String("s"); !ok || v != "x" {
		t.Errorf("String = %v %v", v, ok)
	}
	if v, ok := u.Int("i"); !ok || v != 3 {
		t.Errorf("Int = %v %v", v, ok)
	}
	if v, ok := u.Float("i"); !ok || v != 3 {
		t.Errorf("Float of an integer = %v %v", v, ok)
	}
	if v, ok := u.Float("f"); !ok || v != 1.5 {
		t.Errorf("Float = %v %v", v, ok)
	}
	if v, ok := u.Bool("b"); !ok || !v {
		t.Errorf("Bool = %v %v", v, ok)
	}
	if v, ok := u.Strings("tags"); !ok || len(v) != 1 || v[0] != "a" {
		t.Errorf("Strings = %v %v", v, ok)
	}
	if v, ok := u.Object("car"); !ok || v["make"] != "VW" {
		t.Errorf("Object = %v %v", v, ok)
	}
	if v, ok := u.Objects("pets"); !ok || len(v) != 1 || v[0]["id"] != int64(1) {
		t.Errorf("Objects = %v %v", v, ok)
	}
	if _, ok := u.String("i"); ok {
		t.Error("String of an integer reported ok")
	}
	if _, ok := u.Int("missing"); ok {
		t.Error("Int of a missing attribute reported ok")
	}
}

// TestResendingValues checks the shortcut that skips unchanged values: a
// second set must always leave the profile as if it were applied.
func TestResendingValues(t *testing.T) {
	tests := []struct {
		name          string
		first, second string
		want          any
	}{
		{"same string", `"v":"x"`, `"v":"x"`, "x"},
		{"other string", `"v":"x"`, `"v":"y"`, "y"},
		{"string to number", `"v":"3"`, `"v":3`, int64(3)},
		{"same integer", `"v":3`, `"v":3`, int64(3)},
		{"other integer", `"v":3`, `"v":4`, int64(4)},
		{"integer to float literal", `"v":3`, `"v":3.0`, float64(3)},
		{"integer to string", `"v":3`, `"v":"3"`, "3"},
		{"same float", `"v":1.5`, `"v":1.50`, 1.5},
		{"other float", `"v":1.5`, `"v":2.5`, 2.5},
		{"float to integer", `"v":2.0`, `"v":2`, int64(2)},
		{"same bool", `"v":true`, `"v":true`, true},
		{"other bool", `"v":true`, `"v":false`, false},
		{"bool to string", `"v":true`, `"v":"true"`, "true"},
		{"same array", `"v":["a","b"]`, `"v":["a","b"]`, []string{"a", "b"}},
		{"same array with a duplicate", `"v":["a","b"]`, `"v":["a","b","a"]`, []string{"a", "b"}},
		{"reordered array", `"v":["a","b"]`, `"v":["b","a"]`, []string{"b", "a"}},
		{"shorter array", `"v":["a","b"]`, `"v":["a"]`, []string{"a"}},
		{"longer array", `"v":["a"]`, `"v":["a","b"]`, []string{"a", "b"}},
		{"empty to empty", `"v":[]`, `"v":[]`, []string{}},
		{"empty to one", `"v":[]`, `"v":["a"]`, []string{"a"}},
		{"one to empty", `"v":["a"]`, `"v":[]`, []string{}},
		{"string to array", `"v":"a"`, `"v":["a"]`, []string{"a"}},
		{"array to string", `"v":["a"]`, `"v":"a"`, "a"},
		{"array over the maximum", `"v":["a","b","c"]`, `"v":["a","b","c","d"]`, []string{"a", "b", "c"}},
		{"array changed past the maximum", `"v":["a","b","c"]`, `"v":["a","b","x","c"]`, []string{"a", "b", "x"}},
		{"nested object", `"v":{"a":1}`, `"v":{"a":1}`, map[string]any{"a": int64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewHandler(WithArrayMax(3))
			mustSend(t, s, attrs(`"external_id":"u1",`+tt.first))
			mustSend(t, s, attrs(`"external_id":"u1",`+tt.second))
			if got := mustUser(t, s, "u1").Attributes["v"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("v = %#v, want %#v", got, tt.want)
			}
		})
	}
}
