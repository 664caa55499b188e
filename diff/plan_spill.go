package diff

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unsafe"
)

// heldInMemory is how many held changes a plan keeps in memory before it
// spills the rest to a temporary file (see spill).
const heldInMemory = 4096

// spill holds the changes a plan with limits keeps back until its input
// has been read, in a temporary file (in os.TempDir, removed when the plan's
// Changes returns), so that the memory they take does not grow with their
// number: a re-sync of millions of users may change a good share of them.
// Values that are neither scalars nor strings (dates, lists, objects, and a
// time's location) stay in memory, in side, referred to by index.
type spill struct {
	f    *os.File
	w    *bufio.Writer
	n    int
	side []any
	locs map[any]uint64 // side index of each time location seen
	buf  []byte
}

// Value forms in the spill file.
const (
	spillNull   = 0
	spillTag    = 1 // kindTag: a bool, int or float; the kind, then num
	spillString = 2
	spillNumber = 3
	spillSide   = 4 // v.any in side; then num
)

func newSpill() (*spill, error) {
	f, err := os.CreateTemp("", "ampbraze-plan-*")
	if err != nil {
		return nil, fmt.Errorf("diff: spilling held changes: %w", err)
	}
	return &spill{f: f, w: bufio.NewWriterSize(f, 256<<10), locs: make(map[any]uint64)}, nil
}

// close removes the file.
func (s *spill) close() {
	if s == nil {
		return
	}
	s.f.Close()
	os.Remove(s.f.Name())
}

func (s *spill) put(ch Change) error {
	b := s.buf[:0]
	b = appendBytes(b, []byte(ch.Key))
	b = binary.AppendVarint(b, ch.Index)
	status := byte(ch.Delta)
	if ch.overwrites {
		status |= 0x80
	}
	b = append(b, status)
	b = appendMaybe(b, ch.orig)
	b = appendMaybe(b, ch.state)
	b = appendMaybe(b, ch.fail)
	b = binary.AppendUvarint(b, uint64(len(ch.sent)))
	for _, sl := range ch.sent {
		b = binary.AppendUvarint(b, uint64(sl.id))
		var flags byte
		for i, f := range [...]bool{sl.float, sl.unknown, sl.rejected, sl.prior} {
			if f {
				flags |= 1 << i
			}
		}
		b = append(b, flags)
		b = binary.LittleEndian.AppendUint64(b, sl.v)
	}
	b = binary.AppendUvarint(b, uint64(len(ch.Attrs)))
	for _, a := range ch.Attrs {
		b = appendBytes(b, []byte(a.Name))
		b = s.appendValue(b, a.Value)
	}
	s.buf = b
	s.n++
	_, err := s.w.Write(binary.AppendUvarint(nil, uint64(len(b))))
	if err == nil {
		_, err = s.w.Write(b)
	}
	if err != nil {
		return fmt.Errorf("diff: spilling held changes to %s: %w", s.f.Name(), err)
	}
	return nil
}

func (s *spill) appendValue(b []byte, v Value) []byte {
	switch x := v.any.(type) {
	case nil:
		return append(b, spillNull)
	case kindTag:
		b = append(b, spillTag, byte(x))
	case stringPtr:
		return appendBytes(append(b, spillString), []byte(v.str()))
	case numberPtr:
		return appendBytes(append(b, spillNumber), unsafe.Slice((*byte)(x), v.num))
	case timeLoc:
		i, ok := s.locs[x]
		if !ok {
			i = uint64(len(s.side))
			s.side = append(s.side, x)
			s.locs[x] = i
		}
		b = binary.AppendUvarint(append(b, spillSide), i)
	default:
		b = binary.AppendUvarint(append(b, spillSide), uint64(len(s.side)))
		s.side = append(s.side, v.any)
	}
	return binary.LittleEndian.AppendUint64(b, v.num)
}

// all yields the changes put, in order, for plan p.
func (s *spill) all(p *Plan, yield func(Change) bool) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("diff: spilling held changes to %s: %w", s.f.Name(), err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(s.f, 256<<10)
	for range s.n {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("diff: reading held changes from %s: %w", s.f.Name(), err)
		}
		if uint64(cap(s.buf)) < n {
			s.buf = make([]byte, n)
		}
		b := s.buf[:n]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("diff: reading held changes from %s: %w", s.f.Name(), err)
		}
		ch, err := s.decode(b)
		if err != nil {
			return fmt.Errorf("diff: reading held changes from %s: %w", s.f.Name(), err)
		}
		ch.plan = p
		if !yield(ch) {
			return nil
		}
	}
	return nil
}

var errSpill = errors.New("damaged spill record")

// decode reads back one change; the byte slices it returns are copies.
func (s *spill) decode(b []byte) (Change, error) {
	d := spillDecoder{b: b}
	var ch Change
	ch.Key = string(d.bytes())
	ch.Index = d.varint()
	status := d.byte()
	ch.Delta, ch.overwrites = Delta(status&0x7f), status&0x80 != 0
	ch.orig, ch.state, ch.fail = d.maybe(), d.maybe(), d.maybe()
	ch.sent = make([]slot, d.count())
	for i := range ch.sent {
		id := d.uvarint()
		flags := d.byte()
		ch.sent[i] = slot{id: uint32(id), float: flags&1 != 0, unknown: flags&2 != 0, rejected: flags&4 != 0, prior: flags&8 != 0, v: d.uint64()}
	}
	ch.Attrs = make([]Attr, d.count())
	for i := range ch.Attrs {
		ch.Attrs[i].Name = string(d.bytes())
		var v Value
		switch d.byte() {
		case spillNull:
		case spillTag:
			v.any = kindTag(d.byte())
			v.num = d.uint64()
		case spillString:
			v = StringValue(string(d.bytes()))
		case spillNumber:
			str := string(d.bytes())
			v = Value{num: uint64(len(str)), any: numberPtr(unsafe.StringData(str))}
		case spillSide:
			j := d.uvarint()
			if j >= uint64(len(s.side)) {
				d.err = errSpill
				break
			}
			v.any, v.num = s.side[j], d.uint64()
		default:
			d.err = errSpill
		}
		ch.Attrs[i].Value = v
	}
	if d.err != nil || len(d.b) != 0 {
		return Change{}, errSpill
	}
	return ch, nil
}

func appendBytes(b, p []byte) []byte { return append(binary.AppendUvarint(b, uint64(len(p))), p...) }

// appendMaybe writes a byte slice that may be nil, as its length plus one
// (0 for nil).
func appendMaybe(b, p []byte) []byte {
	if p == nil {
		return append(b, 0)
	}
	return append(binary.AppendUvarint(b, uint64(len(p))+1), p...)
}

type spillDecoder struct {
	b   []byte
	err error
}

func (d *spillDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errSpill, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spillDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = errSpill, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spillDecoder) byte() byte {
	if len(d.b) < 1 {
		d.err = errSpill
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *spillDecoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.err, d.b = errSpill, nil
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *spillDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) || n > math.MaxInt32 {
		d.err, d.b = errSpill, nil
		return 0
	}
	return int(n)
}

func (d *spillDecoder) bytes() []byte {
	n := d.count()
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *spillDecoder) maybe() []byte {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	n--
	if n > uint64(len(d.b)) {
		d.err, d.b = errSpill, nil
		return nil
	}
	p := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return p
}
