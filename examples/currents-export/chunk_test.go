package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// decodedSends returns n decoded Send events with ids "e0".."e<n-1>", the
// i-th at t0 plus i hours.
func decodedSends(t *testing.T, n int, t0 time.Time) []currents.Event {
	t.Helper()
	var recs []map[string]any
	for i := range n {
		recs = append(recs, map[string]any{"id": fmt.Sprintf("e%d", i), "user_id": "u", "time": t0.Add(time.Duration(i) * time.Hour).Unix()})
	}
	var b bytes.Buffer
	if err := currentstest.WriteFile(&b, typSend, recs); err != nil {
		t.Fatal(err)
	}
	var evs []currents.Event
	for ev, err := range currents.NewDecoder().NewScanner(&b, typSend).All() {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func lineIDs(t *testing.T, c *chunk) string {
	t.Helper()
	var ids []string
	for i, ev := range c.events {
		line, ok := c.line(i)
		if !ok {
			ids = append(ids, ev.EventID()+":none")
			continue
		}
		if !bytes.Contains(line, []byte(`"id":"`+ev.EventID()+`"`)) || !bytes.HasSuffix(line, []byte("}\n")) {
			t.Fatalf("event %s has line %q", ev.EventID(), line)
		}
		ids = append(ids, ev.EventID())
	}
	if len(c.ends) > 0 && c.ends[len(c.ends)-1] != len(c.lines) {
		t.Fatalf("lines hold %d bytes, the last line ends at %d", len(c.lines), c.ends[len(c.ends)-1])
	}
	return strings.Join(ids, ",")
}

// prepare drops the events outside -from and -to, counting them, and
// gives each other event its NDJSON line.
func TestPrepareFiltersAndEncodes(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	c := &chunk{events: decodedSends(t, 6, t0)}
	preparation{from: t0.Add(time.Hour), to: t0.Add(4 * time.Hour), ndjson: true}.prepare(c)
	if c.read != 6 || c.outside != 3 || !c.encoded {
		t.Fatalf("read %d, outside %d, encoded %v", c.read, c.outside, c.encoded)
	}
	if got := lineIDs(t, c); got != "e1,e2,e3" {
		t.Errorf("events %s, want e1,e2,e3", got)
	}
	// CSV and Parquet encode on the writer's side.
	c = &chunk{events: decodedSends(t, 2, t0)}
	preparation{}.prepare(c)
	if c.encoded || len(c.events) != 2 || c.read != 2 {
		t.Errorf("csv: %+v", c)
	}
}

// keep drops events and their lines in place; dropping the event that
// failed to encode drops its error too.
func TestChunkKeep(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	prepared := func(n int) *chunk {
		c := &chunk{events: decodedSends(t, n, t0)}
		preparation{ndjson: true}.prepare(c)
		return c
	}
	c := prepared(5)
	c.keep([]bool{true, false, true, false, false})
	if got := lineIDs(t, c); got != "e1,e3,e4" {
		t.Errorf("kept %s, want e1,e3,e4", got)
	}
	c.keep([]bool{false, false, true})
	if got := lineIDs(t, c); got != "e1,e3" {
		t.Errorf("kept %s, want e1,e3", got)
	}
	c.keep([]bool{true, true})
	if got := lineIDs(t, c); got != "" || len(c.lines) != 0 {
		t.Errorf("kept %s (%d bytes), want nothing", got, len(c.lines))
	}

	// The last event failed to encode: it has no line.
	failed := func() *chunk {
		c := prepared(3)
		c.lines, c.ends = c.lines[:c.ends[1]], c.ends[:2]
		c.encodeErr = errors.New("cannot encode e2")
		return c
	}
	c = failed()
	c.keep([]bool{false, true, false})
	if got := lineIDs(t, c); got != "e0,e2:none" || c.encodeErr == nil {
		t.Errorf("kept %s, error %v; want e0,e2:none and the error", got, c.encodeErr)
	}
	c = failed()
	c.keep([]bool{false, false, true})
	if got := lineIDs(t, c); got != "e0,e1" || c.encodeErr != nil {
		t.Errorf("kept %s, error %v; want e0,e1 and no error", got, c.encodeErr)
	}
}

// An event that cannot be encoded ends the run at that event: the events
// before it are written, none after, and the error names it.
func TestWriteLinesStopsAtEncodeError(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	c := &chunk{events: decodedSends(t, 3, t0)}
	preparation{ndjson: true}.prepare(c)
	c.lines, c.ends = c.lines[:c.ends[1]], c.ends[:2]
	c.encodeErr = errors.New("event e2: cannot encode")
	out := t.TempDir()
	outs := newOutputs(out, "ndjson", t0)
	f := currents.File{Key: currents.Key{Raw: "k", EventType: typSend, Hour: t0}}
	x, err := startFile(f, currents.NewDeduper(time.Hour), outs)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.write(c); err == nil || !strings.Contains(err.Error(), "event e2") {
		t.Fatalf("write: %v, want the encoding error of e2", err)
	}
	if x.written != 2 {
		t.Errorf("%d written, want 2", x.written)
	}
	if err := outs.commit(); err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(filepath.Join(out, typSend, "part-*"))
	if len(parts) != 1 {
		t.Fatalf("parts %v, want one", parts)
	}
	data, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != 2 || !bytes.Contains(data, []byte(`"id":"e1"`)) {
		t.Errorf("part holds %d lines:\n%s", n, data)
	}
}
