package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
	"github.com/ampbraze/ampbraze/objstore"
)

const typSend = "users.messages.email.Send"

// writeSized writes one Send file per entry of sizes, in listing order,
// with ids "f<file>-<n>" and user_id "<file>"; a negative size writes a
// file cut short after its first block. It returns the folder's keys.
func writeSized(t *testing.T, dir string, sizes []int) []string {
	t.Helper()
	hour := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var keys []string
	for i, size := range sizes {
		var recs []map[string]any
		for j := range max(size, -size) {
			recs = append(recs, map[string]any{"id": fmt.Sprintf("f%02d-%05d", i, j), "user_id": fmt.Sprint(i), "time": hour.Unix() + int64(j%3600)})
		}
		var b bytes.Buffer
		if err := currentstest.WriteFile(&b, typSend, recs, currentstest.WithBlockRecords(100)); err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		if size < 0 {
			data = data[:len(data)-20]
		}
		key := currentsdemo.Key("currents", typSend, hour, i)
		path := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return keys
}

// chunkTrace is what the writer sees of a chunk.
type chunkTrace struct {
	key               string
	first, last, done bool
	ids               string // the first and last ids
	n                 int
	failed            bool
}

func traceReadAhead(t *testing.T, in string, decoders int) []chunkTrace {
	t.Helper()
	src := currents.NewSource(objstore.NewFSStore(os.DirFS(in)), "currents/")
	ahead := startReadAhead(context.Background(), src, preparation{ndjson: true}, decoders)
	defer ahead.stop()
	var got []chunkTrace
	for ch := range ahead.chunks() {
		tr := chunkTrace{key: ch.file.Key.Raw, first: ch.first, last: ch.last, done: ch.done, n: len(ch.events), failed: ch.err != nil}
		if len(ch.events) > 0 {
			tr.ids = ch.events[0].EventID() + ".." + ch.events[len(ch.events)-1].EventID()
		}
		// Each line is its event's JSON view.
		for i, ev := range ch.events {
			line, ok := ch.line(i)
			want, err := currents.AppendJSON(nil, ev)
			if !ok || err != nil || string(line) != string(want)+"\n" {
				t.Fatalf("%s: event %d: line %q, want %q (%v)", tr.key, i, line, want, err)
			}
		}
		got = append(got, tr)
		ahead.release(ch)
	}
	return got
}

// Several decoders read files at once, but the writer gets every chunk in
// the listing's order, as from a single decoder: a long file before short
// ones does not let them overtake it (which would change which delivery of
// a duplicated event is kept), and a file cut short ends in its place.
func TestReadAheadKeepsListingOrder(t *testing.T) {
	in := t.TempDir()
	keys := writeSized(t, in, []int{3000, 1, 5, 2500, -400, 7, 1030, 1, 1024, 2, 0, 900})
	want := traceReadAhead(t, in, 1)
	var order []string
	for _, tr := range want {
		if tr.first {
			order = append(order, tr.key)
		}
	}
	if strings.Join(order, "\n") != strings.Join(keys, "\n") {
		t.Fatalf("one decoder: files in order\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(keys, "\n"))
	}
	for _, n := range []int{2, 3, 5} {
		for round := range 5 {
			got := traceReadAhead(t, in, n)
			if len(got) != len(want) {
				t.Fatalf("%d decoders, round %d: %d chunks, want %d", n, round, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%d decoders, round %d: chunk %d = %+v, want %+v", n, round, i, got[i], want[i])
				}
			}
		}
	}
	// The cut file's chunks end with its error and are not done.
	for _, tr := range want {
		if tr.key == keys[4] && tr.last && (!tr.failed || tr.done) {
			t.Errorf("cut file's last chunk: %+v", tr)
		}
	}
}

// stop ends every goroutine of the read-ahead even when the writer stops
// in the middle of a file, with decoders blocked on full channels.
func TestReadAheadStopInTheMiddle(t *testing.T) {
	in := t.TempDir()
	writeSized(t, in, []int{5000, 5000, 5000, 5000, 5000, 5000})
	before := runtime.NumGoroutine()
	src := currents.NewSource(objstore.NewFSStore(os.DirFS(in)), "currents/")
	ahead := startReadAhead(context.Background(), src, preparation{ndjson: true}, 3)
	n := 0
	for range ahead.chunks() {
		if n++; n == 2 {
			break
		}
	}
	time.Sleep(50 * time.Millisecond) // let the decoders fill their channels
	done := make(chan struct{})
	go func() { ahead.stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not return")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after stop, %d before", g, before)
	}
}

// An event delivered in two files is written once, from the file listed
// first, however many decoders read ahead: the first file is long, so its
// copy is decoded after the second file's.
func TestExportKeepsFirstDeliveryWithDecoders(t *testing.T) {
	in := t.TempDir()
	keys := writeSized(t, in, []int{3000, 3})
	// The second file redelivers ids f00-02999 .. f00-02997 with its own
	// user_id.
	hour := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var recs []map[string]any
	for j := 2999; j > 2996; j-- {
		recs = append(recs, map[string]any{"id": fmt.Sprintf("f00-%05d", j), "user_id": "redelivered", "time": hour.Unix()})
	}
	var b bytes.Buffer
	if err := currentstest.WriteFile(&b, typSend, recs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, filepath.FromSlash(keys[1])), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		out := t.TempDir()
		c := testConfig(t, in, out)
		c.decoders = 3
		rep, err := export(context.Background(), c, quiet(), newProgress(&bytes.Buffer{}, quiet()))
		if err != nil {
			t.Fatal(err)
		}
		if rep.written != 3000 || rep.duplicates != 3 {
			t.Fatalf("round %d: %d written, %d duplicates; want 3000 and 3", round, rep.written, rep.duplicates)
		}
		for _, name := range rep.outputs {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for line := range bytes.Lines(data) {
				var ev struct {
					UserID string `json:"user_id"`
				}
				if err := json.Unmarshal(line, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.UserID != "0" {
					t.Fatalf("round %d: kept a later delivery: %s", round, line)
				}
			}
		}
	}
}
