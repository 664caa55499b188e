package gcsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// TestSourceOverGCS reads synthetic Currents files from the GCS emulator
// with currents.Source, end to end: folder pruning through ListDir, key
// parsing, streaming reads, decoding, and a broken object reported
// without stopping the others.
func TestSourceOverGCS(t *testing.T) {
	f := newFakeGCS(t, "bucket")
	key := func(typ, hour string, off int) string {
		return fmt.Sprintf("currents/event_type=%s/date=%s/version=6/us-01/dataexport.prod-01.GCS.integration.0123456789abcdef01234567+0+%d.avro", typ, hour, off)
	}
	file := func(typ string, ids ...string) []byte {
		var recs []map[string]any
		for _, id := range ids {
			recs = append(recs, map[string]any{"id": id, "user_id": "u", "time": 1743526800})
		}
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, typ, recs, currentstest.WithCodec("deflate"), currentstest.WithBlockRecords(2)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	const send, open = "users.messages.email.Send", "users.messages.email.Open"
	f.put(key(send, "2025-04-01-18", 3), file(send, "d"), time.Time{})
	f.put(key(send, "2025-04-01-17", 1), file(send, "a", "b", "c"), time.Time{})
	f.put(key(send, "2025-04-01-17", 2), []byte("Obj\x01 broken"), time.Time{})
	f.put(key(open, "2025-04-01-17", 4), file(open, "o"), time.Time{})
	f.put("currents/readme.txt", []byte("not Currents"), time.Time{})

	bucket, prefix, err := ParseURL("gs://bucket/currents")
	if err != nil {
		t.Fatal(err)
	}
	f.ct.lists.Store(0)
	src := currents.NewSource(New(f.client, bucket, WithPageSize(2)), prefix, currents.WithEventTypes(send))
	var got []string
	for ke, err := range src.All(context.Background()) {
		var fe *currents.FileError
		switch {
		case errors.As(err, &fe):
			got = append(got, "ERR "+fe.Key[len(fe.Key)-7:])
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, ke.Event.EventID())
		}
	}
	if want := []string{"a", "b", "c", "ERR +2.avro", "d"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	// The Open folder is never listed: one listing of the event types,
	// then the Send folder's dates and each date's version, environment
	// and files.
	if n := f.ct.lists.Load(); n != 1+1+2*3 {
		t.Errorf("%d list requests, want %d", n, 1+1+2*3)
	}
}
