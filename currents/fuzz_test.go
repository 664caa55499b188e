package currents_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// FuzzContainer feeds arbitrary bytes to the container reader: it must
// never panic or hang, must fail only with a *currents.Error, and every
// event it yields must have a valid JSON view and answer Get for each of
// its fields.
func FuzzContainer(f *testing.F) {
	recs := emailSendRecords(4)
	for _, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		f.Add(writeFile(f, emailSend, recs, currentstest.WithCodec(codec), currentstest.WithBlockRecords(2)))
	}
	f.Add(writeFile(f, emailSend, nil))
	// Fields a newer release added, which the typed decoder skips and
	// reads on demand.
	f.Add(writeFile(f, emailSend, recs, currentstest.WithAddedFields(
		currentstest.Field{Name: "n1", Type: "string"}, currentstest.Field{Name: "n2", Type: "int"},
		currentstest.Field{Name: "n3", Type: "boolean"}, currentstest.Field{Name: "n4", Type: "double"},
		currentstest.Field{Name: "n5", Type: "float"}, currentstest.Field{Name: "n6", Type: "bytes"})))
	generic := `{"type":"record","name":"X","fields":[{"name":"id","type":"string"},
		{"name":"a","type":["null",{"type":"array","items":["null","string"]}]},
		{"name":"m","type":{"type":"map","values":"double"}},{"name":"f","type":{"type":"fixed","name":"F","size":2}},
		{"name":"e","type":{"type":"enum","name":"E","symbols":["x","y"]}},{"name":"b","type":"bytes"},{"name":"fl","type":"float"}]}`
	f.Add(writeFile(f, "x.Y", []map[string]any{{"id": "1", "a": []any{"s", nil}, "m": map[string]any{"k": 1.5}, "f": []byte("ab"), "e": "y", "b": []byte{0, 255}, "fl": 0.5}},
		currentstest.WithSchema(generic)))
	dec := currents.NewDecoder(currents.WithMaxBlockSize(1 << 20))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, et := range []string{"", emailSend} {
			for ev, err := range dec.Events(bytes.NewReader(data), et) {
				if err != nil {
					var e *currents.Error
					if !errors.As(err, &e) {
						t.Fatalf("error %v is %T, not *currents.Error", err, err)
					}
					break
				}
				fe := ev.(currents.FieldEvent)
				b, err := fe.MarshalJSON()
				if err != nil || !json.Valid(b) {
					t.Fatalf("JSON view %q: %v", b, err)
				}
				for _, name := range fe.Fields() {
					if _, ok := fe.Get(name); !ok {
						t.Fatalf("Get(%q) reports no such field", name)
					}
				}
				_ = ev.EventID()
				_ = ev.Time()
			}
		}
	})
}
