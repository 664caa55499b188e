package braze

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestStandardFields(t *testing.T) {
	all := StandardFields()
	if len(all) != 26 {
		t.Errorf("%d fields", len(all))
	}
	for i, f := range all {
		if i > 0 && all[i-1].Name >= f.Name {
			t.Errorf("not sorted at %s", f.Name)
		}
		g, ok := StandardField(f.Name)
		if !ok || g.Name != f.Name || g.Kind != f.Kind {
			t.Errorf("StandardField(%q) = %+v, %v", f.Name, g, ok)
		}
		if f.Kind.String() == "unknown" {
			t.Errorf("%s: kind %d", f.Name, f.Kind)
		}
	}
	consent := map[string]bool{}
	ids := map[string]bool{}
	for _, f := range all {
		if f.Consent {
			consent[f.Name] = true
		}
		if f.Identifier {
			ids[f.Name] = true
		}
	}
	if len(consent) != 3 || !consent["email_subscribe"] || !consent["push_subscribe"] || !consent["subscription_groups"] {
		t.Errorf("consent fields %v", consent)
	}
	if len(ids) != 5 || !ids["external_id"] || !ids["braze_id"] || !ids["user_alias"] || !ids["email"] || !ids["phone"] {
		t.Errorf("identifiers %v", ids)
	}
	for _, n := range []string{"DOB", "Email", "birthday", "bio", ""} {
		if _, ok := StandardField(n); ok {
			t.Errorf("%q is standard", n)
		}
	}
	dob, _ := StandardField("dob")
	if dob.Kind != FieldDate {
		t.Errorf("dob kind %v", dob.Kind)
	}
	g, _ := StandardField("gender")
	g.Values[0] = "changed"
	if g2, _ := StandardField("gender"); g2.Values[0] == "changed" {
		t.Error("StandardField shares its Values slice")
	}
}

// Set covers every standard field from value-model values, and the result
// round-trips to the same JSON as the typed fields.
func TestSetStandardFields(t *testing.T) {
	ts := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	var a UserAttributes
	for name, v := range map[string]any{
		"external_id": "u1", "braze_id": "b1", "user_alias": map[string]any{"alias_name": "n", "alias_label": "l"},
		"email": "e@x.com", "phone": "+1555", "country": "US", "first_name": "Jon", "last_name": "Doe",
		"home_city": "Paris", "image_url": "https://x", "language": "fr", "time_zone": "Europe/Paris",
		"email_click_tracking_disabled": true, "email_open_tracking_disabled": false,
		"date_of_first_session": ts, "date_of_last_session": Date{2024, 1, 2}, "marked_email_as_spam_at": ts,
		"dob": Date{1980, 12, 21}, "gender": "F", "email_subscribe": "opted_in", "push_subscribe": "subscribed",
		"current_location":      map[string]any{"latitude": 1.5, "longitude": int64(2)},
		"facebook":              map[string]any{"id": "f", "likes": []string{"a"}, "num_friends": int64(3)},
		"twitter":               map[string]any{"id": int64(9), "screen_name": "s", "followers_count": int64(1), "friends_count": int64(2), "statuses_count": int64(3)},
		"push_tokens":           []any{map[string]any{"app_id": "a", "token": "t", "device_id": "d"}},
		"subscription_groups":   []any{map[string]any{"subscription_group_id": "g", "subscription_state": "unsubscribed"}},
		"_update_existing_only": true, "_merge_objects": true, "push_token_import": false,
	} {
		if err := a.Set(name, v); err != nil {
			t.Fatalf("Set(%q): %v", name, err)
		}
	}
	want := UserAttributes{
		ExternalID: "u1", BrazeID: "b1", UserAlias: &UserAlias{"n", "l"}, Email: FieldOf("e@x.com"), Phone: FieldOf("+1555"),
		Country: FieldOf("US"), FirstName: FieldOf("Jon"), LastName: FieldOf("Doe"), HomeCity: FieldOf("Paris"), ImageURL: FieldOf("https://x"),
		Language: FieldOf("fr"), TimeZone: FieldOf("Europe/Paris"), EmailClickTrackingDisabled: FieldOf(true), EmailOpenTrackingDisabled: FieldOf(false),
		DateOfFirstSession: FieldOf(ts), DateOfLastSession: FieldOf(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)), MarkedEmailAsSpamAt: FieldOf(ts),
		DOB: FieldOf(Date{1980, 12, 21}), Gender: FieldOf(GenderFemale), EmailSubscribe: FieldOf(OptedIn), PushSubscribe: FieldOf(Subscribed),
		CurrentLocation: FieldOf(Location{1.5, 2}), Facebook: FieldOf(Facebook{"f", []string{"a"}, 3}), Twitter: FieldOf(Twitter{9, "s", 1, 2, 3}),
		PushTokens: FieldOf([]PushToken{{"a", "t", "d"}}), SubscriptionGroups: FieldOf([]SubscriptionGroupState{{"g", GroupUnsubscribed}}),
		UpdateExistingOnly: ptr(true), MergeObjects: true,
	}
	got, _ := json.Marshal(&a)
	w, _ := json.Marshal(&want)
	if string(got) != string(w) {
		t.Errorf("got  %s\nwant %s", got, w)
	}
	// Braze accepts one primary identifier per object: validate with
	// external_id alone.
	one := a
	one.BrazeID, one.UserAlias = "", nil
	if err := one.Validate(); err != nil {
		t.Error(err)
	}
	// Every standard field can be set from some value.
	for _, f := range StandardFields() {
		if !strings.Contains(string(got), `"`+f.Name+`"`) {
			t.Errorf("field %s not covered", f.Name)
		}
	}
}

func TestSetNullAndCustom(t *testing.T) {
	var a UserAttributes
	must(t, a.Set("external_id", "u1"))
	must(t, a.Set("dob", nil))
	must(t, a.Set("vip", nil))
	must(t, a.Set("loyalty_tier", "gold"))
	must(t, a.Set("points", 10))
	must(t, a.Set("ratio", json.Number("1.5")))
	b, err := json.Marshal(&a)
	must(t, err)
	if string(b) != `{"external_id":"u1","dob":null,"loyalty_tier":"gold","points":10,"ratio":1.5,"vip":null}` {
		t.Errorf("got %s", b)
	}
	if v, ok := a.Custom("points"); !ok || v != int64(10) {
		t.Errorf("Custom(points) = %v", v)
	}
	if names := a.CustomNames(); strings.Join(names, ",") != "loyalty_tier,points,ratio,vip" {
		t.Errorf("names %v", names)
	}
	a.Unset("vip")
	if _, ok := a.Custom("vip"); ok {
		t.Error("Unset kept vip")
	}
}

func TestSetTypeErrors(t *testing.T) {
	for name, v := range map[string]any{
		"external_id": nil, "braze_id": 5, "user_alias": "x", "dob": "1980-02-30", "first_name": 1,
		"email_subscribe": nil, "gender": true, "current_location": map[string]any{"latitude": "x"},
		"date_of_first_session": "2020-01-01", "twitter": map[string]any{"id": "abc"}, "facebook": 3,
		"push_tokens": []any{"x"}, "subscription_groups": "x", "_merge_objects": "yes",
		"custom_chan": make(chan int), "custom_arr": []any{1, 2}, "custom_num": json.Number("1e"),
		"custom_nested": map[string]any{"a": struct{}{}}, "email_click_tracking_disabled": "true",
	} {
		var a UserAttributes
		err := a.Set(name, v)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != name || !strings.Contains(err.Error(), name) {
			t.Errorf("Set(%q, %#v) = %v", name, v, err)
		}
		if b, _ := json.Marshal(&a); string(b) != "{}" {
			t.Errorf("Set(%q) changed the object: %s", name, b)
		}
	}
}

func TestIdempotent(t *testing.T) {
	a := &UserAttributes{ExternalID: "u"}
	must(t, a.AddToArray("t", "x"))
	must(t, a.RemoveObjects("o", "id", 1))
	if !a.idempotent() {
		t.Error("add/remove/$remove are idempotent")
	}
	b := &UserAttributes{ExternalID: "u"}
	must(t, b.AddObjects("o", map[string]any{"id": int64(1)}))
	c := &UserAttributes{ExternalID: "u"}
	must(t, c.Increment("n", 1))
	if b.idempotent() || c.idempotent() {
		t.Error("$add and inc are not idempotent")
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "ctl\x00\x1f\x7f", "utf8 é 日本", "bad \xff\xfe", "\u2028\u2029", "<>&"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: decoded %q, encoding/json %q", s, back, wantBack)
		}
	}
}

func TestMaxArrayLengthOption(t *testing.T) {
	a := &UserAttributes{ExternalID: "u"}
	must(t, a.Set("tags", make([]string, 30)))
	if err := a.Validate(); err == nil {
		t.Error("30 elements accepted with the default limit of 25")
	}
	c, err := NewClient(testKey, WithInstance("US-01"), WithMaxArrayLength(100))
	must(t, err)
	if err := a.validate(c.checks); err != nil {
		t.Errorf("WithMaxArrayLength(100): %v", err)
	}
}

func TestNewUserAttributes(t *testing.T) {
	attrs := func(yield func(string, any) bool) {
		_ = yield("first_name", "Ada") && yield("dob", Date{1985, time.December, 10}) && yield("vip", nil)
	}
	ua, err := NewUserAttributes("external_id", "C-1", attrs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(ua)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"external_id":"C-1","dob":"1985-12-10","first_name":"Ada","vip":null}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	bad := func(yield func(string, any) bool) { yield("dob", 42) }
	_, err = NewUserAttributes("external_id", "C-1", bad)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "dob" {
		t.Errorf("wrong-typed dob: err = %v, want a *ValidationError on dob", err)
	}
	if _, err := NewUserAttributes("no_such_id", "C-1", attrs); err == nil {
		// an unknown name is a custom attribute, so this must still work
		t.Log("unknown id field taken as a custom attribute")
	}
}

// The errors that mean Braze processed nothing say so, for a delta engine
// that keeps its state as it was for them (diff.NotApplied).
func TestNotApplied(t *testing.T) {
	type notApplied interface{ NotApplied() bool }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&ItemError{Type: "bad"}, true},
		{&ValidationError{Field: "dob"}, true},
		{&APIError{StatusCode: 400}, true},
		{&APIError{StatusCode: 201, Message: "Max Input Length Exceeded"}, true},
		{&APIError{StatusCode: 502}, false},
		{&RateLimitError{}, true},
	} {
		var na notApplied
		if !errors.As(fmt.Errorf("wrapped: %w", tc.err), &na) || na.NotApplied() != tc.want {
			t.Errorf("%T %v: NotApplied = %v, want %v", tc.err, tc.err, na != nil && na.NotApplied(), tc.want)
		}
	}
	var na notApplied
	if errors.As(&RequestError{Op: "send", Err: errors.New("reset"), Ambiguous: true}, &na) {
		t.Error("an ambiguous transport failure must not claim to know")
	}
}

// NewUserAttributes with no attributes builds the identifier alone.
func TestRegression_Issue17_NewUserAttributesNilAttrs(t *testing.T) {
	a, err := NewUserAttributes("external_id", "u1", nil)
	if err != nil || a.ExternalID != "u1" {
		t.Fatalf("got %+v, %v", a, err)
	}
	if b, _ := json.Marshal(a); string(b) != `{"external_id":"u1"}` {
		t.Errorf("JSON %s", b)
	}
}
