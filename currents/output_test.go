package currents_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

func TestNDJSONWriter(t *testing.T) {
	recs := emailSendRecords(3)
	evs, err := decodeAll(t, currents.NewDecoder(), writeFile(t, emailSend, recs), emailSend)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := currents.NewNDJSONWriter(&out)
	for _, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if m["id"] != recs[i]["id"] || m["email_address"] != recs[i]["email_address"] {
			t.Errorf("line %d = %s", i, l)
		}
	}
}

func TestCSVWriterGolden(t *testing.T) {
	schema := `{"type":"record","name":"Purchase","namespace":"users.behaviors","fields":[
		{"name":"id","type":"string"},{"name":"user_id","type":"string"},{"name":"time","type":"int"},
		{"name":"product_id","type":"string"},{"name":"price","type":"float"},
		{"name":"properties","type":"string"},{"name":"ad_tracking_enabled","type":["null","boolean"],"default":null}]}`
	recs := []map[string]any{
		{"id": "p1", "user_id": "u1", "time": 1700000000, "product_id": "sku,1", "price": 3.14, "properties": `{"color":"red"}`, "ad_tracking_enabled": true},
		{"id": "p2", "user_id": "u2", "time": 1700000001, "product_id": "sku2", "price": 10, "properties": "{}"},
	}
	data := writeFile(t, "users.behaviors.Purchase", recs, currentstest.WithSchema(schema))
	evs, err := decodeAll(t, currents.NewDecoder(), data, "users.behaviors.Purchase")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := currents.NewCSVWriter(&out, "users.behaviors.Purchase",
		currents.WithColumns("id", "user_id", "time", "product_id", "price", "properties", "ad_tracking_enabled", "currency"))
	for _, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "id,user_id,time,product_id,price,properties,ad_tracking_enabled,currency\n" +
		"p1,u1,1700000000,\"sku,1\",3.14,\"{\"\"color\"\":\"\"red\"\"}\",true,\n" +
		"p2,u2,1700000001,sku2,10,{},,\n"
	if out.String() != want {
		t.Errorf("CSV\n got %q\nwant %q", out.String(), want)
	}
	if err := w.Write(currents.NewEvent(emailSend)); err == nil {
		t.Error("CSV writer accepted an event of another type")
	}
}

func TestCSVWriterDefaultColumns(t *testing.T) {
	w := currents.NewCSVWriter(&bytes.Buffer{}, emailSend)
	cols := w.Columns()
	if len(cols) < 5 || cols[0] != "id" || cols[1] != "user_id" {
		t.Errorf("columns = %v", cols)
	}
	g := currents.NewCSVWriter(&bytes.Buffer{}, "users.unknown.Thing")
	if g.Columns() != nil {
		t.Errorf("unknown type columns = %v before the first event", g.Columns())
	}
}

func TestSplitter(t *testing.T) {
	outs := map[string]*bytes.Buffer{}
	s := currents.NewSplitter(func(et string) (currents.EventWriter, error) {
		outs[et] = &bytes.Buffer{}
		return currents.NewNDJSONWriter(outs[et]), nil
	})
	dec := currents.NewDecoder()
	for _, et := range []string{emailSend, "users.messages.email.Open", emailSend} {
		recs := []map[string]any{{"id": "x", "user_id": "u", "time": 1, "email_address": "a@b"}}
		evs, err := decodeAll(t, dec, writeFile(t, et, recs), et)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if err := s.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || strings.Count(outs[emailSend].String(), "\n") != 2 {
		t.Errorf("outputs = %v", outs)
	}
}
