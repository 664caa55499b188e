package currents

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func filledDeduper() *Deduper {
	d := NewDeduper(3*time.Hour, WithMaxIDs(0))
	for h := range 6 {
		d.Seen(typSend, uuidN(h), at(h))
		d.Seen(typSend, "other-"+uuidN(h), at(h))
		d.Seen(typOpen, uuidN(100+h), at(h+10))
	}
	return d
}

func TestDeduperSaveLoad(t *testing.T) {
	d := filledDeduper()
	var buf bytes.Buffer
	n, err := d.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v (wrote %d)", n, err, buf.Len())
	}
	var again bytes.Buffer
	d.WriteTo(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("WriteTo is not deterministic")
	}

	loaded := NewDeduper(3*time.Hour, WithMaxIDs(0))
	m, err := loaded.ReadFrom(bytes.NewReader(buf.Bytes()))
	if err != nil || m != n {
		t.Fatalf("ReadFrom = %d, %v", m, err)
	}
	if got, want := loaded.Stats().Held, d.Stats().Held; got != want || got != 12 {
		t.Errorf("held %d after load, %d before", got, want)
	}
	// Hours 2..5 of Send and 12..15 of Open are in the window; older ones
	// were expired before saving.
	for h := range 6 {
		in := h >= 2
		if got := loaded.Seen(typSend, uuidN(h), at(5)); got != in {
			t.Errorf("Send uuid of hour %d: duplicate %v, want %v", h, got, in)
		}
		if got := loaded.Seen(typSend, "other-"+uuidN(h), at(5)); got != in {
			t.Errorf("Send id of hour %d: duplicate %v, want %v", h, got, in)
		}
		if got := loaded.Seen(typOpen, uuidN(100+h), at(15)); got != in {
			t.Errorf("Open uuid of hour %d: duplicate %v, want %v", h, got, in)
		}
	}

	// A Deduper with a shorter window keeps only what fits in it.
	short := NewDeduper(time.Hour, WithMaxIDs(0))
	if _, err := short.ReadFrom(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if held := short.Stats().Held; held != 6 { // hours 4 and 5 of Send (2 ids each), 14 and 15 of Open
		t.Errorf("short window holds %d", held)
	}
}

func TestDeduperReadFromErrors(t *testing.T) {
	var buf bytes.Buffer
	filledDeduper().WriteTo(&buf)
	data := buf.Bytes()
	for i := range len(data) {
		_, err := NewDeduper(time.Hour).ReadFrom(bytes.NewReader(data[:i]))
		if !errors.Is(err, ErrDedupeState) {
			t.Fatalf("cut at %d: %v", i, err)
		}
	}
	if _, err := NewDeduper(time.Hour).ReadFrom(bytes.NewReader(append(bytes.Clone(data), 0))); !errors.Is(err, ErrDedupeState) {
		t.Errorf("trailing byte: %v", err)
	}
	// A huge declared id length is refused before allocating it.
	bad := append([]byte(dedupeMagic), 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f)
	if _, err := NewDeduper(time.Hour).ReadFrom(bytes.NewReader(bad)); !errors.Is(err, ErrDedupeState) {
		t.Errorf("huge length: %v", err)
	}
}

func TestDeduperSaveFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dedupe.bin")
	d := NewDeduper(time.Hour)
	if err := d.LoadFile(path); err != nil {
		t.Fatalf("missing file: %v", err)
	}
	d.Seen(typSend, uuidN(1), at(0))
	if err := d.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	next := NewDeduper(time.Hour)
	if err := next.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if !next.Seen(typSend, uuidN(1), at(1)) {
		t.Error("id lost across SaveFile/LoadFile")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory", len(entries))
	}
	os.WriteFile(path, []byte("garbage"), 0o644)
	if err := NewDeduper(time.Hour).LoadFile(path); !errors.Is(err, ErrDedupeState) {
		t.Errorf("garbage file: %v", err)
	}
}

// FuzzDeduperReadFrom checks that loading any bytes never panics and that
// what loads writes back to a form that loads to the same state.
func FuzzDeduperReadFrom(f *testing.F) {
	var buf bytes.Buffer
	filledDeduper().WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(dedupeMagic))
	f.Add(append([]byte(dedupeMagic), 1, 1, 2, 'a', 'b', 4, 2, 0, 1, 3, 'x', 'y', 'z'))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDeduper(2*time.Hour, WithMaxIDs(1000))
		if _, err := d.ReadFrom(bytes.NewReader(data)); err != nil {
			if !errors.Is(err, ErrDedupeState) {
				t.Fatalf("error %v does not match ErrDedupeState", err)
			}
			return
		}
		var out bytes.Buffer
		if _, err := d.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		d2 := NewDeduper(2*time.Hour, WithMaxIDs(1000))
		if _, err := d2.ReadFrom(bytes.NewReader(out.Bytes())); err != nil {
			t.Fatalf("rewritten state does not load: %v", err)
		}
		if d2.Stats().Held != d.Stats().Held {
			t.Fatalf("held %d after reload, %d before", d2.Stats().Held, d.Stats().Held)
		}
	})
}
