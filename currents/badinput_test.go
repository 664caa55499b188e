package currents_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// readVarint decodes the zig-zag varint at data[pos:], returning its value
// and length.
func readVarint(data []byte, pos int) (int64, int) {
	var v uint64
	var shift uint
	for i := pos; ; i++ {
		v |= uint64(data[i]&0x7f) << shift
		if data[i] < 0x80 {
			return int64(v>>1) ^ -int64(v&1), i + 1 - pos
		}
		shift += 7
	}
}

func appendVarint(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// layout describes where the blocks of a synthetic file are.
type layout struct {
	header int   // header length
	blocks []int // offset of each block
	data   []int // offset of each block's data
	sizes  []int // each block's data size
}

func fileLayout(t *testing.T, data []byte, opts ...currentstest.Option) layout {
	t.Helper()
	var l layout
	l.header = len(writeFile(t, emailSend, nil, opts...))
	for pos := l.header; pos < len(data); {
		l.blocks = append(l.blocks, pos)
		_, n1 := readVarint(data, pos)
		size, n2 := readVarint(data, pos+n1)
		l.data = append(l.data, pos+n1+n2)
		l.sizes = append(l.sizes, int(size))
		pos += n1 + n2 + int(size) + 16
	}
	return l
}

// decodeWithName decodes data as file "f.avro" and returns the events and
// the *Error.
func decodeWithName(t *testing.T, dec *currents.Decoder, data []byte) (int, *currents.Error) {
	t.Helper()
	s := dec.NewScanner(bytes.NewReader(data), emailSend, currents.WithFileName("f.avro"))
	n := 0
	for s.Next() {
		n++
	}
	if s.Err() == nil {
		return n, nil
	}
	var e *currents.Error
	if !errors.As(s.Err(), &e) {
		t.Fatalf("error %v (%T) is not a *currents.Error", s.Err(), s.Err())
	}
	if e.File != "f.avro" || !strings.Contains(e.Error(), "f.avro") {
		t.Errorf("error %q does not name the file", e)
	}
	return n, e
}

func TestBadInput(t *testing.T) {
	dec := currents.NewDecoder()
	recs := emailSendRecords(20)
	good := writeFile(t, emailSend, recs, currentstest.WithBlockRecords(10))
	l := fileLayout(t, good)
	if len(l.blocks) != 2 {
		t.Fatalf("want 2 blocks, got %d", len(l.blocks))
	}
	clone := func() []byte { return bytes.Clone(good) }

	tests := []struct {
		name       string
		data       []byte
		opts       []currents.DecoderOption
		want       error
		events     int // delivered before the fault
		block, rec int
	}{
		{name: "wrong magic", data: append([]byte("PAR1"), good[4:]...), want: currents.ErrNotAvro, block: -1, rec: -1},
		{name: "empty input", data: nil, want: currents.ErrTruncated, block: -1, rec: -1},
		{name: "truncated header", data: good[:l.header-5], want: currents.ErrTruncated, block: -1, rec: -1},
		{name: "truncated in second block", data: good[:l.data[1]+7], want: currents.ErrTruncated, events: 10, block: 1, rec: -1},
		{name: "truncated sync marker", data: good[:len(good)-3], want: currents.ErrTruncated, events: 10, block: 1, rec: -1},
		{name: "bad sync marker", data: func() []byte {
			b := clone()
			b[l.data[1]+l.sizes[1]+3] ^= 0xff
			return b
		}(), want: currents.ErrSyncMarker, events: 10, block: 1, rec: -1},
		{name: "count lies high", data: func() []byte {
			b := clone()
			b[l.blocks[1]] = byte(appendVarint(nil, 12)[0]) // 10 -> 12, same width
			return b
		}(), want: currents.ErrBlockCount, events: 20, block: 1, rec: 10},
		{name: "count lies low", data: func() []byte {
			b := clone()
			b[l.blocks[0]] = byte(appendVarint(nil, 7)[0])
			return b
		}(), want: currents.ErrBlockCount, events: 7, block: 0, rec: -1},
		{name: "record corrupt", data: func() []byte {
			b := clone()
			b[l.data[1]] = 0x7f // first field's string length: -64
			return b
		}(), want: currents.ErrRecord, events: 10, block: 1, rec: 0},
		{name: "block size over limit", data: func() []byte {
			b := append([]byte{}, good[:l.blocks[1]]...)
			b = appendVarint(b, 10)
			b = appendVarint(b, 1<<40)
			return append(b, good[l.data[1]:]...)
		}(), want: currents.ErrBlockTooLarge, events: 10, block: 1, rec: -1},
		{name: "small block limit", data: good, opts: []currents.DecoderOption{currents.WithMaxBlockSize(100)},
			want: currents.ErrBlockTooLarge, block: 0, rec: -1},
		{name: "negative count", data: func() []byte {
			b := append([]byte{}, good[:l.blocks[0]]...)
			return append(appendVarint(b, -1), good[l.blocks[0]+1:]...)
		}(), want: currents.ErrBlockCount, block: 0, rec: -1},
		{name: "unknown codec", data: writeFile(t, emailSend, recs, currentstest.WithMetadata("avro.codec", []byte("lz4"))),
			want: currents.ErrUnknownCodec, block: -1, rec: -1},
		{name: "schema does not parse", data: rawFile(map[string]string{"avro.schema": `{"type":"record","name":`}),
			want: currents.ErrSchema, block: -1, rec: -1},
		{name: "schema not a record", data: rawFile(map[string]string{"avro.schema": `"string"`}),
			want: currents.ErrSchema, block: -1, rec: -1},
		{name: "no schema", data: rawFile(map[string]string{"x": "y"}), want: currents.ErrSchema, block: -1, rec: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dec
			if tt.opts != nil {
				d = currents.NewDecoder(tt.opts...)
			}
			n, e := decodeWithName(t, d, tt.data)
			if e == nil {
				t.Fatalf("no error after %d events", n)
			}
			if !errors.Is(e, tt.want) {
				t.Errorf("error %q, want %v", e, tt.want)
			}
			if n != tt.events || e.Block != tt.block || e.Record != tt.rec {
				t.Errorf("%d events, block %d, record %d; want %d, %d, %d (%v)", n, e.Block, e.Record, tt.events, tt.block, tt.rec, e)
			}
		})
	}
}

// rawFile builds a header-only container file with the given metadata.
func rawFile(meta map[string]string) []byte {
	b := []byte("Obj\x01")
	b = appendVarint(b, int64(len(meta)))
	for k, v := range meta {
		b = appendVarint(b, int64(len(k)))
		b = append(b, k...)
		b = appendVarint(b, int64(len(v)))
		b = append(b, v...)
	}
	b = appendVarint(b, 0)
	return append(b, currentstest.DefaultSyncMarker[:]...)
}

func TestCorruptCompressedBlocks(t *testing.T) {
	dec := currents.NewDecoder()
	recs := emailSendRecords(20)
	for _, codec := range []string{"deflate", "snappy", "zstandard"} {
		t.Run(codec, func(t *testing.T) {
			good := writeFile(t, emailSend, recs, currentstest.WithCodec(codec), currentstest.WithBlockRecords(10))
			l := fileLayout(t, good, currentstest.WithCodec(codec))
			// Damage the middle of the second block's data.
			for _, at := range []int{0, l.sizes[1] / 2, l.sizes[1] - 1} {
				b := bytes.Clone(good)
				b[l.data[1]+at] ^= 0x55
				n, e := decodeWithName(t, dec, b)
				if e == nil {
					t.Fatalf("byte %d: no error", at)
				}
				// Snappy and zstd carry checksums; deflate garbage may
				// still inflate and then fail as a record or count error.
				if !errors.Is(e, currents.ErrCorruptBlock) && !(codec == "deflate" && (errors.Is(e, currents.ErrRecord) || errors.Is(e, currents.ErrBlockCount))) {
					t.Errorf("byte %d: error %q", at, e)
				}
				if n < 10 || e.Block != 1 {
					t.Errorf("byte %d: %d events before block %d error %v", at, n, e.Block, e)
				}
			}
		})
	}
}

func TestDecompressedSizeLimit(t *testing.T) {
	recs := emailSendRecords(200)
	for _, codec := range []string{"deflate", "snappy", "zstandard"} {
		data := writeFile(t, emailSend, recs, currentstest.WithCodec(codec), currentstest.WithBlockRecords(200))
		l := fileLayout(t, data, currentstest.WithCodec(codec))
		// A cap above the compressed size but below the decompressed size.
		dec := currents.NewDecoder(currents.WithMaxBlockSize(l.sizes[0] + 10))
		n, e := decodeWithName(t, dec, data)
		if e == nil || !errors.Is(e, currents.ErrBlockTooLarge) || n != 0 {
			t.Errorf("%s: %d events, error %v; want ErrBlockTooLarge", codec, n, e)
		}
	}
}

// TestTruncatedEverywhere cuts a file at every length: each cut is an
// error (never a panic or a silent short read), and whole blocks before
// the cut are still delivered.
func TestTruncatedEverywhere(t *testing.T) {
	dec := currents.NewDecoder()
	for _, codec := range []string{"null", "deflate"} {
		good := writeFile(t, emailSend, emailSendRecords(6), currentstest.WithCodec(codec), currentstest.WithBlockRecords(3))
		l := fileLayout(t, good, currentstest.WithCodec(codec))
		for cut := 0; cut < len(good); cut++ {
			n, e := decodeWithName(t, dec, good[:cut])
			if cut == l.header || cut == l.blocks[1] {
				// A cut exactly between blocks is a valid shorter file.
				if e != nil || (cut == l.blocks[1]) != (n == 3) {
					t.Errorf("%s cut %d: %d events, %v", codec, cut, n, e)
				}
				continue
			}
			if e == nil {
				t.Errorf("%s cut %d: no error, %d events", codec, cut, n)
				continue
			}
			if cut > l.blocks[1] && n != 3 {
				t.Errorf("%s cut %d: %d events, want the first block's 3", codec, cut, n)
			}
		}
	}
}

// TestEventsNamesOSFile: Events takes the file name from an *os.File.
func TestEventsNamesOSFile(t *testing.T) {
	path := t.TempDir() + "/broken.avro"
	good := writeFile(t, emailSend, emailSendRecords(3))
	if err := os.WriteFile(path, good[:len(good)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for _, err := range currents.NewDecoder().Events(f, emailSend) {
		if err != nil {
			if !strings.Contains(err.Error(), "broken.avro") || !errors.Is(err, currents.ErrTruncated) {
				t.Errorf("error %q", err)
			}
			return
		}
		n++
	}
	t.Errorf("no error after %d events", n)
}
