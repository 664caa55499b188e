package currents

import (
	"strings"
	"sync"
	"time"
)

// DefaultMaxIDs is the number of ids a Deduper holds at most unless
// WithMaxIDs says otherwise: about 490 MB of UUID ids (see Deduper).
const DefaultMaxIDs = 10_000_000

// Deduper recognises events that Currents delivered more than once.
//
// Currents delivers at least once: an event re-processed from Braze's queue
// is written again, possibly in another file and another date= hour, with
// the same `id`. A Deduper remembers the ids it has seen for a window of
// hours and reports a repeat.
//
// # Clock and window
//
// Each Seen call carries a time, and ids are grouped by the UTC hour of
// that time, separately for each event type (each type has its own clock,
// because a Source reads one type's hours in order, then the next type's
// from the start). When a type's clock reaches hour H, the ids recorded for
// hours before H-window are forgotten. Seen is exact (no false duplicates,
// no missed ones) for two copies whose hours differ by at most the window,
// provided the calls for a type come in non-decreasing hour order (what a
// Source gives when it reads one integration: date= folders sort by hour)
// and Stats().EvictedEarly is 0. Ids recorded for hours already outside
// the window ("late") are kept as if recorded at the oldest hour still in
// it, and counted in Stats().Late.
//
// Which time to pass: the file's queue hour (SeenEvent uses
// KeyedEvent.Key.Hour) suits re-deliveries, which Braze queues again later,
// whatever the event's own time; the event time (Event.Time) suits data
// whose files are not read in hour order, as long as copies carry the same
// time. Size the window to the longest delay expected between two copies.
//
// # Memory
//
// Memory is bounded by the ids held, at most WithMaxIDs (DefaultMaxIDs).
// An id in the canonical lower-case UUID form that Braze uses is held as
// 16 bytes, not as its 36-byte string, in a hash table of its own (see
// uuidSet) and in its hour's list. Measured with BenchmarkDeduper (1
// million ids held), a Deduper takes about 49 bytes of heap per UUID id
// held (56 with the Go map it used before), and about 60 bytes per other
// id plus that id's string, which it keeps alive; so the default cap of
// 10 million UUID ids is about 490 MB. When the cap is reached the ids
// of the oldest hour (over all event types) are forgotten first, before
// their window has passed; Stats().EvictedEarly counts them, and a
// duplicate of one of them is no longer recognised.
//
// # Across runs
//
// A job that reads only new files on each run (WithCheckpoint) can carry
// the ids over with SaveFile at each commit and LoadFile at the start of
// the next run, so that a duplicate delivered after the run is still
// recognised. SaveFile appends only the ids that are new since the last
// save to the file (see SaveFile).
//
// A Deduper is safe for concurrent use.
type Deduper struct {
	mu     sync.Mutex
	window int64 // hours
	maxIDs int
	// uuids and others map each id held to the hour of the bucket that
	// holds it, so that a bucket entry left behind by Forget (and maybe
	// re-recorded since in another hour) is told apart from a live one.
	uuids   *uuidSet
	others  map[string]int32
	streams map[string]*dedupeStream
	// last and lastType cache the stream of the previous call: a Source
	// reads one type's files in a row.
	last     *dedupeStream
	lastType string
	held     int
	stats    DedupeStats
	// stale is set once Forget has removed an id: buckets may then hold
	// entries that are no longer live (or live in another hour), which
	// saving must skip; until then every bucket entry is live.
	stale bool
	// log is the file SaveFile appends to, once LoadFile or SaveFile has
	// made the file and the memory agree (see dedupe_persist.go).
	log *dedupeLog
}

// dedupeStream holds one event type's ids by hour: buckets[i] is the hour
// base+i (hours since the Unix epoch); nil for an hour with no ids.
type dedupeStream struct {
	base    int64
	buckets []*dedupeBucket
}

// dedupeBucket is the ids recorded for one hour, in insertion order; the
// ids before uHead/oHead have been evicted early. An entry is live only
// while the id's map value is this bucket's hour.
type dedupeBucket struct {
	uuids        [][16]byte
	others       []string
	uHead, oHead int
	// savedU and savedO count the entries at the start of uuids and
	// others that the deduplicator's log file already holds: SaveFile
	// appends only those after them.
	savedU, savedO int
}

func (b *dedupeBucket) len() int { return len(b.uuids) - b.uHead + len(b.others) - b.oHead }

// DedupeStats counts what a Deduper did.
type DedupeStats struct {
	// Seen is the number of Seen calls.
	Seen int64
	// Duplicates is the number of calls that reported a duplicate.
	Duplicates int64
	// Held is the number of ids held now.
	Held int
	// Late counts ids recorded for an hour already outside their type's
	// window: their copies are recognised only for a shorter time.
	Late int64
	// Expired counts ids forgotten because their window passed.
	Expired int64
	// EvictedEarly counts ids forgotten before their window passed because
	// the MaxIDs cap was reached. While it is 0, Seen was exact.
	EvictedEarly int64
	// TornTail is the number of bytes at the end of the file LoadFile read
	// that a crash left half-written and that were ignored: the ids of the
	// last commit before the crash, whose input files are then read again
	// (their checkpoint was saved after the ids). The next SaveFile
	// overwrites them.
	TornTail int64
}

// DedupeOption configures a Deduper.
type DedupeOption func(*Deduper)

// WithMaxIDs caps the number of ids held (see Deduper for the bytes per
// id). n <= 0 removes the cap: memory then grows with the number of
// distinct ids in a window.
func WithMaxIDs(n int) DedupeOption {
	return func(d *Deduper) { d.maxIDs = n }
}

// NewDeduper returns a Deduper that remembers ids for window, rounded up to
// whole hours (at least one).
func NewDeduper(window time.Duration, opts ...DedupeOption) *Deduper {
	hours := int64((window + time.Hour - 1) / time.Hour)
	if hours < 1 {
		hours = 1
	}
	d := &Deduper{
		window:  hours,
		maxIDs:  DefaultMaxIDs,
		uuids:   newUUIDSet(),
		others:  make(map[string]int32),
		streams: make(map[string]*dedupeStream),
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Window returns the window, in whole hours.
func (d *Deduper) Window() time.Duration { return time.Duration(d.window) * time.Hour }

// SeenEvent is Seen for an event read by a Source, on the queue hour of its
// file: Seen(ke.Key.EventType, ke.Event.EventID(), ke.Key.Hour).
func (d *Deduper) SeenEvent(ke KeyedEvent) bool {
	return d.Seen(ke.Key.EventType, ke.Event.EventID(), ke.Key.Hour)
}

// Seen records the event id of the given type at time at, and reports
// whether the id was already recorded and is still remembered: true means
// the event is a duplicate and should be dropped.
func (d *Deduper) Seen(eventType, id string, at time.Time) bool {
	u, isUUID := parseUUID(id)
	// Hours are held as int32; clamping keeps the arithmetic on them safe
	// for any time.Time (±120,000 years is past any event).
	hour := min(max(floorDiv(at.Unix(), 3600), -maxHour), maxHour)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats.Seen++
	dup := d.seen(eventType, hour, u, isUUID, id)
	if dup {
		d.stats.Duplicates++
	}
	return dup
}

// SeenBatch is Seen for several ids of one event type at one time: it sets
// dup[i] (len(dup) >= len(ids)) to whether ids[i] is a duplicate, also of
// an id before it in ids, and returns the number of duplicates. It takes
// the lock once for the batch. (Reading every id's table slot first, so
// that the cache misses would overlap, was tried and dropped: it cost 30%
// more per id at 300,000 ids and no less at 3,000,000.)
func (d *Deduper) SeenBatch(eventType string, ids []string, at time.Time, dup []bool) int {
	hour := min(max(floorDiv(at.Unix(), 3600), -maxHour), maxHour)
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for i, id := range ids {
		u, isUUID := parseUUID(id)
		dup[i] = d.seen(eventType, hour, u, isUUID, id)
		if dup[i] {
			n++
		}
	}
	d.stats.Seen += int64(len(ids))
	d.stats.Duplicates += int64(n)
	return n
}

// seen is Seen with the lock held and the id parsed.
func (d *Deduper) seen(eventType string, hour int64, u [16]byte, isUUID bool, id string) bool {
	st := d.last
	if st == nil || d.lastType != eventType {
		st = d.streams[eventType]
		if st == nil {
			st = &dedupeStream{base: hour - d.window}
			d.streams[eventType] = st
		}
		d.last, d.lastType = st, eventType
	}
	d.advance(st, hour)
	if hour < st.base {
		hour = st.base
		d.stats.Late++
	}

	if !isUUID {
		if _, dup := d.others[id]; dup {
			return true
		}
	}

	if isUUID && d.uuids.add(u, int32(hour)) {
		return true
	}
	i := hour - st.base
	for int64(len(st.buckets)) <= i {
		st.buckets = append(st.buckets, nil)
	}
	b := st.buckets[i]
	if b == nil {
		b = &dedupeBucket{}
		st.buckets[i] = b
	}
	if isUUID {
		b.uuids = append(b.uuids, u)
	} else {
		// The id may share its backing array with the whole decoded
		// record; a copy keeps only the id alive.
		id = strings.Clone(id)
		d.others[id] = int32(hour)
		b.others = append(b.others, id)
	}
	d.held++
	if d.maxIDs > 0 && d.held > d.maxIDs {
		d.evictOldest()
	}
	return false
}

// advance moves the stream's clock to hour, forgetting the hours that fall
// out of the window.
func (d *Deduper) advance(st *dedupeStream, hour int64) {
	oldest := hour - d.window
	if oldest <= st.base {
		return
	}
	drop := min(oldest-st.base, int64(len(st.buckets)))
	for i, b := range st.buckets[:drop] {
		if b != nil {
			d.stats.Expired += int64(d.forget(b, st.base+int64(i)))
		}
	}
	clear(st.buckets[:drop]) // let the buckets be collected
	st.buckets = st.buckets[drop:]
	st.base = oldest
}

// forget removes the live ids of the bucket of the given hour from the
// sets and returns how many there were.
func (d *Deduper) forget(b *dedupeBucket, hour int64) int {
	n := 0
	for _, u := range b.uuids[b.uHead:] {
		if h, ok := d.uuids.get(u); ok && int64(h) == hour {
			d.uuids.del(u)
			n++
		}
	}
	for _, s := range b.others[b.oHead:] {
		if h, ok := d.others[s]; ok && int64(h) == hour {
			delete(d.others, s)
			n++
		}
	}
	d.held -= n
	return n
}

// evictOldest forgets one live id from the oldest non-empty hour over all
// streams.
func (d *Deduper) evictOldest() {
	for {
		var oldest *dedupeBucket
		oldestHour := int64(0)
		for _, st := range d.streams {
			for i, b := range st.buckets {
				if b != nil && b.len() > 0 {
					if h := st.base + int64(i); oldest == nil || h < oldestHour {
						oldest, oldestHour = b, h
					}
					break
				}
			}
		}
		if oldest == nil {
			return
		}
		for oldest.len() > 0 {
			live := false
			if oldest.uHead < len(oldest.uuids) {
				u := oldest.uuids[oldest.uHead]
				if h, ok := d.uuids.get(u); ok && int64(h) == oldestHour {
					d.uuids.del(u)
					live = true
				}
				oldest.uHead++
			} else {
				id := oldest.others[oldest.oHead]
				if h, ok := d.others[id]; ok && int64(h) == oldestHour {
					delete(d.others, id)
					live = true
				}
				oldest.others[oldest.oHead] = "" // let the string be collected
				oldest.oHead++
			}
			if live {
				d.held--
				d.stats.EvictedEarly++
				// Release the storage of a fully evicted bucket now: its
				// hour may stay in the window for a long time.
				if oldest.len() == 0 {
					*oldest = dedupeBucket{}
				}
				return
			}
		}
		*oldest = dedupeBucket{} // only stale entries were left
	}
}

// Forget removes id, so that its next sighting is not a duplicate; it
// reports whether id was held. Use it to undo the Seen calls for the
// events of a file whose output was rolled back after a decoding error,
// so that a clean copy of those events read later is not dropped.
func (d *Deduper) Forget(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	ok := d.forget1(id)
	if ok && d.log != nil {
		// The log may hold the id: the next SaveFile records the Forget.
		d.log.forgotten = append(d.log.forgotten, strings.Clone(id))
	}
	return ok
}

// forget1 is Forget with the lock held.
func (d *Deduper) forget1(id string) bool {
	u, isUUID := parseUUID(id)
	var ok bool
	if isUUID {
		ok = d.uuids.del(u)
	} else if _, ok = d.others[id]; ok {
		delete(d.others, id)
	}
	if ok {
		d.held--
		d.stale = true
	}
	return ok
}

// Stats returns the counters.
func (d *Deduper) Stats() DedupeStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Held = d.held
	return s
}

// maxHour bounds the hours a Deduper works with (about 120,000 years).
const maxHour = 1 << 30

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// parseUUID reads the canonical lower-case form
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx. Upper-case or other forms are not
// UUIDs here, so that two ids are equal exactly when their strings are.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	// Every byte's value is ORed into bad, so one test at the end finds
	// any character that is not a lower-case hex digit (0xff in the table).
	var bad byte
	for j, i := range uuidHexPos {
		hi, lo := hexLower[s[i]], hexLower[s[i+1]]
		bad |= hi | lo
		u[j] = hi<<4 | lo
	}
	return u, bad&0xf0 == 0
}

// uuidHexPos is where each byte's two hex digits start in the canonical
// form.
var uuidHexPos = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexLower maps '0'-'9' and 'a'-'f' to their value and every other byte
// to 0xff. Filled once at init and only read after.
var hexLower = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
	}
	return t
}()
