package currents_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/objstore"
)

// The walk over real (synthetic) container files, decoded by the package's
// decoder: codecs, multiple blocks, a truncated file, a file that is not
// Avro, duplicates across files and hours, and a checkpointed rerun.

const (
	e2eSend = "users.messages.email.Send"
	e2eOpen = "users.messages.email.Open"
)

func e2eKey(typ, hour string, offset int) string {
	const topic = "dataexport.prod-01.S3.integration.0123456789abcdef01234567"
	return fmt.Sprintf("currents/%s/event_type=%s/date=%s/version=6/us-01/%s+0+%d.avro", topic, typ, hour, topic, offset)
}

// e2eFile writes a synthetic file of records with the given ids, timed at
// the start of hour.
func e2eFile(t testing.TB, typ, hour string, ids []string, opts ...currentstest.Option) []byte {
	t.Helper()
	h, err := time.Parse("2006-01-02-15", hour)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for i, id := range ids {
		recs = append(recs, map[string]any{"id": id, "user_id": "user-" + id, "time": h.Unix() + int64(i)})
	}
	var buf bytes.Buffer
	if err := currentstest.WriteFile(&buf, typ, recs, opts...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// e2eTree writes the test files into dir and returns the keys of the two
// broken ones.
func e2eTree(t *testing.T, dir string) (truncated, notAvro string) {
	t.Helper()
	write := func(key string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(e2eKey(e2eSend, "2025-04-01-17", 10), e2eFile(t, e2eSend, "2025-04-01-17", []string{"s1", "s2", "s3"},
		currentstest.WithCodec("deflate"), currentstest.WithBlockRecords(2)))
	write(e2eKey(e2eSend, "2025-04-01-18", 20), e2eFile(t, e2eSend, "2025-04-01-18", []string{"s3", "s4"}, // s3 delivered again
		currentstest.WithCodec("snappy")))
	full := e2eFile(t, e2eSend, "2025-04-01-18", []string{"s5", "s6", "s7"}, currentstest.WithBlockRecords(2))
	truncated = e2eKey(e2eSend, "2025-04-01-18", 21)
	write(truncated, full[:len(full)-5]) // cut inside the second block
	// A header-only file: Braze writes none, generic writers do.
	write(e2eKey(e2eSend, "2025-04-01-19", 30), e2eFile(t, e2eSend, "2025-04-01-19", nil))
	write(e2eKey(e2eOpen, "2025-04-01-17", 11), e2eFile(t, e2eOpen, "2025-04-01-17", []string{"o1"},
		currentstest.WithCodec("zstandard")))
	notAvro = e2eKey(e2eOpen, "2025-04-01-18", 12)
	write(notAvro, []byte("PAR1 this is not an Avro file"))
	write("currents/_SUCCESS", nil)
	return truncated, notAvro
}

func TestSourceDecodesFiles(t *testing.T) {
	dir := t.TempDir()
	truncated, notAvro := e2eTree(t, dir)
	cpPath := filepath.Join(t.TempDir(), "checkpoint")
	cp, err := objstore.OpenFileCheckpoint(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	dedupe := currents.NewDeduper(48 * time.Hour)
	src := currents.NewSource(objstore.NewFSStore(os.DirFS(dir)), "currents/", currents.WithCheckpoint(cp))

	var got []string
	for ke, err := range src.All(context.Background()) {
		if err != nil {
			var fe *currents.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			if strings.Count(err.Error(), fe.Key) != 1 {
				t.Errorf("message does not name the key once: %v", err)
			}
			switch {
			case fe.Key == truncated && errors.Is(err, currents.ErrTruncated):
				got = append(got, "TRUNCATED")
			case fe.Key == notAvro && errors.Is(err, currents.ErrNotAvro):
				got = append(got, "NOTAVRO")
			default:
				t.Fatalf("unexpected error: %v", err)
			}
			var de *currents.Error
			if !errors.As(err, &de) || de.File != fe.Key {
				t.Errorf("decoder error does not carry the key: %#v", de)
			}
			continue
		}
		ev := ke.Event
		if ev.EventType() != ke.Key.EventType {
			t.Errorf("event type %q in file of %q", ev.EventType(), ke.Key.EventType)
		}
		if ev.UserID() != "user-"+ev.EventID() {
			t.Errorf("event %q: user id %q", ev.EventID(), ev.UserID())
		}
		if ev.Time().Truncate(time.Hour) != ke.Key.Hour {
			t.Errorf("event %q at %v in the file of hour %v", ev.EventID(), ev.Time(), ke.Key.Hour)
		}
		if dedupe.SeenEvent(ke) {
			got = append(got, "dup:"+ev.EventID())
			continue
		}
		got = append(got, ev.EventID())
	}
	want := []string{
		"o1", "NOTAVRO", // Open sorts before Send
		"s1", "s2", "s3", // deflate, two blocks
		"dup:s3", "s4", // snappy, s3 delivered again an hour later
		"s5", "s6", "TRUNCATED", // the block before the fault is delivered
		// the header-only file yields nothing
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if st := dedupe.Stats(); st.Duplicates != 1 || st.Held != 7 {
		t.Errorf("dedupe stats %+v", st)
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}

	// The rerun reads only what failed: both broken files, again.
	cp2, err := objstore.OpenFileCheckpoint(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	if cp2.Len() != 4 {
		t.Errorf("checkpoint holds %d keys, want the 4 clean files", cp2.Len())
	}
	var rerun []string
	for f, err := range currents.NewSource(objstore.NewFSStore(os.DirFS(dir)), "currents/", currents.WithCheckpoint(cp2)).Files(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		rerun = append(rerun, f.Key.Raw)
	}
	if want := []string{notAvro, truncated}; !slices.Equal(rerun, want) {
		t.Errorf("rerun files %q, want %q", rerun, want)
	}
}

func TestSourceDecodesAllCodecs(t *testing.T) {
	fsys := fstest.MapFS{}
	for i, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		ids := []string{codec + "-1", codec + "-2", codec + "-3"}
		fsys[e2eKey(e2eSend, "2025-04-01-17", i)] = &fstest.MapFile{
			Data: e2eFile(t, e2eSend, "2025-04-01-17", ids, currentstest.WithCodec(codec), currentstest.WithBlockRecords(2)),
		}
	}
	src := currents.NewSource(objstore.NewFSStore(fsys), "", currents.WithDecoder(currents.NewDecoder()))
	var got []string
	for f, err := range src.Files(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		for ev, err := range src.Events(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := ev.(*currents.EmailSend); !ok {
				t.Errorf("event is a %T, want *currents.EmailSend", ev)
			}
			got = append(got, ev.EventID())
		}
	}
	want := []string{"null-1", "null-2", "null-3", "deflate-1", "deflate-2", "deflate-3",
		"snappy-1", "snappy-2", "snappy-3", "zstandard-1", "zstandard-2", "zstandard-3"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
}

// ExampleSource reads a folder of Currents files (here an in-memory one),
// keeps one event type, drops duplicates and reports broken files without
// stopping.
func ExampleSource() {
	send := func(ids ...string) []byte {
		var recs []map[string]any
		for _, id := range ids {
			recs = append(recs, map[string]any{"id": id, "user_id": "u-" + id, "time": 1743526800})
		}
		var buf bytes.Buffer
		currentstest.WriteFile(&buf, "users.messages.email.Send", recs)
		return buf.Bytes()
	}
	fsys := fstest.MapFS{
		"currents/event_type=users.messages.email.Send/date=2025-04-01-17/version=6/us-01/f+0+1.avro": {Data: send("a", "b")},
		"currents/event_type=users.messages.email.Send/date=2025-04-01-18/version=6/us-01/f+0+2.avro": {Data: send("b", "c")},
		"currents/event_type=users.messages.email.Send/date=2025-04-01-18/version=6/us-01/f+0+3.avro": {Data: []byte("junk")},
		"currents/event_type=users.messages.email.Open/date=2025-04-01-17/version=6/us-01/f+0+4.avro": {Data: []byte("not read")},
	}
	ctx := context.Background()
	src := currents.NewSource(objstore.NewFSStore(fsys), "currents/",
		currents.WithEventTypes("users.messages.email.Send"))
	dedupe := currents.NewDeduper(24 * time.Hour)
	for ke, err := range src.All(ctx) {
		var fe *currents.FileError
		if errors.As(err, &fe) {
			fmt.Println("broken file:", fe.Key) // err says what and where
			continue                            // the other files are still read
		} else if err != nil {
			fmt.Println(err) // listing failed
			return
		}
		if dedupe.SeenEvent(ke) {
			continue
		}
		fmt.Println(ke.Key.Hour.Format("15h"), ke.Event.EventID(), ke.Event.UserID())
	}
	// Output:
	// 17h a u-a
	// 17h b u-b
	// 18h c u-c
	// broken file: currents/event_type=users.messages.email.Send/date=2025-04-01-18/version=6/us-01/f+0+3.avro
}

// ExampleSource_Files reads file by file so that a job can save its output
// and the checkpoint after each one; a rerun reads only the files that
// arrived (or failed) since.
func ExampleSource_Files() {
	var buf bytes.Buffer
	currentstest.WriteFile(&buf, "users.behaviors.CustomEvent", []map[string]any{
		{"id": "e1", "user_id": "u1", "time": 1743526800, "name": "signup"},
	})
	fsys := fstest.MapFS{
		"currents/event_type=users.behaviors.CustomEvent/date=2025-04-01-17/version=6/us-01/f+0+1.avro": {Data: buf.Bytes()},
	}
	dir, _ := os.MkdirTemp("", "currents-example")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	for run := 1; run <= 2; run++ {
		cp, err := objstore.OpenFileCheckpoint(filepath.Join(dir, "checkpoint.txt"))
		if err != nil {
			fmt.Println(err)
			return
		}
		src := currents.NewSource(objstore.NewFSStore(fsys), "currents/", currents.WithCheckpoint(cp))
		for f, err := range src.Files(ctx) {
			if err != nil {
				fmt.Println(err)
				continue
			}
			for ev, err := range src.Events(ctx, f) {
				if err != nil {
					fmt.Println(err)
					break
				}
				fmt.Printf("run %d: %s %s from %s\n", run, ev.EventType(), ev.EventID(), f.Key.Hour.Format(time.DateOnly))
			}
			// Events marked the file done once it was read to the end;
			// persist that after the output is safe.
			if err := cp.Save(); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	// Output:
	// run 1: users.behaviors.CustomEvent e1 from 2025-04-01
}

// TestSourceParallelFiles decodes the files of one Source from several
// goroutines with one checkpoint, as the Source doc allows (run with -race).
func TestSourceParallelFiles(t *testing.T) {
	fsys := fstest.MapFS{}
	var want []string
	for i := range 24 {
		ids := []string{fmt.Sprintf("e%02d-a", i), fmt.Sprintf("e%02d-b", i)}
		want = append(want, ids...)
		fsys[e2eKey(e2eSend, fmt.Sprintf("2025-04-01-%02d", i), i)] = &fstest.MapFile{Data: e2eFile(t, e2eSend, fmt.Sprintf("2025-04-01-%02d", i), ids)}
	}
	cp, _ := objstore.OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	src := currents.NewSource(objstore.NewFSStore(fsys), "", currents.WithCheckpoint(cp))
	files := make(chan currents.File)
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for f := range files {
				for ev, err := range src.Events(context.Background(), f) {
					if err != nil {
						t.Error(err)
						continue
					}
					mu.Lock()
					got = append(got, ev.EventID())
					mu.Unlock()
				}
				if err := cp.Save(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for f, err := range src.Files(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		files <- f
	}
	close(files)
	wg.Wait()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
	if cp.Len() != 24 {
		t.Errorf("checkpoint holds %d files", cp.Len())
	}
}
