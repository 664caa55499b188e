package currents

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"sync"
	"unsafe"
)

// Default limits. Braze writes at most 100,000 events per file and drops
// events over 900 KB, so real blocks stay far below these.
const (
	DefaultMaxBlockSize    = 64 << 20
	DefaultSchemaCacheSize = 256
	maxHeaderMeta          = 16 << 20
)

// Decoder decodes Currents Avro object container files. It is safe for
// concurrent use and caches parsed writer schemas, keyed by the exact
// avro.schema header bytes, so many small files of one type parse their
// schema once.
type Decoder struct {
	maxBlock  int
	cacheSize int

	mu    sync.Mutex
	cache map[string]*writerSchema
}

// DecoderOption configures a Decoder.
type DecoderOption func(*Decoder)

// WithMaxBlockSize caps the bytes of one block, both as stored and after
// decompression (default DefaultMaxBlockSize). A block over the cap is an
// error (ErrBlockTooLarge) before anything that size is allocated, so a
// corrupt or hostile file cannot exhaust memory.
func WithMaxBlockSize(n int) DecoderOption {
	return func(d *Decoder) {
		if n > 0 {
			d.maxBlock = n
		}
	}
}

// WithSchemaCacheSize sets how many distinct writer schemas are kept
// parsed (default DefaultSchemaCacheSize). When full, an arbitrary entry
// is dropped.
func WithSchemaCacheSize(n int) DecoderOption {
	return func(d *Decoder) {
		if n > 0 {
			d.cacheSize = n
		}
	}
}

// NewDecoder returns a Decoder.
func NewDecoder(opts ...DecoderOption) *Decoder {
	d := &Decoder{maxBlock: DefaultMaxBlockSize, cacheSize: DefaultSchemaCacheSize, cache: map[string]*writerSchema{}}
	for _, o := range opts {
		o(d)
	}
	return d
}

func (d *Decoder) schema(raw []byte) (*writerSchema, error) {
	d.mu.Lock()
	ws, ok := d.cache[string(raw)]
	d.mu.Unlock()
	if ok {
		return ws, nil
	}
	ws, err := parseWriterSchema(raw)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if prev, ok := d.cache[ws.raw]; ok {
		return prev, nil // another goroutine won the race; share its programs
	}
	if len(d.cache) >= d.cacheSize {
		for k := range d.cache {
			delete(d.cache, k)
			break
		}
	}
	d.cache[ws.raw] = ws
	return ws, nil
}

// Events decodes one container file. eventType is the Currents event type
// from the object key (event_type=...); "" infers it from the writer
// schema's record name. A known type yields its Go struct (e.g.
// *EmailSend), any other a *Generic. The sequence stops after the first
// error, which is an *Error; events before it are delivered. If r has a
// Name() string method (like *os.File), errors carry that name.
func (d *Decoder) Events(r io.Reader, eventType string) iter.Seq2[Event, error] {
	var opts []ScanOption
	if n, ok := r.(interface{ Name() string }); ok {
		opts = append(opts, WithFileName(n.Name()))
	}
	return d.NewScanner(r, eventType, opts...).All()
}

// ScanOption configures a Scanner.
type ScanOption func(*Scanner)

// WithFileName sets the file name or object key that errors report.
func WithFileName(name string) ScanOption { return func(s *Scanner) { s.file = name } }

// Stats counts what a Scanner has read so far.
type Stats struct {
	Blocks            int   // data blocks read
	Records           int   // records decoded
	BytesRead         int64 // file bytes consumed
	BlockBytes        int64 // block bytes as stored (compressed)
	DecodedBlockBytes int64 // block bytes after decompression
}

// Scanner reads the events of one container file, one at a time:
//
//	s := dec.NewScanner(r, "users.messages.email.Send", currents.WithFileName(key))
//	for s.Next() {
//		ev := s.Event()
//	}
//	if err := s.Err(); err != nil { ... }
//
// Memory is bounded by one block. A Scanner is not safe for concurrent use.
type Scanner struct {
	d         *Decoder
	c         container
	file      string
	eventType string

	started bool
	done    bool
	err     error
	ev      Event

	ws        *writerSchema
	program   *program
	view      string // current block's data (aliases a reused buffer)
	b         bin
	remaining int64
	declared  int64
	block     int
	record    int
	blockOff  int64
	stats     Stats
}

// NewScanner returns a Scanner over one container file. See Events for
// eventType.
func (d *Decoder) NewScanner(r io.Reader, eventType string, opts ...ScanOption) *Scanner {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	s := &Scanner{d: d, eventType: eventType, block: -1, record: -1}
	s.c = container{r: br, maxBlock: d.maxBlock, maxMeta: maxHeaderMeta}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Scanner) fail(err error) bool {
	s.err = &Error{File: s.file, Block: s.block, Record: s.record, Offset: s.blockOff, Err: err}
	s.finish()
	return false
}

func (s *Scanner) finish() {
	s.done = true
	s.ev = nil
	s.view = ""
	s.b = bin{}
	s.c.close()
}

// header reads the file header and resolves the schema and program.
func (s *Scanner) header() error {
	if err := s.c.readHeader(); err != nil {
		return err
	}
	raw, ok := s.c.meta["avro.schema"]
	if !ok {
		return fmt.Errorf("%w: no avro.schema in header", ErrSchema)
	}
	ws, err := s.d.schema(raw)
	if err != nil {
		return err
	}
	s.ws = ws
	et := s.eventType
	if et == "" {
		et = inferEventType(ws.fullName)
	}
	s.program = ws.programFor(et)
	return nil
}

// Next decodes the next event, reporting false at the end of the file or
// on error (see Err).
func (s *Scanner) Next() bool {
	if s.done {
		return false
	}
	if !s.started {
		s.started = true
		if err := s.header(); err != nil {
			return s.fail(err)
		}
	}
	for s.remaining == 0 {
		if s.block >= 0 && s.b.p < len(s.view) {
			s.record = -1
			return s.fail(errorf(ErrBlockCount, "block declares %d records but %d bytes follow the last one", s.declared, len(s.view)-s.b.p))
		}
		if !s.nextBlock() {
			return false
		}
	}
	s.record++
	if s.b.p == len(s.view) && s.program.minSize > 0 {
		return s.fail(errorf(ErrBlockCount, "block declares %d records but its data ends after %d", s.declared, s.record))
	}
	ev, err := s.program.decode(&s.b)
	if err != nil {
		return s.fail(errorf(ErrRecord, "%v", err))
	}
	s.remaining--
	s.stats.Records++
	s.ev = ev
	return true
}

func (s *Scanner) nextBlock() bool {
	s.block++
	s.record = -1
	s.blockOff = s.c.off
	count, size, err := s.c.blockHeader()
	if err == io.EOF {
		s.block--
		s.finish()
		return false
	}
	if err != nil {
		return s.fail(err)
	}
	data, err := s.c.blockData(size)
	if err != nil {
		return s.fail(err)
	}
	if s.program.minSize == 0 && count > int64(len(data))+4096 {
		// Records of a schema that can encode in zero bytes: bound the
		// count so a few bytes cannot declare billions of empty records.
		return s.fail(errorf(ErrBlockCount, "block declares %d records in %d bytes", count, len(data)))
	}
	s.stats.Blocks++
	s.stats.BlockBytes += size
	s.stats.DecodedBlockBytes += int64(len(data))
	s.stats.BytesRead = s.c.off
	s.view = unsafe.String(unsafe.SliceData(data), len(data))
	s.b = bin{s: s.view}
	s.remaining, s.declared = count, count
	return true
}

// Event returns the event decoded by the last successful Next.
func (s *Scanner) Event() Event { return s.ev }

// Err returns the error that stopped the Scanner, or nil at a clean end.
// It is an *Error.
func (s *Scanner) Err() error { return s.err }

// Stats returns counts of what has been read so far.
func (s *Scanner) Stats() Stats {
	st := s.stats
	st.BytesRead = s.c.off
	return st
}

// Codec returns the file's codec ("null", "deflate", "snappy",
// "zstandard"), known after the first call to Next.
func (s *Scanner) Codec() string { return s.c.codec }

// EventType returns the event type events are decoded as (given or
// inferred), known after the first call to Next.
func (s *Scanner) EventType() string {
	if s.program == nil {
		return s.eventType
	}
	return s.program.eventType
}

// Metadata returns the file header's metadata (avro.schema, avro.codec
// and any others), known after the first call to Next.
func (s *Scanner) Metadata() map[string][]byte { return s.c.meta }

// All returns the remaining events as a sequence; an error is yielded
// last, with a nil event. Stopping early releases the Scanner.
func (s *Scanner) All() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for s.Next() {
			if !yield(s.ev, nil) {
				s.finish()
				return
			}
		}
		if s.err != nil {
			yield(nil, s.err)
		}
	}
}

func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
