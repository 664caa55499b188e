package currents

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// The Deduper's saved form:
//
//	magic "ampbraze-dedupe\x01"
//	uvarint window hours (informational: the loading Deduper keeps its own)
//	uvarint number of event types, then for each:
//	  string event type, varint first hour, uvarint number of hours, then
//	  for each hour: uvarint n, n×16 UUID bytes, uvarint m, m strings
//
// A string is a uvarint length and the bytes. Hours are consecutive from
// the first, oldest first; the ids of an hour in the order they were seen.
const dedupeMagic = "ampbraze-dedupe\x01"

// maxSavedID bounds an id's length when loading, so a corrupt file cannot
// make LoadFile allocate without limit. Braze ids are 36 bytes.
const maxSavedID = 4096

// ErrDedupeState is matched (with errors.Is) by the error ReadFrom returns
// for data that is not a saved Deduper.
var ErrDedupeState = errors.New("currents: malformed saved deduplicator state")

// WriteTo writes the ids the Deduper holds, with their event types and
// hours, so that the next run of a job can recognise duplicates of events
// this run delivered. It implements io.WriterTo.
func (d *Deduper) WriteTo(w io.Writer) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cw := &countingWriter{w: bufio.NewWriter(w)}
	cw.str(dedupeMagic)
	cw.uvarint(uint64(d.window))
	types := make([]string, 0, len(d.streams))
	for t := range d.streams {
		types = append(types, t)
	}
	slices.Sort(types) // deterministic output
	cw.uvarint(uint64(len(types)))
	for _, t := range types {
		st := d.streams[t]
		cw.uvarint(uint64(len(t)))
		cw.str(t)
		cw.varint(st.base)
		cw.uvarint(uint64(len(st.buckets)))
		for i, b := range st.buckets {
			if b == nil {
				cw.uvarint(0)
				cw.uvarint(0)
				continue
			}
			// Only live entries: not those Forget left behind.
			hour := int32(st.base + int64(i))
			var uuids [][16]byte
			for _, u := range b.uuids[b.uHead:] {
				if h, ok := d.uuids[u]; ok && h == hour {
					uuids = append(uuids, u)
				}
			}
			cw.uvarint(uint64(len(uuids)))
			for _, u := range uuids {
				cw.bytes(u[:])
			}
			var others []string
			for _, s := range b.others[b.oHead:] {
				if h, ok := d.others[s]; ok && h == hour {
					others = append(others, s)
				}
			}
			cw.uvarint(uint64(len(others)))
			for _, s := range others {
				cw.uvarint(uint64(len(s)))
				cw.str(s)
			}
		}
	}
	if cw.err == nil {
		cw.err = cw.w.(*bufio.Writer).Flush()
	}
	return cw.n, cw.err
}

// ReadFrom adds the ids saved by WriteTo to the Deduper, as if Seen had
// been called for each at its hour: the receiving Deduper's window and cap
// apply, so ids older than its window are dropped. It reads to the end of r and implements
// io.ReaderFrom. Malformed data gives an error matching ErrDedupeState;
// the ids read before the fault are kept.
func (d *Deduper) ReadFrom(r io.Reader) (int64, error) {
	cr := &countingReader{r: bufio.NewReader(r)}
	fail := func(what string, err error) (int64, error) {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return cr.n, fmt.Errorf("%w: %s at byte %d: %w", ErrDedupeState, what, cr.n, err)
	}
	magic := make([]byte, len(dedupeMagic))
	if _, err := io.ReadFull(cr, magic); err != nil || string(magic) != dedupeMagic {
		if err == nil {
			err = fmt.Errorf("magic %q", magic)
		}
		return fail("header", err)
	}
	if _, err := binary.ReadUvarint(cr); err != nil { // the writer's window
		return fail("window", err)
	}
	ntypes, err := binary.ReadUvarint(cr)
	if err != nil {
		return fail("type count", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for range ntypes {
		typ, err := readString(cr)
		if err != nil {
			return fail("event type", err)
		}
		base, err := binary.ReadVarint(cr)
		if err != nil {
			return fail("first hour", err)
		}
		// Hours since 1970 that time.Time can hold; beyond, the arithmetic
		// on hours could overflow.
		if base < -maxHour || base > maxHour {
			return fail("first hour", fmt.Errorf("%d is out of range", base))
		}
		nhours, err := binary.ReadUvarint(cr)
		if err != nil {
			return fail("hour count", err)
		}
		if nhours > 2*maxHour || base+int64(nhours) > maxHour {
			return fail("hour count", fmt.Errorf("%d is out of range", nhours))
		}
		for h := range nhours {
			hour := base + int64(h)
			nu, err := binary.ReadUvarint(cr)
			if err != nil {
				return fail("id count", err)
			}
			var u [16]byte
			for range nu {
				if _, err := io.ReadFull(cr, u[:]); err != nil {
					return fail("UUID", err)
				}
				d.seen(typ, hour, u, true, "")
			}
			no, err := binary.ReadUvarint(cr)
			if err != nil {
				return fail("id count", err)
			}
			for range no {
				s, err := readString(cr)
				if err != nil {
					return fail("id", err)
				}
				d.seen(typ, hour, [16]byte{}, false, s)
			}
		}
	}
	if _, err := cr.r.ReadByte(); err != io.EOF {
		return fail("end", errors.New("trailing data"))
	}
	return cr.n, nil
}

// SaveFile writes the Deduper's state to path atomically (a temporary
// file renamed over the old one), for LoadFile in the next run.
func (d *Deduper) SaveFile(path string) error {
	err := writeFileAtomic(path, func(w *bufio.Writer) error {
		_, err := d.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("currents: saving deduplicator state: %w", err)
	}
	return nil
}

// LoadFile adds the state saved at path by SaveFile (see ReadFrom). A
// missing file is not an error: the first run has none.
func (d *Deduper) LoadFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("currents: loading deduplicator state: %w", err)
	}
	defer f.Close()
	if _, err := d.ReadFrom(f); err != nil {
		return fmt.Errorf("currents: loading deduplicator state from %s: %w", path, err)
	}
	return nil
}

func readString(r *countingReader) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", err
	}
	if n > maxSavedID {
		return "", fmt.Errorf("length %d exceeds %d", n, maxSavedID)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
	buf [binary.MaxVarintLen64]byte
}

func (c *countingWriter) bytes(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countingWriter) str(s string) {
	if c.err != nil {
		return
	}
	n, err := io.WriteString(c.w, s)
	c.n += int64(n)
	c.err = err
}

func (c *countingWriter) uvarint(v uint64) { c.bytes(c.buf[:binary.PutUvarint(c.buf[:], v)]) }
func (c *countingWriter) varint(v int64)   { c.bytes(c.buf[:binary.PutVarint(c.buf[:], v)]) }

type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
