package currents_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// AppendJSON writes exactly what MarshalJSON returns, for decoded events
// (typed and generic) and hand-built ones, after what dst holds.
func TestAppendJSONMatchesMarshalJSON(t *testing.T) {
	var b bytes.Buffer
	recs := []map[string]any{
		{"id": "s1", "user_id": "u<1>", "time": int64(1795773600), "email_address": "a@example.com"},
		{"id": "s2", "user_id": "u\n2", "time": int64(1795773601)},
	}
	if err := currentstest.WriteFile(&b, "users.messages.email.Send", recs); err != nil {
		t.Fatal(err)
	}
	var events []currents.Event
	for _, typ := range []string{"users.messages.email.Send", "users.future.Type"} {
		for ev, err := range currents.NewDecoder().Events(bytes.NewReader(b.Bytes()), typ) {
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		}
	}
	events = append(events, currents.NewEvent("users.messages.email.Open"))
	buf := []byte("prefix")
	for _, ev := range events {
		want, err := ev.(json.Marshaler).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := currents.AppendJSON(buf[:6], ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[:6]) != "prefix" || string(got[6:]) != string(want) {
			t.Errorf("%T: AppendJSON %s, MarshalJSON %s", ev, got, want)
		}
		buf = got
	}
}
