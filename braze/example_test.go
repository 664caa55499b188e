package braze_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

func ExampleNewClient() {
	client, err := braze.NewClient("YOUR-REST-API-KEY",
		braze.WithInstance("https://dashboard-03.braze.com"), // or "US-03"
		braze.WithRateLimit(3000, 3*time.Second),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(client.Endpoint())
	fmt.Println(client) // the key is never printed
	// Output:
	// https://rest.iad-03.braze.com/users/track
	// braze.Client{endpoint: https://rest.iad-03.braze.com/users/track}
}

// fakeBraze answers every request with success; a real test would use
// package brazetest.
func fakeBraze() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"message":"success","attributes_processed":1,"events_processed":1}`)
	}))
}

func ExampleClient_Track() {
	srv := fakeBraze()
	defer srv.Close()
	client, _ := braze.NewClient("key", braze.WithBaseURL(srv.URL))

	user := &braze.UserAttributes{
		ExternalID: "u1",
		FirstName:  braze.FieldOf("Jon"),
		DOB:        braze.FieldOf(braze.Date{Year: 1988, Month: time.February, Day: 14}),
		HomeCity:   braze.NullField[string](), // sent as null: clears the field
	}
	_ = user.Set("loyalty_tier", "gold")
	_ = user.Increment("logins", 1)

	resp, err := client.Track(context.Background(), braze.TrackRequest{
		Attributes: []*braze.UserAttributes{user},
		Events: []*braze.Event{{
			UserRef: braze.UserRef{ExternalID: "u1"},
			Name:    "signed_up",
			Time:    time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Message, resp.AttributesProcessed, resp.EventsProcessed, len(resp.Errors))
	// Output: success 1 1 0
}

func ExampleClient_TrackAll() {
	srv := fakeBraze()
	defer srv.Close()
	client, _ := braze.NewClient("key", braze.WithBaseURL(srv.URL))

	// Changes as they come from the delta engine: a key and attribute values.
	changes := []struct {
		key   string
		attrs map[string]any
	}{
		{"u1", map[string]any{"first_name": "Ann", "vip": true}},
		{"u2", map[string]any{"dob": braze.Date{Year: 1990, Month: time.March, Day: 3}, "vip": nil}},
		{"u3", map[string]any{"country": "Atlantis"}}, // rejected by validation
	}
	updates := func(yield func(braze.Update) bool) {
		for _, ch := range changes {
			ua := &braze.UserAttributes{}
			_ = ua.Set("external_id", ch.key)
			for name, v := range ch.attrs {
				_ = ua.Set(name, v)
			}
			if !yield(braze.Update{Attributes: ua, Ref: ch.key}) {
				return
			}
		}
	}
	accepted := map[string]braze.ResultKind{}
	for res := range client.TrackAll(context.Background(), updates) {
		accepted[res.Ref.(string)] = res.Kind() // e.g. plan.Ack(res.Ref, res.Err)
	}
	fmt.Println(accepted["u1"], accepted["u2"], accepted["u3"])
	// Output: accepted accepted rejected
}

func ExampleUserAttributes_Set() {
	// Values as the amperity mapper and the diff engine produce them.
	var ua braze.UserAttributes
	for _, kv := range []struct {
		name  string
		value any
	}{
		{"external_id", "u1"},
		{"dob", braze.Date{Year: 1980, Month: time.December, Day: 21}},
		{"email_subscribe", "opted_in"},
		{"loyalty_tier", "gold"},
		{"vip", nil}, // removes the attribute in Braze
	} {
		if err := ua.Set(kv.name, kv.value); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println(ua.Set("dob", "21/12/1980"))
	b, _ := json.Marshal(&ua)
	fmt.Println(string(b))
	// Output:
	// braze: field "dob": "21/12/1980" is not a YYYY-MM-DD calendar date
	// {"external_id":"u1","dob":"1980-12-21","email_subscribe":"opted_in","loyalty_tier":"gold","vip":null}
}

func ExampleStandardField() {
	f, ok := braze.StandardField("email_subscribe")
	fmt.Println(ok, f.Kind, f.Consent, f.Values)
	_, ok = braze.StandardField("DOB") // case matters: a custom attribute
	fmt.Println(ok)
	// Output:
	// true enum true [opted_in subscribed unsubscribed]
	// false
}
