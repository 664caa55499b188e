package currents

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ampbraze/ampbraze/objstore"
)

// These tests exercise the walk (order, filters, checkpoint, errors) with a
// line-based stand-in for the Avro decoder, so they do not depend on it;
// source_decode_test.go runs the same walk over real container files.

// srcEvent is the stand-in decoder's event.
type srcEvent struct {
	typ, id string
	t       time.Time
}

func (e srcEvent) EventType() string { return e.typ }
func (e srcEvent) EventID() string   { return e.id }
func (e srcEvent) UserID() string    { return "" }
func (e srcEvent) Time() time.Time   { return e.t }

var errSrcCorrupt = errors.New("corrupt line")

// srcDecode reads "id,unixtime" lines; any other line is an error that ends
// the file, after the events before it.
func srcDecode(r io.Reader, eventType, _ string) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		sc := bufio.NewScanner(r)
		for line := 1; sc.Scan(); line++ {
			id, ts, ok := strings.Cut(sc.Text(), ",")
			sec, err := strconv.ParseInt(ts, 10, 64)
			if !ok || err != nil {
				yield(nil, fmt.Errorf("line %d: %w", line, errSrcCorrupt))
				return
			}
			if !yield(srcEvent{eventType, id, time.Unix(sec, 0).UTC()}, nil) {
				return
			}
		}
	}
}

func srcKey(typ, hour string, offset int) string {
	return fmt.Sprintf("currents/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=%s/date=%s/version=6/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+0+%d.avro", typ, hour, offset)
}

const (
	typSend = "users.messages.email.Send"
	typOpen = "users.messages.email.Open"
)

// failingDirFS fails ReadDir for one directory.
type failingDirFS struct {
	fstest.MapFS
	bad string
}

var errUnreadable = errors.New("unreadable directory")

func (f failingDirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errUnreadable}
	}
	return f.MapFS.ReadDir(name)
}

func srcFS() fstest.MapFS {
	return fstest.MapFS{
		srcKey(typSend, "2025-04-01-17", 10):           {Data: []byte("s1,100\ns2,101\n")},
		srcKey(typSend, "2025-04-01-18", 20):           {Data: []byte("s3,102\n")},
		srcKey(typSend, "2025-04-01-18", 21):           {Data: []byte("s4,103\nGARBAGE\ns5,104\n")},
		srcKey(typSend, "2025-04-01-19", 30):           {Data: []byte("s6,105\n")},
		srcKey(typOpen, "2025-04-01-17", 11):           {Data: []byte("o1,200\n")},
		srcKey(typOpen, "2025-04-01-19", 31):           {Data: []byte("o2,201\n")},
		"currents/_manifest.json":                      {Data: []byte("{}")},
		"currents/event_type=x/stray.avro":             {Data: []byte("s9,1\n")},
		"other/event_type=x/date=2025-04-01-17/f.avro": {Data: []byte("x,1\n")},
	}
}

func newTestSource(fsys fs.FS, opts ...SourceOption) *Source {
	s := NewSource(objstore.NewFSStore(fsys), "currents/", opts...)
	s.decode = srcDecode
	return s
}

// collect runs All and renders each item as "id" or "ERR key: cause".
func collect(t *testing.T, s *Source) []string {
	t.Helper()
	var out []string
	for ke, err := range s.All(context.Background()) {
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			out = append(out, "ERR "+fe.Key)
			continue
		}
		if ke.Key.EventType != ke.Event.EventType() {
			t.Errorf("key type %q, event type %q", ke.Key.EventType, ke.Event.EventType())
		}
		out = append(out, ke.Event.EventID())
	}
	return out
}

func TestSourceAll(t *testing.T) {
	got := collect(t, newTestSource(srcFS()))
	want := []string{
		"o1", "o2",
		"s1", "s2", "s3",
		"s4", "ERR " + srcKey(typSend, "2025-04-01-18", 21), // s4 delivered, s5 after the fault is not
		"s6",
		"ERR currents/event_type=x/stray.avro", // .avro but not a Currents key
	}
	if !slices.Equal(got, want) {
		t.Errorf("All =\n%q\nwant\n%q", got, want)
	}
}

func TestSourceFilters(t *testing.T) {
	h := func(s string) time.Time { return hour(s) }
	tests := []struct {
		name string
		opts []SourceOption
		want []string
	}{
		{"type", []SourceOption{WithEventTypes(typOpen)}, []string{"o1", "o2"}},
		{"types", []SourceOption{WithEventTypes(typOpen, "users.unknown.Type")}, []string{"o1", "o2"}},
		{"from", []SourceOption{WithEventTypes(typSend), WithHours(h("2025-04-01-19"), time.Time{})}, []string{"s6"}},
		{"to exclusive", []SourceOption{WithEventTypes(typSend), WithHours(time.Time{}, h("2025-04-01-18"))}, []string{"s1", "s2"}},
		{"from inside an hour", []SourceOption{WithEventTypes(typSend), WithHours(h("2025-04-01-18").Add(-time.Second), time.Time{})},
			[]string{"s1", "s2", "s3", "s4", "ERR " + srcKey(typSend, "2025-04-01-18", 21), "s6"}},
		{"from at the end of an hour", []SourceOption{WithEventTypes(typSend), WithHours(h("2025-04-01-18"), h("2025-04-01-18").Add(time.Second))},
			[]string{"s3", "s4", "ERR " + srcKey(typSend, "2025-04-01-18", 21)}},
		{"range", []SourceOption{WithHours(h("2025-04-01-18"), h("2025-04-01-19"))},
			[]string{"s3", "s4", "ERR " + srcKey(typSend, "2025-04-01-18", 21), "ERR currents/event_type=x/stray.avro"}},
		// A key that does not parse but names a type outside the filter is not reported.
		{"unparsed outside filter", []SourceOption{WithEventTypes("x")}, []string{"ERR currents/event_type=x/stray.avro"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collect(t, newTestSource(srcFS(), tt.opts...)); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSourceFilesErrors(t *testing.T) {
	fsys := failingDirFS{MapFS: srcFS(), bad: "currents/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=" + typOpen}
	s := newTestSource(fsys)
	var keys []string
	var listErr *ListError
	var keyErr *KeyError
	for f, err := range s.Files(context.Background()) {
		switch {
		case errors.As(err, &keyErr):
			keys = append(keys, "KEYERR")
		case errors.As(err, &listErr):
			if !errors.Is(err, errUnreadable) || listErr.Prefix != "currents/" {
				t.Errorf("list error %v", err)
			}
			keys = append(keys, "LISTERR")
		case err != nil:
			t.Fatalf("unexpected %v", err)
		default:
			keys = append(keys, strconv.FormatInt(f.Key.Offset, 10))
			if f.Size <= 0 {
				t.Errorf("size %d", f.Size)
			}
		}
	}
	if want := []string{"LISTERR", "10", "20", "21", "30", "KEYERR"}; !slices.Equal(keys, want) {
		t.Errorf("Files = %q, want %q", keys, want)
	}
}

func TestSourceCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoint")
	cp, err := objstore.OpenFileCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	fsys := srcFS()
	got := collect(t, newTestSource(fsys, WithCheckpoint(cp), WithEventTypes(typSend)))
	if want := []string{"s1", "s2", "s3", "s4", "ERR " + srcKey(typSend, "2025-04-01-18", 21), "s6"}; !slices.Equal(got, want) {
		t.Fatalf("first run %q", got)
	}
	if err := cp.Save(); err != nil {
		t.Fatal(err)
	}

	// A new file arrives; the corrupt one is fixed. The rerun reads only
	// those two: the clean files were checkpointed, the corrupt one was not.
	fsys[srcKey(typSend, "2025-04-01-18", 21)] = &fstest.MapFile{Data: []byte("s4,103\ns5,104\n")}
	fsys[srcKey(typSend, "2025-04-01-20", 40)] = &fstest.MapFile{Data: []byte("s7,106\n")}
	cp2, err := objstore.OpenFileCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	got = collect(t, newTestSource(fsys, WithCheckpoint(cp2), WithEventTypes(typSend)))
	if want := []string{"s4", "s5", "s7"}; !slices.Equal(got, want) {
		t.Fatalf("rerun %q, want %q", got, want)
	}
	got = collect(t, newTestSource(fsys, WithCheckpoint(cp2), WithEventTypes(typSend)))
	if len(got) != 0 {
		t.Fatalf("third run %q, want nothing", got)
	}
}

func TestSourceCheckpointNotMarkedOnBreak(t *testing.T) {
	cp, _ := objstore.OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	s := newTestSource(srcFS(), WithCheckpoint(cp), WithEventTypes(typSend))
	for ke, err := range s.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if ke.Event.EventID() == "s2" { // the last event of the first file
			break
		}
	}
	if cp.Len() != 0 {
		t.Errorf("checkpoint has %d keys after a break inside the first file", cp.Len())
	}
}

// failingCheckpoint fails Done for one key and MarkDone for another.
type failingCheckpoint struct {
	failDone, failMark string
	marked             []string
}

var errCheckpoint = errors.New("checkpoint unavailable")

func (c *failingCheckpoint) Done(_ context.Context, key string) (bool, error) {
	if key == c.failDone {
		return false, errCheckpoint
	}
	return false, nil
}

func (c *failingCheckpoint) MarkDone(_ context.Context, key string) error {
	if key == c.failMark {
		return errCheckpoint
	}
	c.marked = append(c.marked, key)
	return nil
}

func TestSourceCheckpointErrors(t *testing.T) {
	cp := &failingCheckpoint{failDone: srcKey(typOpen, "2025-04-01-17", 11), failMark: srcKey(typOpen, "2025-04-01-19", 31)}
	var out []string
	for ke, err := range newTestSource(srcFS(), WithCheckpoint(cp), WithEventTypes(typOpen)).All(context.Background()) {
		if err != nil {
			if !errors.Is(err, errCheckpoint) {
				t.Fatalf("unexpected %v", err)
			}
			out = append(out, "ERR")
			continue
		}
		out = append(out, ke.Event.EventID())
	}
	if want := []string{"ERR", "o2", "ERR"}; !slices.Equal(out, want) {
		t.Errorf("got %q, want %q", out, want)
	}
	if len(cp.marked) != 0 {
		t.Errorf("marked %q", cp.marked)
	}
}

func TestSourceEventsErrors(t *testing.T) {
	s := newTestSource(srcFS())
	k, err := ParseKey(srcKey(typSend, "2025-04-01-23", 99))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, err := range s.Events(context.Background(), File{Key: k}) {
		errs = append(errs, err)
	}
	var fe *FileError
	if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Key != k.Raw || !errors.Is(errs[0], fs.ErrNotExist) {
		t.Fatalf("missing file: %v", errs)
	}
	if msg := errs[0].Error(); strings.Count(msg, k.Raw) != 1 {
		t.Errorf("message should name the key once: %s", msg)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs = nil
	for _, err := range s.All(ctx) {
		errs = append(errs, err)
		if len(errs) > 100 {
			break
		}
	}
	if len(errs) == 0 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("cancelled: %v", errs)
	}
}

func TestFileErrorMessage(t *testing.T) {
	_, kerr := ParseKey("a/b.avro")
	tests := []struct {
		err  *FileError
		want string
	}{
		{&FileError{Key: "a/b.avro", Err: kerr}, kerr.Error()},
		{&FileError{Key: "a/b.avro", Err: io.ErrUnexpectedEOF}, "currents: a/b.avro: unexpected EOF"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// countingFS counts ReadDir calls per directory.
type countingFS struct {
	fstest.MapFS
	reads map[string]int
}

func (c *countingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	c.reads[name]++
	return c.MapFS.ReadDir(name)
}

// flatStore hides a store's ListDir, so Source lists it flat.
type flatStore struct{ objstore.Store }

func TestSourcePrunesFolders(t *testing.T) {
	cfs := &countingFS{MapFS: srcFS(), reads: map[string]int{}}
	h := func(s string) time.Time { return hour(s) }
	opts := []SourceOption{WithEventTypes(typSend), WithHours(h("2025-04-01-18"), h("2025-04-01-19"))}
	got := collect(t, newTestSource(cfs, opts...))
	if want := []string{"s3", "s4", "ERR " + srcKey(typSend, "2025-04-01-18", 21)}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	const root = "currents/dataexport.prod-01.S3.integration.0123456789abcdef01234567"
	for dir, n := range cfs.reads {
		if strings.Contains(dir, typOpen) || strings.Contains(dir, "date=2025-04-01-17") || strings.Contains(dir, "date=2025-04-01-19") {
			t.Errorf("read %s (%d times) although the filters exclude it", dir, n)
		}
	}
	if cfs.reads[root+"/event_type="+typSend+"/date=2025-04-01-18/version=6/us-01"] != 1 {
		t.Errorf("reads: %v", cfs.reads)
	}
}

// TestSourcePruningMatchesFlatListing checks that skipping folders never
// changes which files are found, for random filters.
func TestSourcePruningMatchesFlatListing(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	fsys := fstest.MapFS{
		"currents/event_type=t/date=2025-04-01-5/x.avro":        {}, // bad date folder: reported, never skipped
		"currents/event_type=t/date=2025-04-01-05/extra/y.avro": {},
		"currents/event_type=t/2025-04-01-05/z.avro":            {},
	}
	types := []string{typSend, typOpen, "t"}
	for i := range 60 {
		fsys[srcKey(types[i%2], fmt.Sprintf("2025-04-%02d-%02d", 1+i%3, i%24), i)] = &fstest.MapFile{}
	}
	files := func(s *Source) []string {
		var out []string
		for f, err := range s.Files(context.Background()) {
			if err != nil {
				out = append(out, "ERR "+err.Error())
				continue
			}
			out = append(out, f.Key.Raw)
		}
		return out
	}
	for round := range 100 {
		var opts []SourceOption
		if r.IntN(2) == 0 {
			opts = append(opts, WithEventTypes(types[:1+r.IntN(len(types))]...))
		}
		from := dedupeT0.Add(time.Duration(r.IntN(72*60)) * time.Minute)
		opts = append(opts, WithHours(from, from.Add(time.Duration(r.IntN(48*60))*time.Minute)))
		pruned := files(NewSource(objstore.NewFSStore(fsys), "currents/", opts...))
		flat := files(NewSource(flatStore{objstore.NewFSStore(fsys)}, "currents/", opts...))
		if !slices.Equal(pruned, flat) {
			t.Fatalf("round %d: pruned walk\n%q\nflat listing\n%q", round, pruned, flat)
		}
	}
}

func TestSourceLogsSkips(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cp, _ := objstore.OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	cp.MarkDone(context.Background(), srcKey(typSend, "2025-04-01-17", 10))
	s := newTestSource(srcFS(), WithSourceLogger(log), WithCheckpoint(cp), WithEventTypes(typSend))
	s.store = flatStore{s.store} // list flat, so that filtered files are seen and logged
	for range s.Files(context.Background()) {
	}
	out := buf.String()
	for _, want := range [][2]string{
		{"not an .avro file", "currents/_manifest.json"},
		{"outside the filters", srcKey(typOpen, "2025-04-01-17", 11)},
		{"checkpointed file", srcKey(typSend, "2025-04-01-17", 10)},
	} {
		found := false
		for line := range strings.Lines(out) {
			found = found || (strings.Contains(line, want[0]) && strings.Contains(line, want[1]))
		}
		if !found {
			t.Errorf("log lacks %q for %s:\n%s", want[0], want[1], out)
		}
	}
	// Silent by default: nothing to check but that it does not panic
	// with a nil logger option.
	for range newTestSource(srcFS(), WithSourceLogger(nil)).Files(context.Background()) {
	}
}
