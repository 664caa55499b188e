package braze_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// A mapped record's typed values go straight into Set.
func TestSetUnwrapsTypedValues(t *testing.T) {
	var a braze.UserAttributes
	sets := []struct {
		name string
		v    diff.Value
	}{
		{"external_id", diff.StringValue("u1")},
		{"first_name", diff.StringValue("Ann")},
		{"dob", diff.AnyValue(braze.Date{Year: 1990, Month: 5, Day: 17})},
		{"points", diff.IntValue(10)},
		{"ratio", diff.NumberValue("1.50")},
		{"vip", diff.BoolValue(true)},
		{"last_seen", diff.TimeValue(time.Date(2024, 3, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600)))},
		{"tier", diff.NullValue()},
	}
	for _, s := range sets {
		if err := a.Set(s.name, s.v); err != nil {
			t.Fatalf("Set(%s, %v): %v", s.name, s.v, err)
		}
	}
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"external_id":"u1","dob":"1990-05-17","first_name":"Ann","last_seen":"2024-03-01T08:00:00Z","points":10,"ratio":1.50,"tier":null,"vip":true}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if err := a.Set("email_subscribe", diff.IntValue(3)); err == nil {
		t.Error("a typed value of the wrong type was accepted")
	}
}
