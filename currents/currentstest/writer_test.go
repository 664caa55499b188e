package currentstest_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/hamba/avro/v2/ocf"
)

// TestReadableByHamba checks the writer against an independent reader:
// hamba/avro's OCF decoder reads every codec back.
func TestReadableByHamba(t *testing.T) {
	recs := []map[string]any{
		{"id": "a", "user_id": "u", "time": 1, "email_address": "a@x", "campaign_name": "C"},
		{"id": "b", "user_id": "v", "time": int64(2), "email_address": "b@x"},
		{"id": "c", "user_id": "w", "time": 3.0, "email_address": "c@x"},
	}
	for _, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, "users.messages.email.Send", recs, currentstest.WithCodec(codec), currentstest.WithBlockRecords(2)); err != nil {
			t.Fatal(err)
		}
		d, err := ocf.NewDecoder(&buf)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		var got []map[string]any
		for d.HasNext() {
			var m map[string]any
			if err := d.Decode(&m); err != nil {
				t.Fatalf("%s: %v", codec, err)
			}
			got = append(got, m)
		}
		if d.Error() != nil || len(got) != 3 {
			t.Fatalf("%s: %d records, %v", codec, len(got), d.Error())
		}
		if got[0]["id"] != "a" || got[2]["time"] != 3 || got[0]["campaign_name"] != "C" || got[1]["campaign_name"] != nil {
			t.Errorf("%s: read back %v", codec, got)
		}
	}
}

func TestWriteFileErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := currentstest.WriteFile(&buf, "no.such.Type", nil); err == nil {
		t.Error("unknown type without schema accepted")
	}
	if err := currentstest.WriteFile(&buf, "users.messages.email.Send", nil, currentstest.WithCodec("lz4")); err == nil {
		t.Error("unknown codec accepted")
	}
	if err := currentstest.WriteFile(&buf, "users.messages.email.Send", []map[string]any{{"time": "noon"}}); err == nil {
		t.Error("string for an int field accepted")
	}
}

func ExampleWriteFile() {
	f, err := os.CreateTemp("", "*.avro")
	if err != nil {
		panic(err)
	}
	defer os.Remove(f.Name())
	err = currentstest.WriteFile(f, "users.behaviors.CustomEvent", []map[string]any{
		{"id": "e1", "user_id": "u1", "time": 1767225600, "name": "opened_app", "properties": "{}"},
	}, currentstest.WithCodec("snappy"))
	if err != nil {
		panic(err)
	}
	f.Seek(0, 0)
	for ev, err := range currents.NewDecoder().Events(f, "users.behaviors.CustomEvent") {
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.EventType(), ev.EventID(), ev.(*currents.CustomEvent).Name)
	}
	f.Close()
	// Output:
	// users.behaviors.CustomEvent e1 opened_app
}
