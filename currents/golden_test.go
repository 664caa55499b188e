package currents_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGoldenNDJSON pins the JSON view (through the NDJSON writer) of
// synthetic files: nulls, floats, arrays, drift and a generic type.
func TestGoldenNDJSON(t *testing.T) {
	cases := []struct {
		name, eventType, schema string
		recs                    []map[string]any
		opts                    []currentstest.Option
	}{
		{name: "email_send", eventType: emailSend, recs: emailSendRecords(3)},
		{name: "purchase", eventType: "users.behaviors.Purchase", recs: []map[string]any{
			{"id": "p1", "user_id": "u1", "time": 1767225600, "product_id": "sku-1", "price": 3.14, "currency": "USD",
				"properties": `{"color":"red","size":"M"}`, "ad_tracking_enabled": true},
			{"id": "p2", "user_id": "u2", "time": 1767225601, "product_id": "sku-<2>&", "price": 1e-7, "currency": "EUR", "properties": "{}"},
		}},
		{name: "email_click_arrays", eventType: "users.messages.email.Click", recs: []map[string]any{
			{"id": "c1", "user_id": "u1", "time": 1767225600, "email_address": "a@b.c", "url": "https://example.com/?q=\"x\"",
				"is_suspected_bot_click": true, "suspected_bot_click_reason": []string{"ip", "ua"}},
			{"id": "c2", "user_id": "u2", "time": 1767225601, "email_address": "d@e.f"},
		}},
		{name: "rcs_click_old_schema", eventType: "users.messages.rcs.Click",
			schema: `{"type":"record","name":"Click","namespace":"users.messages.rcs","fields":[
				{"name":"id","type":"string"},{"name":"user_id","type":"string"},{"name":"time","type":"int"},
				{"name":"user_phone_number","type":"string"},{"name":"dispatch_id","type":["null","string"],"default":null}]}`,
			recs: []map[string]any{{"id": "r1", "user_id": "u1", "time": 1600000000, "user_phone_number": "+15550100", "dispatch_id": "d1"}}},
		{name: "generic", eventType: "users.messages.hologram.Beam",
			schema: `{"type":"record","name":"Beam","namespace":"users.messages.hologram","fields":[
				{"name":"id","type":"string"},{"name":"time","type":"long"},{"name":"ratio","type":"float"},
				{"name":"media_urls","type":["null",{"type":"array","items":["null","string"]}],"default":null},
				{"name":"counts","type":{"type":"map","values":"long"}},{"name":"raw","type":"bytes"},
				{"name":"tabs","type":"string"}]}`,
			recs: []map[string]any{{"id": "g1", "time": int64(4102444800), "ratio": 0.1, "media_urls": []any{"a", nil},
				"counts": map[string]any{"b": 2, "a": 1}, "raw": []byte{0, 0xe9}, "tabs": "a\tb\nc\u2028"}}},
		// Currents v12: the fields it added to email Click, which
		// *EmailClick lacks, in the JSON view after the v10 ones.
		{name: "email_click_v12", eventType: "users.messages.email.Click", recs: []map[string]any{
			{"id": "c1", "user_id": "u1", "time": 1788000000, "email_address": "a@b.c", "url": "https://example.com/?utm=x",
				"send_time": 1787990000, "has_url_parameters": true, "link_aliasing_enabled": false},
			{"id": "c2", "user_id": "u2", "time": 1788000001, "email_address": "d@e.f"},
		}, opts: []currentstest.Option{currentstest.WithAddedFields(currentstest.AddedFields("users.messages.email.Click", 12)...)}},
		// Currents v11: a landing page form submission, a type without a
		// published schema (a synthetic stand-in), decodes generically.
		{name: "landingpage_formsubmission_v11", eventType: "users.messages.landingpage.FormSubmission", recs: []map[string]any{
			{"id": "f1", "user_id": "u1", "time": 1786000000, "landing_page_id": "lp-1", "form_fields": []string{"email", "zip"}},
		}, opts: []currentstest.Option{currentstest.WithAddedFields(
			currentstest.Field{Name: "landing_page_id", Type: "string"},
			currentstest.Field{Name: "form_fields", Type: `{"type":"array","items":"string"}`})}},
	}
	dec := currents.NewDecoder()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if tc.schema != "" {
				opts = append(opts, currentstest.WithSchema(tc.schema))
			}
			var out bytes.Buffer
			w := currents.NewNDJSONWriter(&out)
			for ev, err := range dec.Events(bytes.NewReader(writeFile(t, tc.eventType, tc.recs, opts...)), tc.eventType) {
				if err != nil {
					t.Fatal(err)
				}
				if err := w.Write(ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tc.name+".ndjson")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("NDJSON differs from %s\n got %s\nwant %s", path, out.Bytes(), want)
			}
		})
	}
}
