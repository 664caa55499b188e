package braze

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

func ptr[T any](v T) *T { return &v }

// goldenCases cover every standard field, identifier and custom attribute
// type and operation, and events and purchases.
func goldenCases(t *testing.T) map[string]any {
	t.Helper()
	ts := time.Date(2013, 7, 16, 19, 20, 45, 0, time.FixedZone("", 3600))
	full := &UserAttributes{
		ExternalID:                 "u1",
		UpdateExistingOnly:         ptr(false),
		Country:                    FieldOf("US"),
		CurrentLocation:            FieldOf(Location{Latitude: 40.75, Longitude: -73.99}),
		DateOfFirstSession:         FieldOf(ts),
		DateOfLastSession:          FieldOf(time.Date(2024, 1, 2, 3, 4, 5, 600_000_000, time.UTC)),
		DOB:                        FieldOf(Date{1988, time.February, 14}),
		Email:                      FieldOf("jon@example.com"),
		EmailClickTrackingDisabled: FieldOf(false),
		EmailOpenTrackingDisabled:  FieldOf(true),
		EmailSubscribe:             FieldOf(OptedIn),
		Facebook:                   FieldOf(Facebook{ID: "fb1", Likes: []string{"golf"}, NumFriends: 12}),
		FirstName:                  FieldOf("Jon"),
		Gender:                     FieldOf(GenderMale),
		HomeCity:                   FieldOf("New Orleans"),
		ImageURL:                   FieldOf("https://example.com/a.png"),
		Language:                   FieldOf("en"),
		LastName:                   FieldOf("Doe \"Jr\" <x>"),
		MarkedEmailAsSpamAt:        FieldOf(time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC)),
		Phone:                      FieldOf("+15043277269"),
		PushSubscribe:              FieldOf(Unsubscribed),
		PushTokens:                 FieldOf([]PushToken{{AppID: "app", Token: "tok", DeviceID: "dev"}, {AppID: "app", Token: "tok2"}}),
		SubscriptionGroups:         FieldOf([]SubscriptionGroupState{{GroupID: "sg_1", State: GroupSubscribed}}),
		TimeZone:                   FieldOf("America/New_York"),
		Twitter:                    FieldOf(Twitter{ID: 1234567890123, ScreenName: "jon", FollowersCount: 5, FriendsCount: 6, StatusesCount: 7}),
	}
	nulls := &UserAttributes{
		BrazeID: "b1", Country: NullField[string](), CurrentLocation: NullField[Location](), DOB: NullField[Date](),
		Gender: NullField[Gender](), FirstName: NullField[string](), Facebook: NullField[Facebook](), Twitter: NullField[Twitter](),
		DateOfFirstSession: NullField[time.Time](), EmailOpenTrackingDisabled: NullField[bool](),
	}
	custom := &UserAttributes{UserAlias: &UserAlias{Name: "a1", Label: "crm"}, UpdateExistingOnly: ptr(false), MergeObjects: true}
	for _, kv := range []struct {
		k string
		v any
	}{
		{"str", "gold"}, {"int", int64(42)}, {"plain_int", 7}, {"float", 1.5}, {"big_float", 1e22},
		{"decimal", json.Number("19.990")}, {"bool", true}, {"removed", nil},
		{"when", ts}, {"day", Date{2021, time.December, 1}}, {"tags", []string{"a", "b"}},
		{"nested", map[string]any{"b": int64(1), "a": map[string]any{"since": Date{2020, 5, 28}, "at": ts}, "n": nil}},
		{"pets", []any{map[string]any{"id": int64(1), "type": "dog"}}},
		{"logins", Increment(1)}, {"esc", "line\nbreak\t\u2028 \x01 \xff"},
	} {
		if err := custom.Set(kv.k, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	ops := &UserAttributes{ExternalID: "u2", MergeObjects: true}
	must(t, ops.AddToArray("tags", "vip"))
	must(t, ops.RemoveFromArray("tags", "trial"))
	must(t, ops.AddObjects("pets", map[string]any{"id": int64(3), "type": "dog"}))
	must(t, ops.RemoveObjects("pets", "id", int64(1)))
	must(t, ops.UpdateObjects("pets", "id", int64(4), map[string]any{"name": "Rex"}))
	must(t, ops.Increment("visits", -2))
	emailOnly := &UserAttributes{Email: FieldOf("a@example.com"), PushTokenImport: false, HomeCity: FieldOf("Paris")}
	tokenImport := &UserAttributes{PushTokenImport: true, PushTokens: FieldOf([]PushToken{{AppID: "app", Token: "t"}})}
	ev := &Event{UserRef: UserRef{ExternalID: "u1"}, AppID: "app", Name: "rented_movie", Time: ts,
		Properties: map[string]any{"movie": "The Sad Egg", "at": ts, "n": int64(3), "obj": map[string]any{"x": []any{int64(1), "y"}}}, UpdateExistingOnly: ptr(false)}
	evAlias := &Event{UserRef: UserRef{UserAlias: &UserAlias{Name: "n", Label: "l"}}, Name: "e", Time: ts}
	pur := &Purchase{UserRef: UserRef{Email: "a@example.com"}, ProductID: "backpack", Currency: "USD", Price: 40, Quantity: 2, Time: ts,
		Properties: map[string]any{"color": "red"}}
	purPhone := &Purchase{UserRef: UserRef{Phone: "+33100000000"}, ProductID: "p", Currency: "JPY", Price: 1999.5, Time: ts}
	return map[string]any{
		"attributes_standard": full,
		"attributes_nulls":    nulls,
		"attributes_custom":   custom,
		"attributes_ops":      ops,
		"attributes_email":    emailOnly,
		"attributes_tokens":   tokenImport,
		"event":               ev,
		"event_alias":         evAlias,
		"purchase":            pur,
		"purchase_phone":      purPhone,
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGoldenJSON(t *testing.T) {
	for name, v := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("invalid JSON: %s", got)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("JSON differs from %s:\ngot:\n%s\nwant:\n%s", path, pretty.Bytes(), want)
			}
		})
	}
}
