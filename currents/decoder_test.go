package currents_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

const emailSend = "users.messages.email.Send"

// emailSendRecords returns n synthetic email Send records, every third
// one with null optional fields.
func emailSendRecords(n int) []map[string]any {
	recs := make([]map[string]any, n)
	for i := range recs {
		r := map[string]any{
			"id":             fmt.Sprintf("0d1c2b3a-0000-4000-8000-%012d", i),
			"user_id":        fmt.Sprintf("5f0000000000000000%06d", i),
			"time":           1700000000 + i,
			"email_address":  fmt.Sprintf("user%d@example.com", i),
			"app_group_id":   "a1b2c3d4-0000-4000-8000-000000000001",
			"message_extras": `{"tier":"gold"}`,
		}
		if i%3 != 0 {
			r["external_user_id"] = fmt.Sprintf("ext-%d", i)
			r["campaign_id"] = "c0ffee00-0000-4000-8000-000000000002"
			r["campaign_name"] = "Spring sale"
			r["timezone"] = "America/New_York"
		}
		recs[i] = r
	}
	return recs
}

func writeFile(t testing.TB, eventType string, recs []map[string]any, opts ...currentstest.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := currentstest.WriteFile(&buf, eventType, recs, opts...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeAll(t testing.TB, dec *currents.Decoder, data []byte, eventType string) ([]currents.Event, error) {
	t.Helper()
	var out []currents.Event
	for ev, err := range dec.Events(bytes.NewReader(data), eventType) {
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func TestDecodeEmailSendAllCodecs(t *testing.T) {
	recs := emailSendRecords(250)
	dec := currents.NewDecoder()
	for _, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		t.Run(codec, func(t *testing.T) {
			data := writeFile(t, emailSend, recs, currentstest.WithCodec(codec), currentstest.WithBlockRecords(100))
			s := dec.NewScanner(bytes.NewReader(data), emailSend)
			var evs []currents.Event
			for s.Next() {
				evs = append(evs, s.Event())
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if s.Codec() != codec {
				t.Errorf("Codec() = %q, want %q", s.Codec(), codec)
			}
			if st := s.Stats(); st.Blocks != 3 || st.Records != 250 || st.BytesRead != int64(len(data)) {
				t.Errorf("stats = %+v, want 3 blocks, 250 records, %d bytes", st, len(data))
			}
			if len(evs) != len(recs) {
				t.Fatalf("got %d events, want %d", len(evs), len(recs))
			}
			for i, ev := range evs {
				e, ok := ev.(*currents.EmailSend)
				if !ok {
					t.Fatalf("event %d is %T, want *currents.EmailSend", i, ev)
				}
				r := recs[i]
				if e.ID != r["id"] || e.EventID() != r["id"] || e.UserID() != r["user_id"] || e.EmailAddress != r["email_address"] {
					t.Fatalf("event %d = %+v, want %v", i, e, r)
				}
				if want := time.Unix(int64(1700000000+i), 0).UTC(); !e.Time().Equal(want) || e.UnixTime != want.Unix() {
					t.Fatalf("event %d time = %v (%d), want %v", i, e.Time(), e.UnixTime, want)
				}
				if e.EventType() != emailSend {
					t.Fatalf("EventType = %q", e.EventType())
				}
				ext, _ := r["external_user_id"].(string)
				if e.ExternalUserID != ext {
					t.Fatalf("event %d external_user_id = %q, want %q", i, e.ExternalUserID, ext)
				}
				v, ok := e.Get("external_user_id")
				if !ok || (i%3 == 0) != (v == nil) {
					t.Fatalf("event %d Get(external_user_id) = %v, %v", i, v, ok)
				}
			}
		})
	}
}

func TestJSONView(t *testing.T) {
	recs := emailSendRecords(2)
	data := writeFile(t, emailSend, recs)
	evs, err := decodeAll(t, currents.NewDecoder(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(evs[0])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	schema, _ := currents.SyntheticSchema(emailSend)
	var s struct{ Fields []struct{ Name string } }
	json.Unmarshal([]byte(schema), &s)
	if len(got) != len(s.Fields) {
		t.Errorf("JSON view has %d keys, schema %d fields: %s", len(got), len(s.Fields), b)
	}
	if got["time"] != float64(1700000000) || got["external_user_id"] != nil || got["id"] != recs[0]["id"] {
		t.Errorf("JSON view = %s", b)
	}
	var extras map[string]string
	if err := evs[0].(*currents.EmailSend).DecodeMessageExtras(&extras); err != nil || extras["tier"] != "gold" {
		t.Errorf("DecodeMessageExtras = %v, %v", extras, err)
	}
}

func TestUnknownTypeDecodesGeneric(t *testing.T) {
	schema := `{"type":"record","name":"Brand","namespace":"users.messages.hologram","fields":[
		{"name":"id","type":"string"},{"name":"user_id","type":["null","string"]},{"name":"time","type":"long"},
		{"name":"tags","type":["null",{"type":"array","items":"string"}]},{"name":"score","type":"double"},
		{"name":"meta","type":{"type":"map","values":"int"}},{"name":"kind","type":{"type":"enum","name":"K","symbols":["a","b"]}}]}`
	recs := []map[string]any{{"id": "e1", "user_id": "u1", "time": int64(1234567890), "tags": []string{"x", "y"}, "score": 2.5, "meta": map[string]any{"n": 3}, "kind": "b"}}
	data := writeFile(t, "users.messages.hologram.Brand", recs, currentstest.WithSchema(schema))
	evs, err := decodeAll(t, currents.NewDecoder(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	g, ok := evs[0].(*currents.Generic)
	if !ok {
		t.Fatalf("got %T, want *currents.Generic", evs[0])
	}
	if g.EventType() != "users.messages.hologram.Brand" || g.EventID() != "e1" || g.UserID() != "u1" || g.Time().Unix() != 1234567890 {
		t.Errorf("generic = %v %v %v %v", g.EventType(), g.EventID(), g.UserID(), g.Time())
	}
	b, _ := json.Marshal(g)
	want := `{"id":"e1","user_id":"u1","time":1234567890,"tags":["x","y"],"score":2.5,"meta":{"n":3},"kind":"b"}`
	if string(b) != want {
		t.Errorf("JSON view\n got %s\nwant %s", b, want)
	}
}

func TestEmptyFile(t *testing.T) {
	data := writeFile(t, emailSend, nil)
	evs, err := decodeAll(t, currents.NewDecoder(), data, emailSend)
	if err != nil || len(evs) != 0 {
		t.Fatalf("header-only file: %d events, %v", len(evs), err)
	}
}

func TestErrorIsTyped(t *testing.T) {
	_, err := decodeAll(t, currents.NewDecoder(), []byte("PAR1xxxx"), emailSend)
	var e *currents.Error
	if !errors.As(err, &e) || !errors.Is(err, currents.ErrNotAvro) || e.Block != -1 {
		t.Fatalf("err = %v", err)
	}
}

func withSchema(s string) currentstest.Option { return currentstest.WithSchema(s) }

type bytesBuffer = bytes.Buffer

func TestScannerReportsHeader(t *testing.T) {
	marker := [16]byte{'a', 'm', 'p', 'b', 'r', 'a', 'z', 'e', 0, 1, 2, 3, 4, 5, 6, 7}
	data := writeFile(t, emailSend, emailSendRecords(3), currentstest.WithCodec("deflate"),
		currentstest.WithSyncMarker(marker), currentstest.WithMetadata("writer", []byte("test")))
	if !bytes.Contains(data, marker[:]) {
		t.Fatal("the written file does not carry the sync marker given to WithSyncMarker")
	}
	s := currents.NewDecoder().NewScanner(bytes.NewReader(data), "")
	n := 0
	for s.Next() {
		n++
	}
	if err := s.Err(); err != nil || n != 3 {
		t.Fatalf("read %d events, err %v; want 3, nil", n, err)
	}
	if s.EventType() != emailSend {
		t.Errorf("EventType() = %q, want %q (inferred from the writer schema)", s.EventType(), emailSend)
	}
	meta := s.Metadata()
	if string(meta["avro.codec"]) != "deflate" || string(meta["writer"]) != "test" || len(meta["avro.schema"]) == 0 {
		t.Errorf("Metadata() = codec %q, writer %q, schema %d bytes; want deflate, test, the schema",
			meta["avro.codec"], meta["writer"], len(meta["avro.schema"]))
	}
}

func TestJSONObjectParsesAJSONField(t *testing.T) {
	m, err := currents.JSONObject(`{"plan":"gold","n":2}`)
	if err != nil || m["plan"] != "gold" || m["n"] != float64(2) {
		t.Fatalf("JSONObject = %v, %v", m, err)
	}
	if m, err := currents.JSONObject(""); m != nil || err != nil {
		t.Fatalf(`JSONObject("") = %v, %v; want nil, nil`, m, err)
	}
	if _, err := currents.JSONObject(`{"cut`); err == nil {
		t.Fatal("JSONObject of broken JSON: no error")
	}
}
