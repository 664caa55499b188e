package currents

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"

	"github.com/ampbraze/ampbraze/internal/atomicfile"
)

// dedupeLog is the state of the file SaveFile appends to: a snapshot of
// the ids (written by a compaction) followed by one record per commit with
// the ids added and forgotten since the previous one.
type dedupeLog struct {
	path string
	// size is the length of the file's valid data: the next record goes
	// there.
	size int64
	// base is the size of the snapshot the file started with; once the
	// records appended after it outweigh it (plus compactSlack), the next
	// save compacts.
	base int64
	// truncate is set when bytes past size may be in the file (a torn
	// tail found by LoadFile, a failed append): the next append cuts them.
	truncate bool
	// forgotten holds the ids Forget removed since the last save, which
	// the file may hold.
	forgotten []string
	// sync makes an append durable: (*os.File).Sync, or a test's counter.
	sync func(*os.File) error
	// compactions counts the snapshots written (for tests).
	compactions int
}

// compactSlack is how far the appended records may outgrow the snapshot
// before the next save compacts: small states are not rewritten at every
// few commits.
const compactSlack = 1 << 20

// maxRecord bounds an appended record's length when loading.
const maxRecord = 1 << 34

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SaveFile persists the Deduper's ids to path, for LoadFile in the next
// run. The file is a log: each save after the first appends only the ids
// added (and forgotten) since the previous one, as one checksummed record,
// with one fsync. When the appended records have grown larger than the
// snapshot the file starts with (by over 1 MiB), or the first time a
// Deduper saves to path (unless LoadFile read it), the save compacts
// instead: it writes the live ids to a temporary file, syncs it and
// renames it over path (then syncs the directory), dropping ids whose
// window has passed. A crash during an append leaves a torn last record,
// which LoadFile detects by its length and checksum and ignores
// (DedupeStats.TornTail); a crash during a compaction leaves the old file.
func (d *Deduper) SaveFile(path string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.save(path); err != nil {
		return fmt.Errorf("currents: saving deduplicator state to %s: %w", path, err)
	}
	return nil
}

func (d *Deduper) save(path string) error {
	l := d.log
	if l == nil || l.path != path {
		return d.compact(path)
	}
	rec := d.logRecord()
	if rec == nil && !l.truncate {
		return nil // nothing new
	}
	if l.size+int64(len(rec)) > 2*l.base+compactSlack {
		return d.compact(path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if len(rec) > 0 {
		_, err = f.WriteAt(rec, l.size)
	}
	if err == nil && l.truncate { // cut what a crash or a failed append left after it
		err = f.Truncate(l.size + int64(len(rec)))
	}
	if err == nil {
		err = l.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Part of the record may be in the file: the next save writes
		// over it and cuts what is left.
		l.truncate = true
		return err
	}
	l.size += int64(len(rec))
	l.truncate = false
	l.forgotten = nil
	d.markSaved()
	return nil
}

// compact replaces the file at path by a snapshot of the live ids.
func (d *Deduper) compact(path string) error {
	var n int64
	err := atomicfile.Write(path, func(w *bufio.Writer) error {
		h := crc32.New(castagnoli)
		cw := &countingWriter{w: io.MultiWriter(w, h)}
		cw.str(dedupeLogMagic)
		d.writeBody(cw, false)
		if cw.flush() != nil {
			return cw.err
		}
		cw.bytes(binary.LittleEndian.AppendUint32(nil, h.Sum32()))
		n = cw.n
		return cw.flush()
	})
	if err != nil {
		return err
	}
	d.markSaved()
	old := d.log
	d.log = &dedupeLog{path: path, size: n, base: n, sync: (*os.File).Sync, compactions: 1}
	if old != nil {
		d.log.sync, d.log.compactions = old.sync, old.compactions+1
	}
	return nil
}

// logRecord returns the framed record of what changed since the last
// save, or nil if nothing did.
func (d *Deduper) logRecord() []byte {
	var payload bytes.Buffer
	cw := &countingWriter{w: &payload}
	cw.bytes([]byte{'A'})
	cw.uvarint(uint64(len(d.log.forgotten)))
	for _, id := range d.log.forgotten {
		cw.uvarint(uint64(len(id)))
		cw.str(id)
	}
	if d.writeBody(cw, true) == 0 && len(d.log.forgotten) == 0 {
		return nil
	}
	cw.flush() // into memory: no error
	p := payload.Bytes()
	rec := binary.AppendUvarint(make([]byte, 0, len(p)+binary.MaxVarintLen64+4), uint64(len(p)))
	rec = append(rec, p...)
	return binary.LittleEndian.AppendUint32(rec, crc32.Checksum(p, castagnoli))
}

// LoadFile adds the ids saved at path by SaveFile (or by WriteTo) as if
// Seen had been called for each at its hour (see ReadFrom). A missing file
// is not an error: the first run has none. A last record torn by a crash
// is ignored and counted in Stats().TornTail; any other damage is an error
// matching ErrDedupeState that names the byte offset. When the Deduper
// was empty before, later SaveFile calls to path append to the file.
func (d *Deduper) LoadFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("currents: loading deduplicator state: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("currents: loading deduplicator state: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fresh := d.held == 0 && len(d.streams) == 0
	l, err := d.load(f, fi.Size())
	if err != nil {
		return fmt.Errorf("currents: loading deduplicator state from %s: %w", path, err)
	}
	if l == nil || !fresh {
		// An old-format file, or ids the file lacks: the next save
		// compacts.
		return nil
	}
	l.path = path
	d.log = l
	d.stats.TornTail = fi.Size() - l.size
	d.markSaved()
	return nil
}

// load reads a saved state of size bytes into d, whose lock is held. For
// a log file it returns the log's state; for WriteTo's form, nil.
func (d *Deduper) load(r io.Reader, size int64) (*dedupeLog, error) {
	h := crc32.New(castagnoli)
	cr := &countingReader{r: bufio.NewReaderSize(r, 64<<10), crc: h}
	fail := func(what string, err error) (*dedupeLog, error) {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %s at byte %d: %w", ErrDedupeState, what, cr.n, err)
	}
	magic := make([]byte, len(dedupeLogMagic))
	if _, err := io.ReadFull(cr, magic); err != nil {
		return fail("header", err)
	}
	switch string(magic) {
	case dedupeMagic:
		if what, err := d.readBody(cr); err != nil {
			return fail(what, err)
		}
		if _, err := cr.ReadByte(); err != io.EOF {
			return fail("end", errors.New("trailing data"))
		}
		return nil, nil
	case dedupeLogMagic:
	default:
		return fail("header", fmt.Errorf("magic %q", magic))
	}
	if what, err := d.readBody(cr); err != nil {
		return fail(what, err)
	}
	want := h.Sum32()
	cr.crc = nil
	var sum [4]byte
	if _, err := io.ReadFull(cr, sum[:]); err != nil {
		return fail("snapshot checksum", err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		// A snapshot is complete before it is renamed into place: a
		// mismatch is damage, not a crash.
		return fail("snapshot checksum", fmt.Errorf("%08x, computed %08x", got, want))
	}
	l := &dedupeLog{base: cr.n, size: cr.n, sync: (*os.File).Sync}
	var payload []byte
	for {
		start := cr.n
		n, err := binary.ReadUvarint(cr)
		if err == io.EOF && cr.n == start {
			return l, nil // the end
		}
		// A record that is cut short or reaches past the end of the file,
		// or zeros to the end (what some file systems leave of an append
		// that did not reach the disk), is what a crash during an append
		// leaves: torn, reported by LoadFile as TornTail.
		torn := func() (*dedupeLog, error) {
			l.truncate = true
			return l, nil
		}
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return torn()
		case err != nil || n == 0:
			if zeros, zerr := restIsZero(cr); zerr == nil && zeros {
				return torn()
			}
			if err == nil {
				err = errors.New("length 0")
			}
			return fail("record length", fmt.Errorf("record at byte %d: %w", start, err))
		case n > maxRecord || cr.n+int64(n)+4 > size:
			return torn()
		}
		if cap(payload) < int(n)+4 {
			payload = make([]byte, n+4)
		}
		payload = payload[:n+4]
		if _, err := io.ReadFull(cr, payload); err != nil {
			return torn() // the file shrank while being read
		}
		body, sum := payload[:n], binary.LittleEndian.Uint32(payload[n:])
		if crc32.Checksum(body, castagnoli) != sum {
			if cr.n == size {
				return torn()
			}
			return fail("record checksum", fmt.Errorf("record at byte %d", start))
		}
		if what, err := d.applyRecord(body); err != nil {
			return fail(what, fmt.Errorf("record at byte %d: %w", start, err))
		}
		l.size = cr.n
	}
}

// restIsZero reads r to its end and reports whether every byte was zero.
func restIsZero(r *countingReader) (bool, error) {
	for {
		b, err := r.ReadByte()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if b != 0 {
			return false, nil
		}
	}
}

// applyRecord applies an appended record's payload (checksum verified).
func (d *Deduper) applyRecord(p []byte) (string, error) {
	if len(p) == 0 || p[0] != 'A' {
		return "record kind", errors.New("unknown record kind")
	}
	cr := &countingReader{r: bufio.NewReader(bytes.NewReader(p[1:]))}
	k, err := binary.ReadUvarint(cr)
	if err != nil {
		return "forgotten count", err
	}
	for range k {
		id, err := readString(cr)
		if err != nil {
			return "forgotten id", err
		}
		d.forget1(id)
	}
	if what, err := d.readBody(cr); err != nil {
		return what, err
	}
	if _, err := cr.ReadByte(); err != io.EOF {
		return "end of record", errors.New("trailing data")
	}
	return "", nil
}
