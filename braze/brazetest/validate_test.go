package brazetest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

const (
	ev  = `"external_id":"u1","name":"played","time":"2024-01-02T03:04:05Z"`
	pur = `"external_id":"u1","product_id":"p1","currency":"USD","price":9.99,"time":"2024-01-02T03:04:05Z"`
)

// TestRequestValidation covers the whole-request rules: auth, content type,
// body shape and object limits.
func TestRequestValidation(t *testing.T) {
	valid := attrs(`"external_id":"u1"`)
	tests := []struct {
		name    string
		opts    []Option
		body    string
		mods    []func(*http.Request)
		status  int
		message string
	}{
		{name: "valid", body: valid, status: 201, message: "success"},
		{name: "no Authorization", body: valid, mods: mods(header("Authorization", "")), status: 401},
		{name: "wrong key", body: valid, mods: mods(header("Authorization", "Bearer nope")), status: 401},
		{name: "quoted key", body: valid, mods: mods(header("Authorization", `Bearer "`+DefaultAPIKey+`"`)), status: 401},
		{name: "bare key", body: valid, mods: mods(header("Authorization", DefaultAPIKey)), status: 401},
		{name: "lowercase scheme", body: valid, mods: mods(header("Authorization", "bearer "+DefaultAPIKey)), status: 401},
		{name: "custom key", opts: []Option{WithAPIKey("k2")}, body: valid, mods: mods(header("Authorization", "Bearer k2")), status: 201, message: "success"},
		{name: "key without permission", opts: []Option{WithForbiddenKey("ro")}, body: valid, mods: mods(header("Authorization", "Bearer ro")), status: 403},
		{name: "no content type", body: valid, mods: mods(header("Content-Type", "")), status: 400, message: MsgNoValidData},
		{name: "form content type", body: valid, mods: mods(header("Content-Type", "application/x-www-form-urlencoded")), status: 400, message: MsgNoValidData},
		{name: "json with charset", body: valid, mods: mods(header("Content-Type", "application/json; charset=utf-8")), status: 201, message: "success"},
		{name: "invalid JSON", body: `{"attributes":[{"external_id":"u1"}]`, status: 400, message: MsgInvalidJSON},
		{name: "trailing garbage", body: valid + "x", status: 400, message: MsgInvalidJSON},
		{name: "empty body", body: ``, status: 400, message: MsgInvalidJSON},
		{name: "top-level array", body: `[` + valid + `]`, status: 400, message: MsgNoValidData},
		{name: "empty object", body: `{}`, status: 400, message: MsgNoValidData},
		{name: "empty arrays", body: `{"attributes":[],"events":[],"purchases":[]}`, status: 400, message: MsgNoValidData},
		{name: "arrays of the wrong type", body: `{"attributes":{"external_id":"u1"}}`, status: 400, message: MsgNoValidData},
		{name: "partner accepted", body: `{"partner":"RudderStack","attributes":[{"external_id":"u1"}]}`, status: 201, message: "success"},
		{name: "api_key in body ignored", body: `{"api_key":"x","attributes":[{"external_id":"u1"}]}`, status: 201, message: "success"},
		{name: "75 combined", body: `{"attributes":[` + objects(40, `{"external_id":"u1"}`) + `],"events":[` + objects(35, `{`+ev+`}`) + `]}`, status: 201, message: "success"},
		{name: "76 combined", body: `{"attributes":[` + objects(40, `{"external_id":"u1"}`) + `],"events":[` + objects(36, `{`+ev+`}`) + `]}`, status: 400, message: MsgMaxInputLength},
		{name: "76 attributes", body: `{"attributes":[` + objects(76, `{"external_id":"u1"}`) + `]}`, status: 400, message: MsgMaxInputLength},
		{name: "cap removed", opts: []Option{WithMaxObjects(0)}, body: `{"attributes":[` + objects(300, `{"external_id":"u1"}`) + `]}`, status: 201, message: "success"},
		{name: "cap lowered to 50", opts: []Option{WithMaxObjects(50)}, body: `{"attributes":[` + objects(51, `{"external_id":"u1"}`) + `]}`, status: 400, message: MsgMaxInputLength},
		{name: "legacy 75 per array", opts: []Option{WithLegacyObjectLimit(75)},
			body:   `{"attributes":[` + objects(75, `{"external_id":"u1"}`) + `],"events":[` + objects(75, `{`+ev+`}`) + `],"purchases":[` + objects(75, `{`+pur+`}`) + `]}`,
			status: 201, message: "success"},
		{name: "legacy 76 in one array", opts: []Option{WithLegacyObjectLimit(75)}, body: `{"events":[` + objects(76, `{`+ev+`}`) + `]}`, status: 400, message: MsgMaxInputLength},
		{name: "mixed identifiers allowed by default", body: `{"attributes":[{"external_id":"u1"},{"email":"a@b.co"}]}`, status: 201, message: "success"},
		{name: "mixed identifiers rejected", opts: []Option{WithRejectMixedIdentifiers()}, body: `{"attributes":[{"external_id":"u1"},{"email":"a@b.co"}]}`, status: 400, message: MsgConflictingIdentifiers},
		{name: "same identifier kind", opts: []Option{WithRejectMixedIdentifiers()}, body: `{"attributes":[{"external_id":"u1"}],"events":[{` + ev + `}]}`, status: 201, message: "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewHandler(tt.opts...)
			res := send(t, s, tt.body, tt.mods...)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d (response %+v)", res.status, tt.status, res.resp)
			}
			if tt.message != "" && res.resp.Message != tt.message {
				t.Errorf("message = %q, want %q", res.resp.Message, tt.message)
			}
			if res.status != 201 && len(s.Users()) != 0 {
				t.Errorf("a rejected request changed state: %+v", s.Users())
			}
		})
	}
}

func mods(m ...func(*http.Request)) []func(*http.Request) { return m }

// objectCase is one object sent through the fake server, with the error
// type Braze answers for it ("" for none).
type objectCase struct {
	name    string
	array   string // attributes (default), events or purchases
	object  string
	wantErr string
}

// checkObjects sends each case as the only object of its array and checks
// the error type answered for it.
func checkObjects(t *testing.T, tests []objectCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			array := tt.array
			if array == "" {
				array = "attributes"
			}
			// A valid companion object keeps the request from failing as a
			// whole, so a rejection shows as a 201 with errors[].
			body := `{"` + array + `":[{` + tt.object + `}]`
			if array != "attributes" {
				body += `,"attributes":[{"external_id":"companion"}]`
			} else {
				body += `,"events":[{` + ev + `}]`
			}
			body += `}`
			s := NewHandler()
			res := send(t, s, body)
			if res.status != http.StatusCreated {
				t.Fatalf("status = %d, want 201 (response %+v)", res.status, res.resp)
			}
			var got string
			if len(res.resp.Errors) > 0 {
				e := res.resp.Errors[0]
				got = e.Type
				if e.InputArray != array || e.Index != 0 {
					t.Errorf("error at %s[%d], want %s[0]", e.InputArray, e.Index, array)
				}
			}
			if got != tt.wantErr {
				t.Errorf("error type = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// Values shared by the validation tables.
var (
	long       = strings.Repeat("x", 256)
	max255     = strings.Repeat("é", 255) // 255 characters, 510 bytes
	bigObject  = `{"blob":"` + strings.Repeat("y", 250) + `"}`
	nested100K = "[" + objects(420, bigObject) + "]" // > 100 KB
	nested60K  = "[" + objects(240, bigObject) + "]" // > 50 KB, < 100 KB
)

// TestObjectValidation covers the standard fields and custom attributes of
// an attributes object.
func TestObjectValidation(t *testing.T) {
	checkObjects(t, []objectCase{
		// Standard fields.
		{name: "dob", object: `"external_id":"u1","dob":"1980-12-21"`},
		{name: "dob null", object: `"external_id":"u1","dob":null`},
		{name: "dob no zero padding", object: `"external_id":"u1","dob":"1980-2-1"`, wantErr: notValid("dob")},
		{name: "dob not a day", object: `"external_id":"u1","dob":"1980-02-30"`, wantErr: notValid("dob")},
		{name: "dob with time", object: `"external_id":"u1","dob":"1980-12-21T00:00:00Z"`, wantErr: notValid("dob")},
		{name: "dob leap day", object: `"external_id":"u1","dob":"2024-02-29"`},
		{name: "dob not a leap year", object: `"external_id":"u1","dob":"2023-02-29"`, wantErr: notValid("dob")},
		{name: "dob month 13", object: `"external_id":"u1","dob":"2023-13-01"`, wantErr: notValid("dob")},
		{name: "dob day 31 of a 30-day month", object: `"external_id":"u1","dob":"2023-04-31"`, wantErr: notValid("dob")},
		{name: "dob with signs", object: `"external_id":"u1","dob":"+023-04-01"`, wantErr: notValid("dob")},
		{name: "dob US order", object: `"external_id":"u1","dob":"12/21/1980"`, wantErr: notValid("dob")},
		{name: "gender", object: `"external_id":"u1","gender":"P"`},
		{name: "gender null", object: `"external_id":"u1","gender":null`},
		{name: "gender lowercase", object: `"external_id":"u1","gender":"m"`, wantErr: notValid("gender")},
		{name: "gender word", object: `"external_id":"u1","gender":"male"`, wantErr: notValid("gender")},
		{name: "email_subscribe", object: `"external_id":"u1","email_subscribe":"opted_in"`},
		{name: "email_subscribe bad", object: `"external_id":"u1","email_subscribe":"yes"`, wantErr: notValid("email_subscribe")},
		{name: "push_subscribe bad", object: `"external_id":"u1","push_subscribe":true`, wantErr: notValid("push_subscribe")},
		{name: "country code", object: `"external_id":"u1","country":"AU"`},
		{name: "country name is accepted (stored as null)", object: `"external_id":"u1","country":"Atlantis"`},
		{name: "country number", object: `"external_id":"u1","country":61`, wantErr: notValid("country")},
		{name: "language", object: `"external_id":"u1","language":"en"`},
		{name: "language name", object: `"external_id":"u1","language":"English"`, wantErr: notValid("language")},
		{name: "time_zone invalid is ignored", object: `"external_id":"u1","time_zone":"Mars/Olympus"`},
		{name: "first_name 255 characters", object: `"external_id":"u1","first_name":"` + max255 + `"`},
		{name: "first_name 256 characters", object: `"external_id":"u1","first_name":"` + long + `"`, wantErr: notValid("first_name")},
		{name: "last_name number", object: `"external_id":"u1","last_name":5`, wantErr: notValid("last_name")},
		{name: "session date", object: `"external_id":"u1","date_of_first_session":"2024-01-02 03:04:05"`},
		{name: "session date bad", object: `"external_id":"u1","date_of_last_session":"yesterday"`, wantErr: notValid("date_of_last_session")},
		{name: "tracking flag", object: `"external_id":"u1","email_open_tracking_disabled":true`},
		{name: "tracking flag string", object: `"external_id":"u1","email_click_tracking_disabled":"true"`, wantErr: notValid("email_click_tracking_disabled")},
		{name: "current_location", object: `"external_id":"u1","current_location":{"longitude":-73.99,"latitude":40.75}`},
		{name: "current_location partial", object: `"external_id":"u1","current_location":{"longitude":-73.99}`, wantErr: notValid("current_location")},
		{name: "twitter", object: `"external_id":"u1","twitter":{"id":12,"screen_name":"jon","followers_count":3}`},
		{name: "twitter id as string", object: `"external_id":"u1","twitter":{"id":"12"}`, wantErr: notValid("twitter.id")},
		{name: "facebook", object: `"external_id":"u1","facebook":{"id":"12","likes":["a"],"num_friends":3}`},
		{name: "facebook unknown key", object: `"external_id":"u1","facebook":{"friends":3}`, wantErr: notValid("facebook.friends")},
		{name: "subscription_groups", object: `"external_id":"u1","subscription_groups":[{"subscription_group_id":"g","subscription_state":"subscribed"}]`},
		{name: "subscription_groups bad state", object: `"external_id":"u1","subscription_groups":[{"subscription_group_id":"g","subscription_state":"opted_in"}]`, wantErr: notValid("subscription_groups")},
		{name: "push_tokens without token", object: `"external_id":"u1","push_tokens":[{"app_id":"a"}]`, wantErr: notValid("push_tokens")},
		{name: "bio is ignored", object: `"external_id":"u1","bio":"hello"`},
		{name: "_merge_objects not a boolean", object: `"external_id":"u1","_merge_objects":1`, wantErr: notValid("_merge_objects")},
		// Custom attributes.
		{name: "custom scalars", object: `"external_id":"u1","a":"x","b":1,"c":1.5,"d":true,"e":null`},
		{name: "custom $ prefix", object: `"external_id":"u1","$vip":true`, wantErr: notValid("$vip")},
		{name: "custom key 256 characters", object: `"external_id":"u1","` + long + `":1`, wantErr: notValid(long)},
		{name: "custom key empty", object: `"external_id":"u1","":1`, wantErr: notValid("")},
		{name: "custom string 255 characters", object: `"external_id":"u1","s":"` + max255 + `"`},
		{name: "custom string 256 characters", object: `"external_id":"u1","s":"` + long + `"`, wantErr: notValid("s")},
		{name: "string array", object: `"external_id":"u1","tags":["a","b"]`},
		{name: "array with a number", object: `"external_id":"u1","tags":["a",1]`, wantErr: notValid("tags")},
		{name: "array element too long", object: `"external_id":"u1","tags":["` + long + `"]`, wantErr: notValid("tags")},
		{name: "array of objects mixed", object: `"external_id":"u1","pets":[{"id":1},"dog"]`, wantErr: notValid("pets")},
		{name: "inc", object: `"external_id":"u1","logins":{"inc":-2}`},
		{name: "inc float", object: `"external_id":"u1","logins":{"inc":1.5}`, wantErr: notValid("logins")},
		{name: "inc string", object: `"external_id":"u1","logins":{"inc":"1"}`, wantErr: notValid("logins")},
		{name: "add and remove", object: `"external_id":"u1","tags":{"add":["a"],"remove":["b"]}`},
		{name: "add numbers", object: `"external_id":"u1","tags":{"add":[1]}`, wantErr: notValid("tags")},
		{name: "$add", object: `"external_id":"u1","pets":{"$add":[{"id":1}]}`},
		{name: "$remove without key", object: `"external_id":"u1","pets":{"$remove":[{"$identifier_value":1}]}`, wantErr: notValid("pets")},
		{name: "$update without new object", object: `"external_id":"u1","pets":{"$update":[{"$identifier_key":"id","$identifier_value":1}]}`, wantErr: notValid("pets")},
		{name: "$time value", object: `"external_id":"u1","signup":{"$time":"2024-01-02"}`},
		{name: "$time bad", object: `"external_id":"u1","signup":{"$time":"soon"}`, wantErr: notValid("signup")},
		// Invalid nested values are not object errors: Braze drops nested updates.
		{name: "nested null is dropped, not rejected", object: `"external_id":"u1","car":{"make":null}`},
		{name: "nested key with a dot", object: `"external_id":"u1","car":{"a.b":1}`},
		{name: "nested over 100 KB", object: `"external_id":"u1","pets":` + nested100K},
	})
}

// TestErrorIndexesArePerArray checks that errors[] index each array on its
// own, and that a request whose every object fails is a 400 that still
// lists them.
func TestErrorIndexesArePerArray(t *testing.T) {
	s := NewHandler()
	res := send(t, s, `{
		"attributes":[{"external_id":"a"},{"first_name":"x"},{"external_id":"b","dob":"bad"}],
		"events":[{"external_id":"a"},{`+ev+`}],
		"purchases":[{`+pur+`,"quantity":500}]}`)
	if res.status != 201 || res.resp.Message != "success" {
		t.Fatalf("got %d %+v", res.status, res.resp)
	}
	want := []ObjectError{
		{Type: MsgIdentifierRequired, InputArray: "attributes", Index: 1},
		{Type: notValid("dob"), InputArray: "attributes", Index: 2},
		{Type: required("name"), InputArray: "events", Index: 0},
		{Type: notValid("quantity"), InputArray: "purchases", Index: 0},
	}
	if !slices.Equal(res.resp.Errors, want) {
		t.Errorf("errors = %+v\nwant %+v", res.resp.Errors, want)
	}
	if res.resp.AttributesProcessed != 1 || res.resp.EventsProcessed != 1 || res.resp.PurchasesProcessed != 0 {
		t.Errorf("processed counts = %+v", res.resp)
	}
	if _, ok := s.User("b"); ok {
		t.Error("a rejected object was applied")
	}

	res = send(t, s, `{"attributes":[{"first_name":"x"}],"events":[{"external_id":"a"}]}`)
	if res.status != 400 || res.resp.Message != MsgNoValidData || len(res.resp.Errors) != 2 {
		t.Errorf("all invalid: got %d %+v", res.status, res.resp)
	}
}

// TestResponseShape checks the exact JSON of a success answer: counts only
// for arrays with processed objects, no errors key when there are none.
func TestResponseShape(t *testing.T) {
	s := NewHandler()
	r := send(t, s, `{"events":[{`+ev+`},{`+ev+`}]}`)
	got := string(marshal(r.resp))
	want := `{"message":"success","events_processed":2}`
	if got != want {
		t.Errorf("response = %s, want %s", got, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestBulkEndpoint(t *testing.T) {
	s := NewHandler()
	toBulk := header("X-Braze-Bulk", "true")
	bulkPath := func(r *http.Request) { r.URL.Path = "/users/track/bulk" }
	many := `{"attributes":[` + objects(1000, `{"external_id":"u1"}`) + `]}`
	if res := send(t, s, many, bulkPath, toBulk); res.status != 400 || res.resp.Message != MsgMaxInputLength {
		// 1,000 objects for one user is over the 100-per-user limit.
		t.Errorf("1000 objects for one user: %d %+v", res.status, res.resp)
	}
	var b strings.Builder
	b.WriteString(`{"attributes":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"external_id":"u` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `"}`)
	}
	b.WriteString(`]}`)
	if res := send(t, s, b.String(), bulkPath); res.status != 201 || res.resp.AttributesProcessed != 1000 {
		t.Errorf("1000 objects over many users: %d %+v", res.status, res.resp)
	}
	if res := send(t, s, `{"attributes":[`+objects(1001, `{"external_id":"u1"}`)+`]}`, bulkPath); res.status != 400 {
		t.Errorf("1001 objects: %d", res.status)
	}
}

func TestRoutes(t *testing.T) {
	s := NewHandler()
	if res := send(t, s, attrs(`"external_id":"u1"`), func(r *http.Request) { r.URL.Path = "/users/trak" }); res.status != 404 {
		t.Errorf("unknown path: %d", res.status)
	}
	if res := send(t, s, attrs(`"external_id":"u1"`), func(r *http.Request) { r.Method = http.MethodGet }); res.status != 405 || res.header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", res.status, res.header.Get("Allow"))
	}
}
