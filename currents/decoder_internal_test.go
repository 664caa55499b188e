package currents

import (
	"bytes"
	"testing"
)

// minimalFile is a hand-assembled container file: schema {id: string,
// time: int}, one block holding one record.
func minimalFile(schema string) []byte {
	b := []byte("Obj\x01")
	b = appendTestVarint(b, 1)
	b = appendTestVarint(b, int64(len("avro.schema")))
	b = append(b, "avro.schema"...)
	b = appendTestVarint(b, int64(len(schema)))
	b = append(b, schema...)
	b = appendTestVarint(b, 0)
	sync := bytes.Repeat([]byte{7}, 16)
	b = append(b, sync...)
	rec := append(appendTestVarint(nil, 2), "ab"...)
	rec = appendTestVarint(rec, 1700000000)
	b = appendTestVarint(b, 1)
	b = appendTestVarint(b, int64(len(rec)))
	b = append(b, rec...)
	return append(b, sync...)
}

func appendTestVarint(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// TestSchemaCache: files with identical schema bytes share one parsed
// schema and one program per event type.
func TestSchemaCache(t *testing.T) {
	schema := `{"type":"record","name":"Send","namespace":"users.messages.email","fields":[{"name":"id","type":"string"},{"name":"time","type":"int"}]}`
	d := NewDecoder(WithSchemaCacheSize(2))
	var programs []*program
	for range 3 {
		s := d.NewScanner(bytes.NewReader(minimalFile(schema)), "")
		for s.Next() {
			if e := s.Event().(*EmailSend); e.ID != "ab" || e.UnixTime != 1700000000 {
				t.Fatalf("decoded %+v", e)
			}
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		programs = append(programs, s.program)
	}
	if len(d.cache) != 1 || programs[0] != programs[1] || programs[1] != programs[2] {
		t.Errorf("cache holds %d schemas; programs shared: %v", len(d.cache), programs[0] == programs[2])
	}
	// The cache is bounded.
	for i := range 5 {
		other := schema[:len(schema)-2] + `,{"name":"x` + string(rune('a'+i)) + `","type":"null"}]}`
		s := d.NewScanner(bytes.NewReader(minimalFile(other)), "")
		for s.Next() {
		}
	}
	if len(d.cache) > 2 {
		t.Errorf("cache grew to %d entries, limit 2", len(d.cache))
	}
}
