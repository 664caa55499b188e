package braze

import (
	"testing"
	"time"
)

// Each rule of Braze's data-point billing, one case each.
func TestRegression_Issue13_DataPoints(t *testing.T) {
	attrs := func(f func(a *UserAttributes)) *UserAttributes {
		a := &UserAttributes{ExternalID: "u1"}
		f(a)
		return a
	}
	set := func(name string, v any) *UserAttributes {
		return attrs(func(a *UserAttributes) {
			if err := a.Set(name, v); err != nil {
				t.Fatalf("Set(%s): %v", name, err)
			}
		})
	}
	yes := true
	for _, tc := range []struct {
		name string
		a    *UserAttributes
		want int
	}{
		{"identifier alone is free", attrs(func(*UserAttributes) {}), 0},
		{"braze_id is free", &UserAttributes{BrazeID: "b1"}, 0},
		{"user_alias is free", &UserAttributes{UserAlias: &UserAlias{"n", "l"}}, 0},
		{"control flags are free", attrs(func(a *UserAttributes) { a.UpdateExistingOnly, a.MergeObjects = &yes, true }), 0},
		{"standard field", attrs(func(a *UserAttributes) { a.FirstName = FieldOf("Ann") }), 1},
		{"two standard fields", attrs(func(a *UserAttributes) { a.FirstName, a.DOB = FieldOf("Ann"), FieldOf(Date{1990, 1, 2}) }), 2},
		{"null removal counts", attrs(func(a *UserAttributes) { a.LastName = NullField[string]() }), 1},
		{"custom scalar", set("tier", "gold"), 1},
		{"custom null", set("tier", nil), 1},
		{"custom time", set("seen", time.Unix(0, 0)), 1},
		{"increment", set("visits", Increment(2)), 1},
		{"string array counts one", set("tags", []string{"a", "b", "c"}), 1},
		{"array update counts one", set("tags", ArrayUpdate{Add: []string{"a", "b"}, Remove: []string{"c"}}), 1},
		{"nested object: every key", set("car", map[string]any{"make": "x", "model": "y", "year": int64(2020)}), 3},
		{"nested object: keys at every depth", set("car", map[string]any{"make": "x", "engine": map[string]any{"hp": int64(90), "fuel": "e"}}), 4},
		{"empty nested object counts one", set("car", map[string]any{}), 1},
		{"array of objects: keys of each", set("pets", []any{map[string]any{"name": "a", "kind": "cat"}, map[string]any{"name": "b"}}), 3},
		{"object array update", set("pets", ObjectArrayUpdate{
			Add:    []map[string]any{{"name": "c", "kind": "dog"}},
			Remove: []ObjectRef{{Key: "name", Value: "a"}},
			Update: []ObjectUpdate{{Key: "name", Value: "b", NewObject: map[string]any{"kind": "cat"}}},
		}), 4},
		{"subscription states are free", attrs(func(a *UserAttributes) {
			a.EmailSubscribe, a.PushSubscribe = FieldOf(OptedIn), FieldOf(Unsubscribed)
			a.SubscriptionGroups = FieldOf([]SubscriptionGroupState{{"g", GroupSubscribed}})
		}), 0},
		{"email next to a primary id is an update", attrs(func(a *UserAttributes) { a.Email = FieldOf("a@x.com") }), 1},
		{"email as the identifier is free", &UserAttributes{Email: FieldOf("a@x.com"), FirstName: FieldOf("A")}, 1},
		{"phone beside an identifying email is an update", &UserAttributes{Email: FieldOf("a@x.com"), Phone: FieldOf("+15555550100")}, 1},
		{"phone as the identifier is free", &UserAttributes{Phone: FieldOf("+15555550100")}, 0},
		{"country and language count", attrs(func(a *UserAttributes) { a.Country, a.Language = FieldOf("FR"), FieldOf("fr") }), 2},
		{"structured standard field counts one", attrs(func(a *UserAttributes) { a.CurrentLocation = FieldOf(Location{1, 2}) }), 1},
		{"nil", nil, 0},
	} {
		if got := tc.a.DataPoints(); got != tc.want {
			t.Errorf("%s: %d data points, want %d", tc.name, got, tc.want)
		}
	}
	ev, pu := &Event{Name: "x", Properties: map[string]any{"a": 1, "b": 2}}, &Purchase{ProductID: "p"}
	if ev.DataPoints() != 1 || pu.DataPoints() != 1 {
		t.Errorf("event %d, purchase %d, want 1 each", ev.DataPoints(), pu.DataPoints())
	}
	u := Update{Attributes: attrs(func(a *UserAttributes) { a.FirstName = FieldOf("A") })}
	if u.DataPoints() != 1 || (Update{Event: ev}).DataPoints() != 1 || (Update{}).DataPoints() != 0 {
		t.Error("Update.DataPoints")
	}
}
