package braze

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/cputime"
)

// benchObjects returns the object BenchmarkTrackAll sends and the golden
// file's object with every standard field, each with the map a
// hand-written encoding/json sender would marshal instead.
func benchObjects() []struct {
	name string
	sdk  *UserAttributes
	base map[string]any
} {
	typical := &UserAttributes{ExternalID: "user-12345", FirstName: FieldOf("Jon"), Email: FieldOf("jon@example.com")}
	_ = typical.Set("loyalty_tier", "gold")
	_ = typical.Set("points", int64(12345))
	ts := time.Date(2013, 7, 16, 19, 20, 45, 0, time.UTC)
	full := &UserAttributes{
		ExternalID: "u1", Country: FieldOf("US"), CurrentLocation: FieldOf(Location{Latitude: 40.75, Longitude: -73.99}),
		DateOfFirstSession: FieldOf(ts), DateOfLastSession: FieldOf(ts), DOB: FieldOf(Date{1988, time.February, 14}),
		Email: FieldOf("jon@example.com"), EmailClickTrackingDisabled: FieldOf(false), EmailOpenTrackingDisabled: FieldOf(true),
		EmailSubscribe: FieldOf(OptedIn), Facebook: FieldOf(Facebook{ID: "fb1", Likes: []string{"golf"}, NumFriends: 12}),
		FirstName: FieldOf("Jon"), Gender: FieldOf(GenderMale), HomeCity: FieldOf("New Orleans"),
		ImageURL: FieldOf("https://example.com/a.png"), Language: FieldOf("en"), LastName: FieldOf("Doe"),
		MarkedEmailAsSpamAt: FieldOf(ts), Phone: FieldOf("+15043277269"), PushSubscribe: FieldOf(Unsubscribed),
		PushTokens:         FieldOf([]PushToken{{AppID: "app", Token: "tok", DeviceID: "dev"}}),
		SubscriptionGroups: FieldOf([]SubscriptionGroupState{{GroupID: "sg_1", State: GroupSubscribed}}),
		TimeZone:           FieldOf("America/New_York"), Twitter: FieldOf(Twitter{ID: 1234567890123, ScreenName: "jon"}),
	}
	_ = full.Set("loyalty_tier", "gold")
	return []struct {
		name string
		sdk  *UserAttributes
		base map[string]any
	}{
		{"typical", typical, map[string]any{"external_id": "user-12345", "first_name": "Jon", "email": "jon@example.com", "loyalty_tier": "gold", "points": 12345}},
		{"full", full, map[string]any{
			"external_id": "u1", "country": "US", "current_location": map[string]any{"longitude": -73.99, "latitude": 40.75},
			"date_of_first_session": ts, "date_of_last_session": ts, "dob": "1988-02-14", "email": "jon@example.com",
			"email_click_tracking_disabled": false, "email_open_tracking_disabled": true, "email_subscribe": "opted_in",
			"facebook": map[string]any{"id": "fb1", "likes": []string{"golf"}, "num_friends": 12}, "first_name": "Jon",
			"gender": "M", "home_city": "New Orleans", "image_url": "https://example.com/a.png", "language": "en",
			"last_name": "Doe", "marked_email_as_spam_at": ts, "phone": "+15043277269", "push_subscribe": "unsubscribed",
			"push_tokens":         []map[string]any{{"app_id": "app", "token": "tok", "device_id": "dev"}},
			"subscription_groups": []map[string]any{{"subscription_group_id": "sg_1", "subscription_state": "subscribed"}},
			"time_zone":           "America/New_York", "twitter": map[string]any{"id": 1234567890123, "screen_name": "jon"},
			"loyalty_tier": "gold",
		}},
	}
}

// BenchmarkEncode measures what the sender does per attributes object,
// validate and appendJSON (timed apart: time_zone validation loads the
// zone from the system database and dominates the full object), against
// encoding/json marshalling the equivalent map, in the same loop;
// sdk/baseline is the ratio of appendJSON's time to encoding/json's (below
// 1 is faster than the baseline). The times are the process's CPU time
// (where getrusage exists), steadier than wall time on a shared machine.
func BenchmarkEncode(b *testing.B) {
	for _, o := range benchObjects() {
		b.Run(o.name, func(b *testing.B) {
			var keys []string
			buf := make([]byte, 0, 2048)
			var val, enc, base time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := now()
				for range 100 {
					if err := o.sdk.validate(newChecker(DefaultMaxArrayLength)); err != nil {
						b.Fatal(err)
					}
				}
				t1 := now()
				for range 100 {
					var err error
					if buf, err = o.sdk.appendJSON(buf[:0], &keys); err != nil {
						b.Fatal(err)
					}
				}
				t2 := now()
				for range 100 {
					if _, err := json.Marshal(o.base); err != nil {
						b.Fatal(err)
					}
				}
				val += t1 - t0
				enc += t2 - t1
				base += now() - t2
			}
			n := float64(b.N) * 100
			b.ReportMetric(float64(val.Nanoseconds())/n, "validate-ns/object")
			b.ReportMetric(float64(enc.Nanoseconds())/n, "encode-ns/object")
			b.ReportMetric(float64(base.Nanoseconds())/n, "baseline-ns/object")
			b.ReportMetric(float64(enc)/float64(base), "sdk/baseline")
		})
	}
}

// BenchmarkSet measures NewUserAttributes from a mapped record's names and
// values (standard fields and custom attributes), the step between a plan's
// change and a TrackAll update.
func BenchmarkSet(b *testing.B) {
	attrs := []struct {
		k string
		v any
	}{
		{"first_name", "Jon"}, {"last_name", "Doe"}, {"email", "jon@example.com"}, {"dob", Date{1988, 2, 14}},
		{"gender", "M"}, {"country", "US"}, {"email_subscribe", "opted_in"}, {"home_city", nil},
		{"loyalty_tier", "gold"}, {"points", int64(7)},
	}
	seq := func(yield func(string, any) bool) {
		for _, a := range attrs {
			if !yield(a.k, a.v) {
				return
			}
		}
	}
	b.ReportAllocs()
	c0 := cputime.Process()
	for b.Loop() {
		if _, err := NewUserAttributes("external_id", "u1", seq); err != nil {
			b.Fatal(err)
		}
	}
	if c := cputime.Process(); c > 0 {
		b.ReportMetric(float64(c-c0)/float64(b.N), "cpu-ns/op")
	}
}

// now is the process's CPU time, or the wall clock where getrusage is
// missing.
func now() time.Duration {
	if c := cputime.Process(); c > 0 {
		return c
	}
	return time.Duration(time.Now().UnixNano())
}
