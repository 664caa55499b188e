package currents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/objstore"
)

// Source walks an objstore.Store under a prefix and yields the Currents
// files it finds, or their decoded events, in the store's deterministic
// key order.
//
// Two ways to read: All yields every event of every file and reports a
// broken file as an error before going on with the next one; Files and
// Events give the caller the file boundaries, e.g. to flush output and save
// a checkpoint after each file.
//
// A Source does not change after NewSource: its methods may be called from
// several goroutines (to decode files in parallel, say) if its Store and
// Checkpoint allow it, as objstore's stores and FileCheckpoint do.
type Source struct {
	store   objstore.Store
	prefix  string
	decoder *Decoder
	types   map[string]bool
	from    time.Time
	to      time.Time
	cp      Checkpoint
	log     *slog.Logger
	// decode decodes one file named key; it is the decoder's Scanner,
	// replaceable in this package's tests of the walk itself.
	decode func(r io.Reader, eventType, key string) iter.Seq2[Event, error]
}

// SourceOption configures a Source.
type SourceOption func(*Source)

// WithEventTypes keeps only files of the given event types (the key's
// event_type= segment, e.g. "users.messages.email.Send"). By default every
// type is read, including ones this package does not know.
func WithEventTypes(types ...string) SourceOption {
	return func(s *Source) {
		if s.types == nil {
			s.types = make(map[string]bool, len(types))
		}
		for _, t := range types {
			s.types[t] = true
		}
	}
}

// WithHours keeps only files whose queue hour (the key's date= segment, a
// whole UTC hour) overlaps [from, to): with from and to on the hour, the
// hours from through to minus one; a from of 17:30 still takes hour 17. A
// zero from or to leaves that side open. The queue hour is when Braze
// queued the events, not the event time: events can be older.
func WithHours(from, to time.Time) SourceOption {
	return func(s *Source) { s.from, s.to = from, to }
}

// WithCheckpoint skips files cp reports done, and marks a file done in cp
// once all its events were delivered without error (the consumer asked for
// the event after the last one). Persisting cp is the caller's job.
func WithCheckpoint(cp Checkpoint) SourceOption {
	return func(s *Source) { s.cp = cp }
}

// WithDecoder sets the Decoder used for the files, e.g. one with custom
// limits; by default the Source makes its own with NewDecoder().
func WithDecoder(d *Decoder) SourceOption {
	return func(s *Source) {
		if d != nil {
			s.decoder = d
		}
	}
}

// WithSourceLogger logs, at debug level, the objects the Source skips
// (non-.avro objects, filtered and already checkpointed files). Silent by
// default.
func WithSourceLogger(l *slog.Logger) SourceOption {
	return func(s *Source) {
		if l != nil {
			s.log = l
		}
	}
}

// NewSource returns a Source over the objects of store whose keys start
// with prefix ("" for all; "currents/" for a folder). Braze recommends
// reading recursively from the root of the Currents prefix, so that new
// version= folders are picked up.
func NewSource(store objstore.Store, prefix string, opts ...SourceOption) *Source {
	s := &Source{store: store, prefix: prefix, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	if s.decoder == nil {
		s.decoder = NewDecoder()
	}
	if s.decode == nil {
		s.decode = func(r io.Reader, eventType, key string) iter.Seq2[Event, error] {
			return s.decoder.NewScanner(r, eventType, WithFileName(key)).All()
		}
	}
	return s
}

// File is a Currents file found by a Source.
type File struct {
	// Key is the parsed object key.
	Key Key
	// Size is the object's size in bytes, or -1 when unknown.
	Size int64
}

// KeyedEvent is an event together with the key of the file it came from.
type KeyedEvent struct {
	Key   Key
	Event Event
}

// FileError reports a failure to read one object: a key that is not a
// Currents key (a *KeyError), a failure to open it, a decoding error (an
// *Error, whose File is the key, matching ErrTruncated, ErrSyncMarker, ...
// with errors.Is) or a checkpoint failure. The other files are not
// affected.
type FileError struct {
	// Key is the object's key.
	Key string
	// Err is the cause.
	Err error
}

func (e *FileError) Error() string {
	if msg := e.Err.Error(); e.Key != "" && strings.Contains(msg, e.Key) {
		return msg // already names the object (a *KeyError, a decoder error)
	}
	return fmt.Sprintf("currents: %s: %v", e.Key, e.Err)
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// ListError reports that listing the store failed. Depending on the store
// the listing may go on after it (an unreadable local directory) or stop
// (an S3 request that failed after its retries).
type ListError struct {
	// Prefix is the prefix being listed.
	Prefix string
	// Err is the store's error.
	Err error
}

func (e *ListError) Error() string {
	return fmt.Sprintf("currents: listing %q: %v", e.Prefix, e.Err)
}

// Unwrap returns the store's error.
func (e *ListError) Unwrap() error { return e.Err }

// Files yields the Currents files under the prefix that pass the filters
// and are not checkpointed, in the store's key order. With filters set and
// a store that is an objstore.DirLister (FSStore, s3store), folders the
// filters exclude are not listed at all. Objects whose name does not end
// in ".avro" are skipped (logged at debug level). An .avro object with no
// event_type= folder (a flat folder of Currents files) is opened to read
// its writer schema, which names its event type; such a file has no queue
// hour, so WithHours does not exclude it. An .avro object whose key has an
// event_type= folder but is not a Currents key is yielded as a *FileError
// wrapping a *KeyError (unless the event_type= segment names a type
// outside WithEventTypes), an *objstore.ObjectError of the store (one
// object it cannot read, such as a dangling link) as a *FileError for that
// object, and a listing failure as a *ListError. The walk continues after
// an error if the consumer asks for more.
func (s *Source) Files(ctx context.Context) iter.Seq2[File, error] {
	return func(yield func(File, error) bool) {
		for obj, err := range s.objects(ctx) {
			if err != nil {
				// A store may report one object it cannot read (FSStore: a
				// dangling link) as an *objstore.ObjectError: that file,
				// not the listing.
				var oe *objstore.ObjectError
				if errors.As(err, &oe) {
					err = &FileError{Key: oe.Key, Err: oe.Err}
				} else {
					err = &ListError{Prefix: s.prefix, Err: err}
				}
				if !yield(File{}, err) {
					return
				}
				continue
			}
			if !strings.HasSuffix(obj.Key, ".avro") {
				s.log.DebugContext(ctx, "currents: skipping object that is not an .avro file", "key", obj.Key)
				continue
			}
			k, err := ParseKey(obj.Key)
			if err != nil && !hasSegment(obj.Key, "event_type=") {
				// A file outside the key layout (a flat folder of .avro
				// files): its writer schema names its event type.
				f, err := s.looseFile(ctx, obj)
				switch {
				case err != nil:
					if !yield(File{}, err) {
						return
					}
				case f.Key.EventType != "" && s.wanted(f.Key):
					if !yield(f, nil) {
						return
					}
				}
				continue
			}
			if err != nil {
				if s.filteredOutType(obj.Key) {
					s.log.DebugContext(ctx, "currents: skipping file outside the filters", "key", obj.Key)
					continue
				}
				if !yield(File{}, &FileError{Key: obj.Key, Err: err}) {
					return
				}
				continue
			}
			if !s.wanted(k) {
				s.log.DebugContext(ctx, "currents: skipping file outside the filters", "key", obj.Key)
				continue
			}
			if s.cp != nil {
				done, err := s.cp.Done(ctx, obj.Key)
				if err != nil {
					if !yield(File{}, &FileError{Key: obj.Key, Err: fmt.Errorf("checkpoint: %w", err)}) {
						return
					}
					continue
				}
				if done {
					s.log.DebugContext(ctx, "currents: skipping checkpointed file", "key", obj.Key)
					continue
				}
			}
			if !yield(File{Key: k, Size: obj.Size}, nil) {
				return
			}
		}
	}
}

// hasSegment reports whether a folder of key starts with the given
// "name=".
func hasSegment(key, name string) bool {
	segs := strings.Split(key, "/")
	for _, seg := range segs[:len(segs)-1] {
		if strings.HasPrefix(seg, name) {
			return true
		}
	}
	return false
}

// looseFile reads the header of an object whose key is not a Currents key
// and returns it as a File whose event type comes from its writer schema's
// full name (dataexport.S3.inner.users.messages.email.Send gives
// users.messages.email.Send); its Key has no Hour, so WithHours keeps it
// (its events still carry their times). A file already checkpointed comes
// back with an empty event type, and is not opened.
func (s *Source) looseFile(ctx context.Context, obj objstore.Object) (File, error) {
	k := Key{Raw: obj.Key, Version: -1, Partition: -1, Offset: -1}
	if s.cp != nil {
		done, err := s.cp.Done(ctx, obj.Key)
		if err != nil {
			return File{}, &FileError{Key: obj.Key, Err: fmt.Errorf("checkpoint: %w", err)}
		}
		if done {
			s.log.DebugContext(ctx, "currents: skipping checkpointed file", "key", obj.Key)
			return File{}, nil
		}
	}
	rc, err := s.store.Open(ctx, obj.Key)
	if err != nil {
		return File{}, &FileError{Key: obj.Key, Err: err}
	}
	defer rc.Close()
	sc := s.decoder.NewScanner(rc, "", WithFileName(obj.Key))
	sc.started = true
	if err := sc.header(); err != nil {
		sc.fail(err)
		return File{}, &FileError{Key: obj.Key, Err: sc.err}
	}
	k.EventType = sc.program.eventType
	sc.finish()
	if !s.wanted(k) {
		s.log.DebugContext(ctx, "currents: skipping file outside the filters", "key", obj.Key, "event_type", k.EventType)
		return File{}, nil
	}
	return File{Key: k, Size: obj.Size}, nil
}

// objects lists the store. With filters and a store that can list folder
// by folder, the walk skips the event_type= and date= folders the filters
// exclude; otherwise it is one flat listing, which takes fewer requests
// when every key is wanted anyway.
func (s *Source) objects(ctx context.Context) iter.Seq2[objstore.Object, error] {
	dl, ok := s.store.(objstore.DirLister)
	if !ok || (s.types == nil && s.from.IsZero() && s.to.IsZero()) {
		return s.store.List(ctx, s.prefix)
	}
	return func(yield func(objstore.Object, error) bool) {
		s.walkDirs(ctx, dl, s.prefix, yield)
	}
}

// walkDirs lists prefix depth-first; it returns false when the consumer
// stopped.
func (s *Source) walkDirs(ctx context.Context, dl objstore.DirLister, prefix string, yield func(objstore.Object, error) bool) bool {
	for e, err := range dl.ListDir(ctx, prefix) {
		if err != nil {
			if !yield(objstore.Object{}, err) {
				return false
			}
			continue
		}
		if !e.IsDir {
			if !yield(e.Object, nil) {
				return false
			}
			continue
		}
		if s.skipDir(e.Key) {
			s.log.DebugContext(ctx, "currents: skipping folder outside the filters", "prefix", e.Key)
			continue
		}
		if !s.walkDirs(ctx, dl, e.Key, yield) {
			return false
		}
	}
	return true
}

// skipDir reports whether no file under the folder dir (ending in "/") can
// pass the filters, judging by its last segment.
func (s *Source) skipDir(dir string) bool {
	seg := strings.TrimSuffix(dir, "/")
	seg = seg[strings.LastIndexByte(seg, '/')+1:]
	if t, ok := strings.CutPrefix(seg, "event_type="); ok {
		return s.types != nil && !s.types[t]
	}
	if v, ok := strings.CutPrefix(seg, "date="); ok {
		h, err := time.Parse(hourLayout, v)
		if err != nil || h.Format(hourLayout) != v {
			return false // let ParseKey report the keys below
		}
		return !s.inHours(h)
	}
	return false
}

// filteredOutType reports whether a key that does not parse still names,
// in an event_type= segment, a type outside the event type filter: such a
// key is not reported, as the caller did not ask for that type.
func (s *Source) filteredOutType(key string) bool {
	if s.types == nil {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if t, ok := strings.CutPrefix(seg, "event_type="); ok && !s.types[t] {
			return true
		}
	}
	return false
}

func (s *Source) wanted(k Key) bool {
	if s.types != nil && !s.types[k.EventType] {
		return false
	}
	return k.Hour.IsZero() || s.inHours(k.Hour)
}

// inHours reports whether the queue hour starting at h overlaps [from, to).
func (s *Source) inHours(h time.Time) bool {
	if !s.from.IsZero() && !h.Add(time.Hour).After(s.from) {
		return false
	}
	if !s.to.IsZero() && !h.Before(s.to) {
		return false
	}
	return true
}

// Events opens f and yields its events, decoded as f.Key.EventType. A
// failure is yielded once as a *FileError and ends the file; the events
// decoded before it have been delivered. With a checkpoint, the file is
// marked done when its last event was consumed and the file ended cleanly.
func (s *Source) Events(ctx context.Context, f File) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		key := f.Key.Raw
		fail := func(err error) {
			yield(nil, &FileError{Key: key, Err: err})
		}
		if err := ctx.Err(); err != nil {
			fail(err)
			return
		}
		rc, err := s.store.Open(ctx, key)
		if err != nil {
			fail(err)
			return
		}
		defer rc.Close()
		n := 0
		for ev, err := range s.decode(rc, f.Key.EventType, key) {
			if err != nil {
				fail(err)
				return
			}
			// Checking ctx on every event would cost more than decoding a
			// small record; every 256 events bounds the delay.
			if n++; n%256 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			if !yield(ev, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			fail(err)
			return
		}
		if s.cp != nil {
			if err := s.cp.MarkDone(ctx, key); err != nil {
				fail(fmt.Errorf("checkpoint: %w", err))
			}
		}
	}
}

// All yields the events of every file Files yields, each with its key.
// Errors (a listing failure, a key that does not parse, a file that does
// not open or decode) are yielded with the key of the file concerned, if
// any, and the walk goes on with the next file if the consumer asks for
// more: one corrupt file does not stop the others.
func (s *Source) All(ctx context.Context) iter.Seq2[KeyedEvent, error] {
	return func(yield func(KeyedEvent, error) bool) {
		for f, err := range s.Files(ctx) {
			if err != nil {
				if !yield(KeyedEvent{}, err) {
					return
				}
				continue
			}
			for ev, err := range s.Events(ctx, f) {
				if !yield(KeyedEvent{Key: f.Key, Event: ev}, err) {
					return
				}
			}
		}
	}
}
