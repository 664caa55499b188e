package currents_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// Drift cases written with this test's own schemas: the same event type as
// Braze has shipped it over the years, all decoded into *RCSClick.
func TestSchemaDrift(t *testing.T) {
	const rcsClick = "users.messages.rcs.Click"
	cases := []struct {
		name   string
		schema string
	}{
		{"plain string, int time", `{"type":"record","name":"Click","namespace":"users.messages.rcs","fields":[
			{"name":"id","type":"string"},{"name":"user_id","type":"string"},{"name":"time","type":"int"},
			{"name":"user_phone_number","type":"string"}]}`},
		{"nullable string, long time, new namespace", `{"type":"record","name":"Click","namespace":"dataexport.S3.inner.users.messages.rcs","fields":[
			{"name":"id","type":"string"},{"name":"user_id","type":["null","string"],"default":null},{"name":"time","type":"long"},
			{"name":"user_phone_number","type":["null","string"],"default":null}]}`},
		{"reordered, null branch second, unknown fields", `{"type":"record","name":"SomethingElse","namespace":"x","fields":[
			{"name":"user_phone_number","type":["string","null"]},{"name":"brand_new","type":["null","string"],"default":null},
			{"name":"time","type":"long"},{"name":"id","type":"string"},{"name":"user_id","type":"string"},
			{"name":"nested","type":["null",{"type":"record","name":"N","fields":[{"name":"a","type":"int"}]}],"default":null}]}`},
		{"missing fields", `{"type":"record","name":"Click","namespace":"users.messages.rcs","fields":[{"name":"id","type":"string"},{"name":"time","type":"int"}]}`},
	}
	dec := currents.NewDecoder()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := map[string]any{"id": "e1", "user_id": "u1", "time": 1700000000, "user_phone_number": "+15550100",
				"brand_new": "hello", "nested": map[string]any{"a": 7}}
			data := writeFile(t, rcsClick, []map[string]any{rec}, currentstest.WithSchema(tc.schema))
			evs, err := decodeAll(t, dec, data, rcsClick)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := evs[0].(*currents.RCSClick)
			if !ok {
				t.Fatalf("got %T", evs[0])
			}
			var s struct{ Fields []struct{ Name string } }
			json.Unmarshal([]byte(tc.schema), &s)
			has := map[string]bool{}
			for _, f := range s.Fields {
				has[f.Name] = true
			}
			check := func(field, got, want string) {
				if !has[field] {
					want = "" // missing fields are zero
				}
				if got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			check("id", e.ID, "e1")
			check("user_id", e.BrazeUserID, "u1")
			check("user_phone_number", e.UserPhoneNumber, "+15550100")
			if e.UnixTime != 1700000000 || e.Time().Unix() != 1700000000 {
				t.Errorf("time = %d", e.UnixTime)
			}
			// The JSON view has exactly the writer's fields, unknown ones included.
			b, _ := json.Marshal(e)
			var view map[string]any
			json.Unmarshal(b, &view)
			if len(view) != len(s.Fields) {
				t.Errorf("JSON view %s has %d keys, writer schema %d", b, len(view), len(s.Fields))
			}
			if has["brand_new"] && view["brand_new"] != "hello" {
				t.Errorf("unknown field lost: %s", b)
			}
			if has["nested"] {
				if n, _ := view["nested"].(map[string]any); n["a"] != float64(7) {
					t.Errorf("nested record: %s", b)
				}
			}
			if _, ok := e.Get("dispatch_id"); ok {
				t.Error("Get reports a field the writer schema lacks")
			}
		})
	}
}

// TestSchemaMismatchKeepsValue: a writer type the Go field cannot hold
// (here an int where the struct has a string) leaves the Go field zero but
// keeps the value in Get and the JSON view.
func TestSchemaMismatchKeepsValue(t *testing.T) {
	schema := `{"type":"record","name":"Send","namespace":"users.messages.email","fields":[
		{"name":"id","type":"string"},{"name":"campaign_id","type":["null","int"],"default":null},{"name":"time","type":"int"}]}`
	data := writeFile(t, emailSend, []map[string]any{{"id": "e", "campaign_id": 42, "time": 5}}, currentstest.WithSchema(schema))
	evs, err := decodeAll(t, currents.NewDecoder(), data, emailSend)
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0].(*currents.EmailSend)
	if v, ok := e.Get("campaign_id"); e.CampaignID != "" || !ok || v != int64(42) {
		t.Errorf("CampaignID = %q, Get = %v, %v", e.CampaignID, v, ok)
	}
	if b, _ := json.Marshal(e); string(b) != `{"id":"e","campaign_id":42,"time":5}` {
		t.Errorf("JSON view %s", b)
	}
}

// TestDecoderConcurrent shares one Decoder (and its schema cache) across
// goroutines; run with -race.
func TestDecoderConcurrent(t *testing.T) {
	dec := currents.NewDecoder()
	files := [][]byte{
		writeFile(t, emailSend, emailSendRecords(50)),
		writeFile(t, emailSend, emailSendRecords(50), currentstest.WithCodec("zstandard")),
		writeFile(t, "users.messages.email.Open", []map[string]any{{"id": "o", "user_id": "u", "time": 1, "email_address": "a@b"}}),
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				data := files[(g+i)%len(files)]
				if _, err := decodeAll(t, dec, data, ""); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// TestHandBuiltEvent: an event built in code has the current schema's
// fields and round-trips through the synthetic writer.
func TestHandBuiltEvent(t *testing.T) {
	e := currents.NewEvent(emailSend).(*currents.EmailSend)
	e.ID, e.BrazeUserID, e.UnixTime, e.EmailAddress = "id-1", "u-1", 1700000000, "a@example.com"
	var buf = &bytesBuffer{}
	if err := currentstest.WriteEvents(buf, []currents.Event{e}); err != nil {
		t.Fatal(err)
	}
	evs, err := decodeAll(t, currents.NewDecoder(), buf.Bytes(), "")
	if err != nil {
		t.Fatal(err)
	}
	got := evs[0].(*currents.EmailSend)
	if got.ID != "id-1" || got.BrazeUserID != "u-1" || got.EmailAddress != "a@example.com" || got.UnixTime != 1700000000 {
		t.Errorf("round trip = %+v", got)
	}
	if len(got.Fields()) != len(e.Fields()) {
		t.Errorf("fields %v vs %v", got.Fields(), e.Fields())
	}
}
