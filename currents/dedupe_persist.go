package currents

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
)

// The Deduper's saved form (WriteTo, ReadFrom):
//
//	magic "ampbraze-dedupe\x01"
//	body
//
// and its log file (SaveFile, LoadFile):
//
//	magic "ampbraze-dedupe\x02"
//	body, then 4 bytes: CRC-32C (little-endian) of the magic and body
//	records appended by later commits, each:
//	  uvarint n, n bytes of payload, 4 bytes: CRC-32C of the payload
//	  payload: 'A', uvarint k, k forgotten ids (strings), body of the ids
//	  added since the previous record
//
// where a body is:
//
//	uvarint window hours (informational: the loading Deduper keeps its own)
//	uvarint number of event types, then for each:
//	  string event type, varint first hour, uvarint number of hours, then
//	  for each hour: uvarint n, n×16 UUID bytes, uvarint m, m strings
//
// A string is a uvarint length and the bytes. Hours are consecutive from
// the first, oldest first; the ids of an hour in the order they were seen.
// A record's body holds only the event types and the span of hours that
// gained ids.
const (
	dedupeMagic    = "ampbraze-dedupe\x01"
	dedupeLogMagic = "ampbraze-dedupe\x02"
)

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
	return d.writeForm(w, false)
}

// WriteUnsaved writes, in WriteTo's form (for ReadFrom), the ids added
// since the last SaveFile or LoadFile: all the ids held when there was
// none. A job that commits its output before it calls SaveFile keeps them
// beside the output it commits, so that a crash between its commit and
// SaveFile does not forget them: its next run adds them back with ReadFrom
// and saves them.
func (d *Deduper) WriteUnsaved(w io.Writer) (int64, error) {
	return d.writeForm(w, true)
}

func (d *Deduper) writeForm(w io.Writer, onlyNew bool) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	bw := bufio.NewWriter(w)
	cw := &countingWriter{w: bw}
	cw.str(dedupeMagic)
	d.writeBody(cw, onlyNew)
	if cw.flush() == nil {
		cw.err = bw.Flush()
	}
	return cw.n, cw.err
}

// writeBody writes the live ids held, or with onlyNew those after each
// bucket's saved marks; it returns the number of event types written.
func (d *Deduper) writeBody(cw *countingWriter, onlyNew bool) int {
	cw.uvarint(uint64(d.window))
	type span struct {
		typ        string
		st         *dedupeStream
		first, end int // buckets written
	}
	var spans []span
	for t, st := range d.streams {
		first, end := 0, len(st.buckets)
		if onlyNew {
			first, end = -1, -1
			for i, b := range st.buckets {
				if b != nil && (len(b.uuids) > max(b.savedU, b.uHead) || len(b.others) > max(b.savedO, b.oHead)) {
					if first < 0 {
						first = i
					}
					end = i + 1
				}
			}
			if first < 0 {
				continue
			}
		}
		spans = append(spans, span{t, st, first, end})
	}
	slices.SortFunc(spans, func(a, b span) int { return strings.Compare(a.typ, b.typ) }) // deterministic output
	cw.uvarint(uint64(len(spans)))
	var uuids [][16]byte
	var others []string
	for _, sp := range spans {
		st := sp.st
		cw.uvarint(uint64(len(sp.typ)))
		cw.str(sp.typ)
		cw.varint(st.base + int64(sp.first))
		cw.uvarint(uint64(sp.end - sp.first))
		for i := sp.first; i < sp.end; i++ {
			b := st.buckets[i]
			if b == nil {
				cw.uvarint(0)
				cw.uvarint(0)
				continue
			}
			uFrom, oFrom := b.uHead, b.oHead
			if onlyNew {
				uFrom, oFrom = max(uFrom, b.savedU), max(oFrom, b.savedO)
			}
			// Only live entries: not those Forget left behind. Until a
			// Forget, every entry is live, and the lookups (a cache miss
			// per id, most of a save's time) are skipped.
			hour := int32(st.base + int64(i))
			uuids, others = b.uuids[uFrom:], b.others[oFrom:]
			if d.stale {
				uuids, others = d.liveUUIDs(uuids, hour), d.liveOthers(others, hour)
			}
			cw.uvarint(uint64(len(uuids)))
			for _, u := range uuids {
				cw.bytes(u[:])
			}
			cw.uvarint(uint64(len(others)))
			for _, s := range others {
				cw.uvarint(uint64(len(s)))
				cw.str(s)
			}
		}
	}
	return len(spans)
}

// liveUUIDs returns, in a new slice, those of ids that the Deduper still
// holds at hour.
func (d *Deduper) liveUUIDs(ids [][16]byte, hour int32) [][16]byte {
	var live [][16]byte
	for _, u := range ids {
		if h, ok := d.uuids.get(u); ok && h == hour {
			live = append(live, u)
		}
	}
	return live
}

// liveOthers is liveUUIDs for the ids that are not UUIDs.
func (d *Deduper) liveOthers(ids []string, hour int32) []string {
	var live []string
	for _, s := range ids {
		if h, ok := d.others[s]; ok && h == hour {
			live = append(live, s)
		}
	}
	return live
}

// markSaved records that the log file holds every id held.
func (d *Deduper) markSaved() {
	for _, st := range d.streams {
		for _, b := range st.buckets {
			if b != nil {
				b.savedU, b.savedO = len(b.uuids), len(b.others)
			}
		}
	}
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
	d.mu.Lock()
	defer d.mu.Unlock()
	if what, err := d.readBody(cr); err != nil {
		return fail(what, err)
	}
	if _, err := cr.r.ReadByte(); err != io.EOF {
		return fail("end", errors.New("trailing data"))
	}
	return cr.n, nil
}

// readBody reads a body (see above) into d, whose lock is held; on
// failure it says what it was reading.
func (d *Deduper) readBody(cr *countingReader) (string, error) {
	if _, err := binary.ReadUvarint(cr); err != nil { // the writer's window
		return "window", err
	}
	ntypes, err := binary.ReadUvarint(cr)
	if err != nil {
		return "type count", err
	}
	for range ntypes {
		typ, err := readString(cr)
		if err != nil {
			return "event type", err
		}
		base, err := binary.ReadVarint(cr)
		if err != nil {
			return "first hour", err
		}
		// Hours since 1970 that time.Time can hold; beyond, the arithmetic
		// on hours could overflow.
		if base < -maxHour || base > maxHour {
			return "first hour", fmt.Errorf("%d is out of range", base)
		}
		nhours, err := binary.ReadUvarint(cr)
		if err != nil {
			return "hour count", err
		}
		if nhours > 2*maxHour || base+int64(nhours) > maxHour {
			return "hour count", fmt.Errorf("%d is out of range", nhours)
		}
		for h := range nhours {
			hour := base + int64(h)
			nu, err := binary.ReadUvarint(cr)
			if err != nil {
				return "id count", err
			}
			var u [16]byte
			for range nu {
				if _, err := io.ReadFull(cr, u[:]); err != nil {
					return "UUID", err
				}
				d.seen(typ, hour, u, true, "")
			}
			no, err := binary.ReadUvarint(cr)
			if err != nil {
				return "id count", err
			}
			for range no {
				s, err := readString(cr)
				if err != nil {
					return "id", err
				}
				d.seen(typ, hour, [16]byte{}, false, s)
			}
		}
	}
	return "", nil
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

// countingWriter writes through a buffer of its own (ids are 16 bytes:
// one Write call per id cost more than the copying), counts the bytes
// and keeps the first error. Call flush at the end.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
	buf []byte
}

func (c *countingWriter) bytes(b []byte) {
	c.buf = append(c.buf, b...)
	c.n += int64(len(b))
	if len(c.buf) >= 64<<10 {
		c.flush()
	}
}

func (c *countingWriter) str(s string) {
	c.buf = append(c.buf, s...)
	c.n += int64(len(s))
	if len(c.buf) >= 64<<10 {
		c.flush()
	}
}

// flush writes the buffered bytes and returns the first error.
func (c *countingWriter) flush() error {
	if c.err == nil && len(c.buf) > 0 {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
	return c.err
}

func (c *countingWriter) uvarint(v uint64) {
	n := len(c.buf)
	c.buf = binary.AppendUvarint(c.buf, v)
	c.n += int64(len(c.buf) - n)
}

func (c *countingWriter) varint(v int64) {
	n := len(c.buf)
	c.buf = binary.AppendVarint(c.buf, v)
	c.n += int64(len(c.buf) - n)
}

type countingReader struct {
	r   *bufio.Reader
	n   int64
	crc hash.Hash32 // when set, fed every byte read
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.crc != nil {
		c.crc.Write(p[:n])
	}
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
		if c.crc != nil {
			c.crc.Write([]byte{b})
		}
	}
	return b, err
}
