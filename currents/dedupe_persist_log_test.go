package currents

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// countSyncs makes d's appends count their fsyncs in n.
func countSyncs(t *testing.T, d *Deduper, n *int) {
	t.Helper()
	if d.log == nil {
		t.Fatal("no log to append to")
	}
	d.log.sync = func(f *os.File) error { *n++; return f.Sync() }
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A commit after the first appends only the ids that are new, as one
// record, with one fsync; a commit with nothing new writes nothing; the
// next run loads the snapshot and every record, and appends to the file.
func TestDeduperLogAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe")
	d := NewDeduper(24*time.Hour, WithMaxIDs(0))
	for i := range 100 {
		d.Seen(typSend, uuidN(i), at(0))
	}
	if err := d.SaveFile(path); err != nil { // the first save: a snapshot
		t.Fatal(err)
	}
	syncs := 0
	countSyncs(t, d, &syncs)
	size := fileSize(t, path)
	for commit := 1; commit <= 3; commit++ {
		d.Seen(typSend, uuidN(1000*commit), at(commit))
		d.Seen(typOpen, "open-"+uuidN(commit), at(commit))
		d.Seen(typSend, uuidN(1), at(commit)) // a duplicate: nothing new
		if err := d.SaveFile(path); err != nil {
			t.Fatal(err)
		}
		grown := fileSize(t, path) - size
		// One UUID (16 bytes), one 41-byte string id, two type names and
		// the framing: far below the 100 ids already saved (1,600 bytes).
		if grown <= 0 || grown > 200 {
			t.Errorf("commit %d: the file grew by %d bytes", commit, grown)
		}
		size += grown
		if syncs != commit {
			t.Errorf("commit %d: %d fsyncs in all", commit, syncs)
		}
	}
	if err := d.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if fileSize(t, path) != size || syncs != 3 {
		t.Errorf("a commit with nothing new wrote %d bytes, synced %d times in all", fileSize(t, path)-size, syncs)
	}
	if d.log.compactions != 1 {
		t.Errorf("%d compactions", d.log.compactions)
	}

	next := NewDeduper(24*time.Hour, WithMaxIDs(0))
	if err := next.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if got, want := next.Stats().Held, d.Stats().Held; got != want || got != 106 {
		t.Fatalf("held %d after load, %d before", got, want)
	}
	for _, id := range []string{uuidN(0), uuidN(99), uuidN(1000), uuidN(3000)} {
		if !next.Seen(typSend, id, at(3)) {
			t.Errorf("%s lost", id)
		}
	}
	if !next.Seen(typOpen, "open-"+uuidN(2), at(3)) {
		t.Error("string id lost")
	}
	// The loaded Deduper appends to the same file.
	next.Seen(typSend, uuidN(5000), at(4))
	if err := next.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if grown := fileSize(t, path) - size; grown <= 0 || grown > 100 {
		t.Errorf("the next run's commit grew the file by %d bytes", grown)
	}
	last := NewDeduper(24*time.Hour, WithMaxIDs(0))
	if err := last.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if last.Stats().Held != 107 || !last.Seen(typSend, uuidN(5000), at(4)) {
		t.Errorf("after the second run: held %d", last.Stats().Held)
	}
}

// An id forgotten after it was saved stays forgotten in the next run; one
// forgotten and seen again is held.
func TestDeduperLogForget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe")
	d := NewDeduper(24*time.Hour, WithMaxIDs(0))
	d.Seen(typSend, uuidN(1), at(0))
	d.Seen(typSend, "plain-2", at(0))
	d.Seen(typSend, uuidN(3), at(0))
	if err := d.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	d.Forget(uuidN(1))
	d.Forget("plain-2")
	d.Forget(uuidN(3))
	d.Seen(typSend, uuidN(3), at(1))
	if err := d.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	next := NewDeduper(24*time.Hour, WithMaxIDs(0))
	if err := next.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if next.Seen(typSend, uuidN(1), at(1)) || next.Seen(typSend, "plain-2", at(1)) {
		t.Error("a forgotten id came back")
	}
	if !next.Seen(typSend, uuidN(3), at(1)) {
		t.Error("an id seen again after Forget was lost")
	}
}

// tornFixture saves a snapshot and three appended records and returns the
// file's bytes and where the last record starts.
func tornFixture(t *testing.T, path string) (data []byte, lastStart int64) {
	t.Helper()
	d := NewDeduper(24*time.Hour, WithMaxIDs(0))
	d.Seen(typSend, uuidN(0), at(0))
	if err := d.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		lastStart = fileSize(t, path)
		d.Seen(typSend, uuidN(i), at(i))
		d.Seen(typSend, "plain-"+uuidN(i), at(i))
		if err := d.SaveFile(path); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data, lastStart
}

// A crash during an append leaves the last record torn at any byte, or
// followed by zeros: LoadFile ignores it and reports its size, the
// records before it load, and the next save writes over the torn bytes.
func TestDeduperLogTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dedupe")
	data, lastStart := tornFixture(t, path)
	tails := map[string][]byte{}
	for cut := lastStart; cut < int64(len(data)); cut++ {
		tails["cut at "+itoa(cut)] = data[:cut]
	}
	tails["zeros after the records"] = append(bytes.Clone(data), make([]byte, 100)...)
	tails["last record then zeros"] = append(bytes.Clone(data[:lastStart]), make([]byte, 30)...)
	flipped := bytes.Clone(data)
	flipped[len(flipped)-6] ^= 0x40 // inside the last record's payload
	tails["last record's checksum fails"] = flipped
	for name, b := range tails {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d := NewDeduper(24*time.Hour, WithMaxIDs(0))
		if err := d.LoadFile(path); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		complete := int64(len(b)) >= int64(len(data)) && name == "zeros after the records"
		wantHeld, wantTorn := 5, int64(len(b))-lastStart
		if complete {
			wantHeld, wantTorn = 7, 100
		}
		if s := d.Stats(); s.Held != wantHeld || s.TornTail != wantTorn {
			t.Errorf("%s: held %d, torn %d bytes; want %d, %d", name, s.Held, s.TornTail, wantHeld, wantTorn)
		}
		// The next commit replaces the torn bytes.
		d.Seen(typSend, uuidN(9), at(4))
		if err := d.SaveFile(path); err != nil {
			t.Fatal(err)
		}
		again := NewDeduper(24*time.Hour, WithMaxIDs(0))
		if err := again.LoadFile(path); err != nil {
			t.Errorf("%s: after the next save: %v", name, err)
			continue
		}
		if s := again.Stats(); s.Held != wantHeld+1 || s.TornTail != 0 {
			t.Errorf("%s: after the next save: held %d, torn %d", name, s.Held, s.TornTail)
		}
	}
}

// Damage that a crash cannot cause is an error naming the byte: a record
// in the middle whose checksum fails, a damaged snapshot, a bad length
// followed by data.
func TestDeduperLogDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dedupe")
	data, lastStart := tornFixture(t, path)
	cases := map[string][]byte{}
	mid := bytes.Clone(data)
	mid[lastStart-3] ^= 1 // the second record's checksum
	cases["middle record"] = mid
	snap := bytes.Clone(data)
	snap[len(dedupeLogMagic)+3] ^= 1
	cases["snapshot"] = snap
	zeroLen := append(bytes.Clone(data[:lastStart]), 0, 1, 2, 3)
	cases["length 0, then data"] = zeroLen
	cases["other magic"] = append([]byte("ampbraze-dedupe\x03"), data[len(dedupeLogMagic):]...)
	for name, b := range cases {
		os.WriteFile(path, b, 0o644)
		err := NewDeduper(24 * time.Hour).LoadFile(path)
		if !errors.Is(err, ErrDedupeState) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The file is compacted once the appended records outweigh the snapshot:
// ids whose window passed leave the file, and the state survives.
func TestDeduperLogCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe")
	d := NewDeduper(2*time.Hour, WithMaxIDs(0))
	syncs, n := 0, 0
	var sizes []int64
	for hour := range 12 {
		for range 20_000 { // 320 KB of UUIDs per commit
			d.Seen(typSend, uuidN(n), at(hour))
			n++
		}
		if err := d.SaveFile(path); err != nil {
			t.Fatal(err)
		}
		if hour == 0 {
			countSyncs(t, d, &syncs)
		}
		sizes = append(sizes, fileSize(t, path))
	}
	c := d.log.compactions
	if c < 2 || c > 6 {
		t.Fatalf("%d compactions over 12 commits; sizes %v", c, sizes)
	}
	if syncs+c-1 != 11 {
		t.Errorf("%d appends' fsyncs and %d compactions for 11 commits", syncs, c-1)
	}
	// The window holds 3 hours of 20,000 ids; the file never holds much
	// more than twice that plus the slack.
	for i, s := range sizes {
		if s > 2*3*20_000*16+compactSlack+3*20_000*16 {
			t.Errorf("commit %d: file of %d bytes", i, s)
		}
	}
	shrunk := false
	for i := 1; i < len(sizes); i++ {
		shrunk = shrunk || sizes[i] < sizes[i-1]
	}
	if !shrunk {
		t.Errorf("the file never shrank: %v", sizes)
	}
	next := NewDeduper(2*time.Hour, WithMaxIDs(0))
	if err := next.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if got, want := next.Stats().Held, d.Stats().Held; got != want {
		t.Errorf("held %d after load, %d before", got, want)
	}
	if !next.Seen(typSend, uuidN(n-1), at(11)) || next.Seen(typSend, uuidN(0), at(11)) {
		t.Error("the loaded state is not the saved one")
	}
}

// A file in WriteTo's form (what earlier versions saved) loads, and the
// next save rewrites it as a log.
func TestDeduperLogFromSnapshotForm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe")
	var buf bytes.Buffer
	filledDeduper().WriteTo(&buf)
	os.WriteFile(path, buf.Bytes(), 0o644)
	d := NewDeduper(3*time.Hour, WithMaxIDs(0))
	if err := d.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if d.Stats().Held != 12 {
		t.Fatalf("held %d", d.Stats().Held)
	}
	if err := d.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.HasPrefix(b, []byte(dedupeLogMagic)) {
		t.Errorf("not rewritten as a log: %q", b[:16])
	}
	next := NewDeduper(3*time.Hour, WithMaxIDs(0))
	if err := next.LoadFile(path); err != nil || next.Stats().Held != 12 {
		t.Errorf("reload: %v, held %d", err, next.Stats().Held)
	}
}

// A Deduper that held ids before LoadFile does not append (the file lacks
// those ids): its next save compacts.
func TestDeduperLogLoadIntoNonEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe")
	d := NewDeduper(time.Hour)
	d.Seen(typSend, uuidN(1), at(0))
	d.SaveFile(path)
	other := NewDeduper(time.Hour)
	other.Seen(typSend, uuidN(2), at(0))
	if err := other.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := other.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	final := NewDeduper(time.Hour)
	final.LoadFile(path)
	if !final.Seen(typSend, uuidN(1), at(0)) || !final.Seen(typSend, uuidN(2), at(0)) {
		t.Error("ids lost")
	}
}

func itoa(n int64) string { return string(appendInt(nil, n)) }

// FuzzDeduperLoadLog checks that loading any bytes as a log file never
// panics, that failures match ErrDedupeState, and that what loads writes
// back to a form that loads to the same number of ids.
func FuzzDeduperLoadLog(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed")
	d := filledDeduper()
	d.SaveFile(path)
	d.Seen(typSend, uuidN(77), at(6))
	d.Forget(uuidN(5))
	d.SaveFile(path)
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add([]byte(dedupeLogMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDeduper(3*time.Hour, WithMaxIDs(1000))
		d.mu.Lock()
		_, err := d.load(bytes.NewReader(data), int64(len(data)))
		d.mu.Unlock()
		if err != nil {
			if !errors.Is(err, ErrDedupeState) {
				t.Fatalf("error %v does not match ErrDedupeState", err)
			}
			return
		}
		var out bytes.Buffer
		if _, err := d.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		d2 := NewDeduper(3*time.Hour, WithMaxIDs(1000))
		if _, err := d2.ReadFrom(&out); err != nil {
			t.Fatalf("saved state does not load: %v", err)
		}
		if d2.Stats().Held != d.Stats().Held {
			t.Fatalf("held %d after reload, %d before", d2.Stats().Held, d.Stats().Held)
		}
	})
}

// WriteUnsaved writes the ids added since the last save, not those saved
// or forgotten; a Deduper that loads the file and reads them back saves
// them, so the next run holds all. Before any save it writes every id.
func TestDeduperWriteUnsaved(t *testing.T) {
	d := filledDeduper()
	var all, before bytes.Buffer
	d.WriteTo(&all)
	if _, err := d.WriteUnsaved(&before); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(all.Bytes()[len(dedupeMagic):], before.Bytes()[len(dedupeMagic):]) {
		t.Error("before any save, WriteUnsaved does not write every id")
	}

	path := filepath.Join(t.TempDir(), "dedupe")
	if err := d.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	d.Seen(typSend, uuidN(50), at(5))
	d.Seen(typOpen, "other-new", at(14))
	d.Seen(typOpen, uuidN(51), at(14))
	d.Forget(uuidN(51))
	var unsaved bytes.Buffer
	n, err := d.WriteUnsaved(&unsaved)
	if err != nil || n != int64(unsaved.Len()) {
		t.Fatalf("WriteUnsaved = %d, %v (wrote %d)", n, err, unsaved.Len())
	}
	only := NewDeduper(3*time.Hour, WithMaxIDs(0))
	if _, err := only.ReadFrom(bytes.NewReader(unsaved.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := only.Stats().Held; got != 2 {
		t.Errorf("WriteUnsaved wrote %d ids, want the 2 added since the save and not forgotten", got)
	}

	// The next run: the file lacks the new ids until they are read back
	// and saved.
	next := NewDeduper(3*time.Hour, WithMaxIDs(0))
	if err := next.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := next.ReadFrom(bytes.NewReader(unsaved.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := next.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	final := NewDeduper(3*time.Hour, WithMaxIDs(0))
	if err := final.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if got, want := final.Stats().Held, d.Stats().Held; got != want {
		t.Errorf("held %d after the ids were read back and saved, want %d", got, want)
	}
	if !final.Seen(typSend, uuidN(50), at(5)) || !final.Seen(typOpen, "other-new", at(14)) || final.Seen(typOpen, uuidN(51), at(14)) {
		t.Error("the saved state lacks an unsaved id, or holds the forgotten one")
	}
}

// BenchmarkDeduperWriteIDs writes the 300,000 ids of a batch
// (WriteUnsaved; SaveFile's record is the same body) beside the same write
// with the lookup of each id that a Forget makes necessary, which every
// write made before: the baseline.
func BenchmarkDeduperWriteIDs(b *testing.B) {
	fill := func() *Deduper {
		d := NewDeduper(48 * time.Hour)
		for i := range 300_000 {
			d.Seen(typSend, uuidN(i), at(0))
		}
		return d
	}
	plain, looked := fill(), fill()
	looked.stale = true // as after a Forget: each id is looked up
	var fast, slow time.Duration
	for b.Loop() {
		t0 := time.Now()
		plain.WriteUnsaved(io.Discard)
		t1 := time.Now()
		looked.WriteUnsaved(io.Discard)
		fast, slow = fast+t1.Sub(t0), slow+time.Since(t1)
	}
	b.ReportMetric(float64(fast.Nanoseconds())/float64(b.N)/300_000, "ns/id")
	b.ReportMetric(float64(slow.Nanoseconds())/float64(b.N)/300_000, "baseline-ns/id")
	b.ReportMetric(float64(slow)/float64(fast), "speedup")
}
