package diff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ampbraze/ampbraze/internal/ordered"
	"github.com/cespare/xxhash/v2"
)

// Status says what a plan found for a key or an attribute.
type Status int

const (
	// Unchanged: the state already holds this value.
	Unchanged Status = iota
	// New: the state holds nothing for this key or attribute.
	New
	// Changed: the state holds a different value.
	Changed
	// Removed: the state holds a value the input no longer has.
	Removed
)

func (s Status) String() string {
	switch s {
	case New:
		return "new"
	case Changed:
		return "changed"
	case Removed:
		return "removed"
	}
	return "unchanged"
}

// Change is what must be sent for one key: the attributes that are new or
// changed, with their values, and removals (nil, or the value configured
// with WithRemoveAs). Pass it back to Plan.Ack once the destination
// answered.
type Change struct {
	Key    string
	Attrs  []Attr
	Status Status // New, Changed or Removed (the key vanished from a full snapshot)
	// Index is the position of the record in the input, counting from 0
	// and counting the input's errors too (as RecordError.Index does), so
	// a caller whose input yields one record or error per source row can
	// name the row of a change the destination rejected. It is -1 for a
	// Removed change, whose key is not in the input.
	Index int64

	plan  *Plan
	seq   uint64
	state []byte // the key's state once this change is accepted; nil deletes it
	fail  []byte // the key's state if it fails: what it sent becomes unknown
	// hadState reports whether the key held state when the plan began.
	hadState bool
}

// All yields the change's attribute names and values.
func (c Change) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for _, a := range c.Attrs {
			if !yield(a.Name, a.Value.Any()) {
				return
			}
		}
	}
}

// Progress counts a plan's work so far; it may be read while the plan runs.
type Progress struct {
	Read      int64 // records read from the input
	Emitted   int64 // changes yielded by Changes
	Acked     int64 // changes acknowledged as accepted
	Failed    int64 // changes acknowledged as failed
	Committed int64 // accepted changes durably written to the store
}

// Summary counts keys and attributes by Status. Per attribute, Unchanged
// counts records that carried the attribute with the value already held.
type Summary struct {
	Scope      string
	Mode       Mode
	DryRun     bool
	Records    int64 // records read, including duplicates and bad ones
	Errors     int64 // records or input errors yielded instead of planned
	Duplicates int64 // records whose key was already seen in this input

	New, Changed, Removed, Unchanged int64 // keys

	Attrs map[string]AttrSummary
}

// AttrSummary counts one attribute by Status.
type AttrSummary struct {
	New, Changed, Removed, Unchanged int64
}

// Explanation tells why a key was or was not planned.
type Explanation struct {
	Key    string
	Status Status
	Attrs  []AttrExplanation
}

// AttrExplanation tells what the state held for one attribute, what the
// input has, and the verdict.
type AttrExplanation struct {
	Name   string
	Status Status
	// Previous is what the state held: the hash of the value accepted last
	// (or the number itself, for attributes compared with a tolerance).
	// HasPrevious is false when the state held nothing.
	Previous    uint64
	HasPrevious bool
	// Value is the input's value (nil when absent), Sent whether the
	// change carries it (or the removal value, for removals).
	Value  any
	Sent   bool
	Reason string
}

type attrConfig struct {
	cmp          Comparison
	keep         bool
	removal      any
	removalValue Value  // removal as a Value
	removalHash  uint64 // hash of removal when removal != nil
}

type keyCounts struct{ new, changed, removed, unchanged int64 }

// item is one attribute of the record being planned.
type item struct {
	s    slot
	null bool
	attr int // index in Record.Attrs
}

// Plan is one run of a scope: a stream of changes, their acknowledgements,
// and the commit of the accepted ones. Changes is iterated once, by one
// goroutine; Ack, Progress, Summary and Explain may be called from others
// at the same time.
type Plan struct {
	eng     *Engine
	ctx     context.Context
	scope   string
	scopeID uint32
	cfg     planConfig
	records iter.Seq2[Record, error]
	started atomic.Bool
	done    atomic.Bool // Commit or Close called

	// Attribute dictionary: name <-> id. Ids assigned in this plan are
	// written with the first batch of acknowledgements after them.
	dictMu  sync.Mutex
	names   []string
	ids     map[string]uint32
	unsaved []uint32

	attrCfg []*attrConfig // by id, guarded by dictMu
	empty   bool          // the scope held no keys when the plan began

	// Owned by the goroutine reading the input, then by Changes. When the
	// scope held state, states replaces seen (see stateTable).
	seen   keySet
	states *stateTable
	seq    uint64
	stop   error // why reading the input stopped early

	// Acknowledgement side.
	mu        sync.Mutex
	pending   []Op
	pendInfo  []pendingInfo // parallel to pending
	pendingN  int64
	unsynced  int64 // acknowledgements written without sync
	batches   int   // batches written since the last sync
	latestDup map[string]uint64
	ackErr    error
	// The number of state keys of the scope as of the last written batch;
	// known once Changes has read the state (or found it empty).
	keyCount      int64
	keyCountKnown bool

	read, emitted, acked, failed, committed atomic.Int64
	skipped                                 atomic.Int64 // records found unchanged without a store lookup

	sumMu          sync.Mutex
	sum            Summary
	keys           keyCounts
	attrCounts     []keyCounts // by attribute id
	explanations   map[string]*Explanation
	unattributable bool
}

func (e *Engine) newPlan(ctx context.Context, scope string, records iter.Seq2[Record, error], opts []PlanOption) (*Plan, error) {
	var cfg planConfig
	for _, o := range opts {
		o(&cfg)
	}
	id, err := e.scopeID(ctx, scope)
	if err != nil {
		return nil, err
	}
	names, ids, err := e.loadNames(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		eng: e, ctx: ctx, scope: scope, scopeID: id, cfg: cfg, records: records,
		names: names, ids: ids,
		latestDup:    make(map[string]uint64),
		explanations: make(map[string]*Explanation),
	}
	// A scope with no state yet (a first sync) needs no lookups at all.
	p.empty = true
	err = e.store.Scan(ctx, userKey(nil, id, ""), func(_, _ []byte) error {
		p.empty = false
		return errStopScan
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, err
	}
	p.sum = Summary{Scope: scope, Mode: cfg.mode, DryRun: cfg.dryRun}
	return p, nil
}

func (p *Plan) name(id uint32) string {
	p.dictMu.Lock()
	defer p.dictMu.Unlock()
	if int(id) < len(p.names) {
		return p.names[id]
	}
	return ""
}

// config returns the comparison and removal settings of attribute id.
func (p *Plan) config(id uint32) (*attrConfig, error) {
	p.dictMu.Lock()
	defer p.dictMu.Unlock()
	return p.configLocked(id)
}

// configLocked is config with p.dictMu held.
func (p *Plan) configLocked(id uint32) (*attrConfig, error) {
	if int(id) < len(p.attrCfg) && p.attrCfg[id] != nil {
		return p.attrCfg[id], nil
	}
	name := p.names[id]
	c := &attrConfig{cmp: p.cfg.compare[name], keep: p.cfg.keep[name]}
	// A null removal (nil or a null Value) is the default: c.removal stays nil.
	if v, ok := p.cfg.removeAs[name]; ok && !Of(v).IsNull() {
		h, err := Hash(v)
		if err != nil {
			return nil, fmt.Errorf("diff: removal value of attribute %q: %w", name, err)
		}
		c.removal, c.removalValue, c.removalHash = Of(v).Any(), Of(v), h
	}
	for len(p.attrCfg) <= int(id) {
		p.attrCfg = append(p.attrCfg, nil)
	}
	p.attrCfg[id] = c
	return c, nil
}

// attr returns the id and settings of the attribute name, assigning an id
// if it is new.
func (p *Plan) attr(name string) (uint32, *attrConfig, error) {
	p.dictMu.Lock()
	defer p.dictMu.Unlock()
	id, ok := p.ids[name]
	if !ok {
		id = uint32(len(p.names))
		p.names = append(p.names, name)
		p.ids[name] = id
		p.unsaved = append(p.unsaved, id)
	}
	c, err := p.configLocked(id)
	return id, c, err
}

func keyHash(key string) uint64 { return xxhash.Sum64String(key) }

// Changes yields the changes of the plan, one per key that needs sending,
// reading the input as it goes. Problems with single records (a value
// outside the value model, a duplicate key under DuplicateError, an error
// from the input itself) are yielded as errors with a zero Change, and the
// plan continues. In FullSnapshot mode, once the input is exhausted, keys
// of the state that the input lacked are yielded as removals; if the input
// reported errors that name no key, those removals are skipped and
// ErrIncompleteSnapshot is yielded instead. Changes may be iterated once.
//
// The input is read by one goroutine, in order, and records are compared
// with the state by up to GOMAXPROCS (at most 4) workers; changes are
// yielded in input order. These goroutines end before Changes returns, also
// when the loop breaks early or panics.
func (p *Plan) Changes() iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		if !p.started.CompareAndSwap(false, true) {
			yield(Change{}, errors.New("diff: Plan.Changes may be iterated only once"))
			return
		}
		// The key set lives exactly as long as this call: every goroutine
		// that touches it has ended when planInput returns.
		defer p.seen.release()
		defer func() {
			if p.states != nil {
				p.states.release()
			}
		}()
		if p.empty {
			p.mu.Lock()
			p.keyCount, p.keyCountKnown = 0, true
			p.mu.Unlock()
		} else {
			if err := p.loadStates(); err != nil {
				yield(Change{}, err)
				return
			}
		}
		if !p.planInput(yield) {
			return
		}
		if p.cfg.mode != FullSnapshot {
			return
		}
		p.sumMu.Lock()
		skip := p.unattributable
		p.sumMu.Unlock()
		if skip {
			yield(Change{}, ErrIncompleteSnapshot)
			return
		}
		p.planVanished(yield)
	}
}

// A batch is a run of consecutive input records planned by one worker.
type batch struct {
	recs   []Record
	attrs  []Attr // backing store of the records' Attrs
	index  []int64
	forced []bool
	fps    []uint64 // stored state fingerprints (see stateTable)
	pre    []error  // set when the record was rejected before planning
	out    []planned
}

type planned struct {
	ch  Change
	ok  bool
	err error
}

const batchLen = 256

// planInput plans every input record; it reports false if the consumer
// stopped or the plan ended. One goroutine reads the input in order (keys,
// duplicates), workers compare batches with the state in parallel, and
// the results are yielded here in input order.
func (p *Plan) planInput(yield func(Change, error) bool) bool {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	batches := ordered.Run(workers, 2*workers, newBatch, (*batch).reset, p.readInput,
		func() func(*batch) {
			w := &planner{p: p, cache: make(map[string]attrRef)}
			return func(b *batch) {
				for i := range b.recs {
					if b.pre[i] == nil {
						ch, ok, err := w.planRecord(b.recs[i], b.index[i], b.forced[i], b.fps[i])
						b.out[i] = planned{ch, ok, err}
					}
				}
				w.merge()
			}
		})
	for b := range batches {
		for i := range b.recs {
			if err := b.pre[i]; err != nil {
				if !p.yieldRecordError(yield, err) {
					return false
				}
				continue
			}
			r := b.out[i]
			var sf *storeFailure
			if errors.As(r.err, &sf) {
				yield(Change{}, sf.err)
				return false
			}
			if r.err != nil {
				if !p.yieldRecordError(yield, r.err) {
					return false
				}
				continue
			}
			if !r.ok {
				continue
			}
			p.seq++
			r.ch.seq = p.seq
			if b.forced[i] {
				p.mu.Lock()
				p.latestDup[r.ch.Key] = r.ch.seq
				p.mu.Unlock()
			}
			p.emitted.Add(1)
			if !yield(r.ch, nil) {
				return false
			}
		}
	}
	// The reading goroutine has ended (the iteration over batches waits
	// for it), so p.stop is safe to read.
	if p.stop != nil {
		yield(Change{}, p.stop)
		return false
	}
	return true
}

// readInput reads the input in order into batches, starting with b,
// settles what depends on order (key seen before, duplicates) and hands
// each batch over with send.
func (p *Plan) readInput(b *batch, send func(*batch) (*batch, bool)) {
	var index int64 = -1
	for rec, err := range p.records {
		index++
		p.read.Add(1)
		if index&255 == 0 {
			if cerr := p.ctx.Err(); cerr != nil {
				p.stop = cerr
				break
			}
			if p.done.Load() {
				p.stop = ErrPlanClosed
				break
			}
		}
		var pre error
		forced := false
		var fp uint64
		switch {
		case err != nil && rec.Key == "":
			p.sumMu.Lock()
			p.unattributable = true
			p.sumMu.Unlock()
			pre = &RecordError{Index: index, Err: err}
		case err != nil:
			// The key is known: it has not vanished, it is only unplannable.
			p.see(keyHash(rec.Key))
			pre = &RecordError{Index: index, Key: rec.Key, Err: err}
		case rec.Key == "":
			p.sumMu.Lock()
			p.unattributable = true
			p.sumMu.Unlock()
			pre = &RecordError{Index: index, Err: errors.New("empty key")}
		default:
			var dup bool
			if fp, dup = p.see(keyHash(rec.Key)); dup {
				p.sumMu.Lock()
				p.sum.Duplicates++
				p.sumMu.Unlock()
				if p.cfg.duplicates == DuplicateError {
					pre = &DuplicateKeyError{Key: rec.Key, Index: index}
				} else {
					forced = true
				}
			}
		}
		// The batch keeps its own copy of the Attrs slice (not of the
		// values), so the input may reuse the slice for its next record.
		start := len(b.attrs)
		b.attrs = append(b.attrs, rec.Attrs...)
		rec.Attrs = b.attrs[start:len(b.attrs):len(b.attrs)]
		b.recs = append(b.recs, rec)
		b.index = append(b.index, index)
		b.forced = append(b.forced, forced)
		b.fps = append(b.fps, fp)
		b.pre = append(b.pre, pre)
		if len(b.recs) == batchLen {
			var ok bool
			if b, ok = send(b); !ok {
				return
			}
		}
	}
	if len(b.recs) > 0 {
		send(b)
	}
}

// reset empties b for reuse, dropping its references to records and
// changes already yielded.
func (b *batch) reset() {
	clear(b.recs)
	clear(b.attrs)
	clear(b.pre)
	clear(b.out)
	b.recs, b.attrs = b.recs[:0], b.attrs[:0]
	b.index, b.forced, b.fps, b.pre = b.index[:0], b.forced[:0], b.fps[:0], b.pre[:0]
}

func newBatch() *batch {
	return &batch{
		recs:   make([]Record, 0, batchLen),
		index:  make([]int64, 0, batchLen),
		forced: make([]bool, 0, batchLen),
		fps:    make([]uint64, 0, batchLen),
		pre:    make([]error, 0, batchLen),
		out:    make([]planned, batchLen),
	}
}

// see records that the input carried the key hashed kh; it returns the
// fingerprint of the key's stored state (0 if unknown) and whether the
// input carried the key before. Only the goroutine reading the input calls
// it.
func (p *Plan) see(kh uint64) (fp uint64, dup bool) {
	if p.states != nil {
		return p.states.visit(kh)
	}
	return 0, p.seen.add(kh)
}

// wasSeen reports whether the input carried the key hashed kh.
func (p *Plan) wasSeen(kh uint64) bool {
	if p.states != nil {
		return p.states.has(kh)
	}
	return p.seen.has(kh)
}

// loadStates builds p.states from the scope's state with one sequential
// scan. The table is sized from the key count kept in the store, so it
// does not grow while it is loaded (growing would hold the old and the new
// table at once); a store without the count (written before it was kept)
// has its keys counted by a first scan. The count only sizes the table: if
// it is too small the table grows, if too large memory is wasted. The
// exact number of keys found becomes the plan's running count (p.keyCount).
func (p *Plan) loadStates() error {
	prefix := userKey(nil, p.scopeID, "")
	start := time.Now()
	hint, ok, err := p.storedKeyCount()
	if err != nil {
		return fmt.Errorf("diff: reading the state of scope %q: %w", p.scope, err)
	}
	counted := !ok
	if counted {
		hint = 0
		err := p.eng.store.Scan(p.ctx, prefix, func(_, _ []byte) error {
			hint++
			return nil
		})
		if err != nil {
			return fmt.Errorf("diff: reading the state of scope %q: %w", p.scope, err)
		}
	}
	t := newStateTable(hint)
	p.states = t
	n, err := p.scanStates(prefix, t)
	if err != nil {
		return fmt.Errorf("diff: reading the state of scope %q: %w", p.scope, err)
	}
	p.mu.Lock()
	p.keyCount, p.keyCountKnown = int64(n), true
	p.mu.Unlock()
	p.eng.cfg.logger.LogAttrs(p.ctx, slog.LevelDebug, "diff: state fingerprints loaded",
		slog.String("scope", p.scope), slog.Int("keys", n), slog.Int("hint", hint),
		slog.Bool("counted", counted), slog.Duration("took", time.Since(start)))
	return nil
}

// scanStates reads the scope's state in one sequential scan and loads
// each key's hash and fingerprint into t. The scan (and hashing) and the
// table inserts (a cache miss each, at random in a table of up to hundreds
// of MiB) take about the same time, so a second goroutine does the
// inserts, chunk by chunk; it has ended when scanStates returns.
func (p *Plan) scanStates(prefix []byte, t *stateTable) (int, error) {
	type entry struct{ kh, fp uint64 }
	const chunkLen = 4096
	full := make(chan []entry, 4)
	empty := make(chan []entry, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range full {
			for _, e := range c {
				t.load(e.kh, e.fp)
			}
			select {
			case empty <- c[:0]:
			default: // enough spare chunks already
			}
		}
	}()
	chunk := make([]entry, 0, chunkLen)
	n := 0
	err := p.eng.store.Scan(p.ctx, prefix, func(k, v []byte) error {
		chunk = append(chunk, entry{xxhash.Sum64(k[len(prefix):]), stateFingerprint(v)})
		n++
		if len(chunk) == chunkLen {
			full <- chunk
			select {
			case chunk = <-empty:
			default:
				chunk = make([]entry, 0, chunkLen)
			}
		}
		return nil
	})
	if len(chunk) > 0 {
		full <- chunk
	}
	close(full)
	<-done
	return n, err
}

// storedKeyCount reads the scope's stored key count, if there is a usable one.
func (p *Plan) storedKeyCount() (int, bool, error) {
	v, ok, err := p.eng.store.Get(p.ctx, keyCountKey(p.scopeID), nil)
	if err != nil || !ok {
		return 0, false, err
	}
	n, ok := decodeKeyCount(v)
	return n, ok, nil
}

// storeFailure carries an error of the store, which ends the plan.
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return e.err.Error() }

// planner is one worker's scratch space and counters.
type planner struct {
	p          *Plan
	cache      map[string]attrRef
	enc        encoder
	items      []item
	old, next  []slot
	keyBuf     []byte
	oldBuf     []byte
	newBuf     []byte
	keys       keyCounts
	attrCounts []keyCounts
	skipped    int64 // records found unchanged by fingerprint, no lookup
}

type attrRef struct {
	id  uint32
	cfg *attrConfig
}

func (w *planner) attrCount(id uint32) *keyCounts {
	for len(w.attrCounts) <= int(id) {
		w.attrCounts = append(w.attrCounts, keyCounts{})
	}
	return &w.attrCounts[id]
}

// merge adds the worker's counters to the plan's summary.
func (w *planner) merge() {
	p := w.p
	p.sumMu.Lock()
	defer p.sumMu.Unlock()
	p.keys.add(w.keys)
	for id, c := range w.attrCounts {
		p.attrCount(uint32(id)).add(c)
	}
	w.keys = keyCounts{}
	clear(w.attrCounts)
	p.skipped.Add(w.skipped)
	w.skipped = 0
}

func (k *keyCounts) add(o keyCounts) {
	k.new += o.new
	k.changed += o.changed
	k.removed += o.removed
	k.unchanged += o.unchanged
}

func (p *Plan) yieldRecordError(yield func(Change, error) bool, err error) bool {
	p.sumMu.Lock()
	p.sum.Errors++
	p.sumMu.Unlock()
	return yield(Change{}, err)
}

// planRecord compares one record with the state. ok is false when nothing
// needs sending.
//
// fp is the fingerprint of the key's stored state (0 if unknown): when the
// record's would-be state has the same fingerprint, the record is
// unchanged without a store lookup.
func (w *planner) planRecord(rec Record, index int64, forced bool, fp uint64) (Change, bool, error) {
	p := w.p
	var ex *Explanation
	if p.cfg.explain[rec.Key] {
		ex = &Explanation{Key: rec.Key}
		defer func() {
			p.sumMu.Lock()
			p.explanations[rec.Key] = ex
			p.sumMu.Unlock()
		}()
	}
	items := w.items[:0]
	for i, a := range rec.Attrs {
		if a.Name == "" {
			return Change{}, false, &RecordError{Index: index, Key: rec.Key, Err: errors.New("empty attribute name")}
		}
		ref, ok := w.cache[a.Name]
		if !ok {
			id, c, err := p.attr(a.Name)
			if err != nil {
				return Change{}, false, &RecordError{Index: index, Key: rec.Key, Attr: a.Name, Err: err}
			}
			ref = attrRef{id, c}
			w.cache[a.Name] = ref
		}
		id, c := ref.id, ref.cfg
		var err error
		it := item{s: slot{id: id}, attr: i}
		switch {
		case a.Value.IsNull():
			it.null = true
		case c.cmp.kind == cmpTolerance:
			if f, ok := a.Value.float(); ok {
				it.s.float, it.s.v = true, math.Float64bits(f)
				break
			}
			it.s.v, err = w.enc.hash(a.Value)
		case c.cmp.kind == cmpTruncate:
			if a.Value.Kind() == KindTime {
				it.s.v, err = w.enc.hash(Time(a.Value.time().Truncate(c.cmp.truncate)))
				break
			}
			it.s.v, err = w.enc.hash(a.Value)
		default:
			it.s.v, err = w.enc.hash(a.Value)
		}
		if err != nil {
			return Change{}, false, &RecordError{Index: index, Key: rec.Key, Attr: a.Name, Err: err}
		}
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b item) int { return int(a.s.id) - int(b.s.id) })
	for i := 1; i < len(items); i++ {
		if items[i].s.id == items[i-1].s.id {
			return Change{}, false, &RecordError{Index: index, Key: rec.Key, Attr: rec.Attrs[items[i].attr].Name, Err: errors.New("attribute appears twice")}
		}
	}
	w.items = items

	// What the state will hold if the record is sent as is.
	next := w.next[:0]
	for _, it := range items {
		if !it.null {
			next = append(next, it.s)
		}
	}
	w.next = next // keep the grown buffer, also when the fast path returns
	w.newBuf = appendState(w.newBuf[:0], next)
	if fp != 0 && !forced && ex == nil && stateFingerprint(w.newBuf) == fp {
		// Fast path: the state this record would leave is, up to a 64-bit
		// hash collision, byte-identical to the stored one (the same
		// verdict as the byte comparison below), so nothing is sent and
		// the store is not read.
		w.skipped++
		w.keys.unchanged++
		for _, it := range items {
			w.attrCount(it.s.id).unchanged++
		}
		return Change{}, false, nil
	}

	w.keyBuf = userKey(w.keyBuf, p.scopeID, rec.Key)
	var found bool
	var err error
	if !p.empty {
		w.oldBuf, found, err = p.eng.store.Get(p.ctx, w.keyBuf, w.oldBuf)
	}
	if err != nil {
		// The store, not the record, failed: no later record would fare better.
		return Change{}, false, &storeFailure{fmt.Errorf("diff: reading the state of key %q: %w", rec.Key, err)}
	}
	if found && !forced && ex == nil && bytes.Equal(w.oldBuf, w.newBuf) {
		// Fast path: byte-identical state, nothing to send.
		w.keys.unchanged++
		for _, it := range items {
			w.attrCount(it.s.id).unchanged++
		}
		return Change{}, false, nil
	}
	old := w.old[:0]
	if found {
		old, err = decodeState(w.oldBuf, old)
		if err != nil {
			return Change{}, false, &RecordError{Index: index, Key: rec.Key, Err: stateError(rec.Key, err)}
		}
	}
	w.old = old

	var out []Attr
	var sent []uint32 // ids of the attributes in out
	next = next[:0]
	note := func(id uint32, st Status, prev *slot, value Value, sent bool, reason string) {
		c := w.attrCount(id)
		switch st {
		case New:
			c.new++
		case Changed:
			c.changed++
		case Removed:
			c.removed++
		default:
			c.unchanged++
		}
		if ex != nil {
			ae := AttrExplanation{Name: p.name(id), Status: st, Value: value.Any(), Sent: sent, Reason: reason}
			if prev != nil {
				ae.Previous, ae.HasPrevious = prev.v, true
			}
			ex.Attrs = append(ex.Attrs, ae)
		}
	}
	i, j := 0, 0
	for i < len(items) || j < len(old) {
		switch {
		case j == len(old) || (i < len(items) && items[i].s.id < old[j].id):
			it := items[i]
			i++
			if it.null {
				if ex != nil {
					note(it.s.id, Unchanged, nil, Value{}, false, "null in input, nothing in state")
				}
				continue
			}
			v := rec.Attrs[it.attr].Value
			out = append(out, Attr{Name: rec.Attrs[it.attr].Name, Value: v})
			sent = append(sent, it.s.id)
			next = append(next, it.s)
			note(it.s.id, New, nil, v, true, "not in state")
		case i == len(items) || old[j].id < items[i].s.id:
			o := old[j]
			j++
			c, err := p.config(o.id)
			if err != nil {
				return Change{}, false, &RecordError{Index: index, Key: rec.Key, Err: err}
			}
			name := p.name(o.id)
			switch {
			case c.keep:
				next = append(next, o)
				if ex != nil {
					note(o.id, Unchanged, &o, Value{}, false, "absent from input, kept (WithKeepWhenAbsent)")
				}
			case c.removal == nil:
				out = append(out, Attr{Name: name})
				sent = append(sent, o.id)
				note(o.id, Removed, &o, Value{}, true, "absent from input, removed as null")
			case !o.float && !o.unknown && o.v == c.removalHash && !forced:
				next = append(next, o)
				if ex != nil {
					note(o.id, Unchanged, &o, Value{}, false, fmt.Sprintf("absent from input, removal value %v already sent", c.removal))
				}
			default:
				out = append(out, Attr{Name: name, Value: c.removalValue})
				sent = append(sent, o.id)
				next = append(next, slot{id: o.id, v: c.removalHash})
				note(o.id, Removed, &o, c.removalValue, true, fmt.Sprintf("absent from input, removed as %v", c.removal))
			}
		default:
			it, o := items[i], old[j]
			i++
			j++
			a := rec.Attrs[it.attr]
			c := w.cache[a.Name].cfg
			if it.null {
				out = append(out, Attr{Name: a.Name})
				sent = append(sent, o.id)
				note(o.id, Removed, &o, Value{}, true, "null in input")
				continue
			}
			same, reason := same(o, it.s, c.cmp.tolerance)
			if same && !forced {
				next = append(next, o) // keep the value sent, so drift adds up
				note(o.id, Unchanged, &o, a.Value, false, reason)
				continue
			}
			if same {
				reason = "duplicate key in input: later record sent in full"
			}
			out = append(out, a)
			sent = append(sent, o.id)
			next = append(next, it.s)
			note(o.id, Changed, &o, a.Value, true, reason)
		}
	}
	w.next = next
	status := New
	if found {
		status = Changed
	}
	if len(out) == 0 {
		status = Unchanged
		w.keys.unchanged++
	} else if found {
		w.keys.changed++
	} else {
		w.keys.new++
	}
	if ex != nil {
		ex.Status = status
	}
	if len(out) == 0 {
		return Change{}, false, nil
	}
	ch := Change{Key: rec.Key, Attrs: out, Status: status, Index: index, plan: p, hadState: found}
	if len(next) > 0 {
		ch.state = appendState(nil, next)
	}
	ch.fail = failState(old, sent)
	return ch, true, nil
}

// failState is the state after a failed send of the attributes sent: the
// destination may have applied some of it, so those attributes become
// unknown, and the next run sends them (or their removal) again.
func failState(old []slot, sent []uint32) []byte {
	slices.Sort(sent)
	out := make([]slot, 0, len(old)+len(sent))
	i, j := 0, 0
	for i < len(old) || j < len(sent) {
		switch {
		case j == len(sent) || (i < len(old) && old[i].id < sent[j]):
			out = append(out, old[i])
			i++
		case i == len(old) || sent[j] < old[i].id:
			out = append(out, slot{id: sent[j], unknown: true})
			j++
		default:
			out = append(out, slot{id: sent[j], unknown: true})
			i++
			j++
		}
	}
	return appendState(nil, out)
}

// stateError reports a state value that cannot be read: of an unknown
// format version, or damaged.
func stateError(key string, err error) error {
	if errors.Is(err, ErrUnsupportedVersion) {
		return fmt.Errorf("diff: state of key %q: %w", key, err)
	}
	return fmt.Errorf("%w: state of key %q: %v", ErrCorrupt, key, err)
}

// same compares a held slot with a new one under the attribute's comparison.
func same(o, n slot, tol float64) (bool, string) {
	if o.unknown {
		return false, "unknown: an earlier send of it failed"
	}
	if o.float != n.float {
		return false, "value kind changed (number vs other)"
	}
	if !o.float {
		if o.v == n.v {
			return true, "same canonical value"
		}
		return false, fmt.Sprintf("hash %016x -> %016x", o.v, n.v)
	}
	a, b := math.Float64frombits(o.v), math.Float64frombits(n.v)
	if math.Abs(a-b) <= tol {
		return true, fmt.Sprintf("|%v - %v| <= tolerance %v", a, b, tol)
	}
	return false, fmt.Sprintf("|%v - %v| > tolerance %v", a, b, tol)
}

// attrCount returns the counters of attribute id; sumMu must be held.
func (p *Plan) attrCount(id uint32) *keyCounts {
	for len(p.attrCounts) <= int(id) {
		p.attrCounts = append(p.attrCounts, keyCounts{})
	}
	return &p.attrCounts[id]
}

// planVanished yields removals for keys of the state absent from a full
// snapshot.
func (p *Plan) planVanished(yield func(Change, error) bool) {
	if p.states != nil && p.states.allStoredSeen() {
		// Every key loaded into the table came back in the input: nothing
		// vanished, and the scan below would find nothing.
		return
	}
	prefix := userKey(nil, p.scopeID, "")
	stopped := false
	errStop := errors.New("stop")
	var slots []slot
	err := p.eng.store.Scan(p.ctx, prefix, func(k, v []byte) error {
		key := k[len(prefix):]
		if p.wasSeen(xxhash.Sum64(key)) {
			return nil
		}
		if p.done.Load() {
			return ErrPlanClosed
		}
		var err error
		slots, err = decodeState(v, slots)
		if err != nil {
			return stateError(string(key), err)
		}
		ch, ok, err := p.planRemoval(string(key), slots)
		if err != nil || !ok {
			return err
		}
		p.emitted.Add(1)
		if !yield(ch, nil) {
			stopped = true
			return errStop
		}
		return nil
	})
	if err != nil && !stopped {
		yield(Change{}, err)
	}
}

func (p *Plan) planRemoval(key string, old []slot) (Change, bool, error) {
	var ex *Explanation
	if p.cfg.explain[key] {
		ex = &Explanation{Key: key, Status: Removed}
	}
	var out []Attr
	var sent []uint32
	var next []slot
	p.sumMu.Lock()
	defer p.sumMu.Unlock()
	for _, o := range old {
		c, err := p.config(o.id)
		if err != nil {
			return Change{}, false, err
		}
		name := p.name(o.id)
		ae := AttrExplanation{Name: name, Previous: o.v, HasPrevious: true}
		switch {
		case c.keep:
			next = append(next, o)
			ae.Reason = "key absent from snapshot; attribute kept (WithKeepWhenAbsent)"
		case c.removal == nil:
			out = append(out, Attr{Name: name})
			sent = append(sent, o.id)
			p.attrCount(o.id).removed++
			ae.Status, ae.Sent, ae.Reason = Removed, true, "key absent from snapshot; removed as null"
		case !o.float && !o.unknown && o.v == c.removalHash:
			next = append(next, o)
			ae.Reason = "key absent from snapshot; removal value already sent"
		default:
			out = append(out, Attr{Name: name, Value: c.removalValue})
			sent = append(sent, o.id)
			next = append(next, slot{id: o.id, v: c.removalHash})
			p.attrCount(o.id).removed++
			ae.Status, ae.Sent, ae.Value, ae.Reason = Removed, true, c.removal, fmt.Sprintf("key absent from snapshot; removed as %v", c.removal)
		}
		if ex != nil {
			ex.Attrs = append(ex.Attrs, ae)
		}
	}
	if ex != nil {
		if len(out) == 0 {
			ex.Status = Unchanged
		}
		p.explanations[key] = ex
	}
	if len(out) == 0 {
		return Change{}, false, nil
	}
	p.keys.removed++
	p.seq++
	ch := Change{Key: key, Attrs: out, Status: Removed, Index: -1, plan: p, seq: p.seq, hadState: true}
	if len(next) > 0 {
		ch.state = appendState(nil, next)
	}
	ch.fail = failState(old, sent)
	return ch, true, nil
}

// Ack reports the destination's answer for ch: nil if it accepted the
// change, the error otherwise. Accepted changes reach the state in atomic
// batches (see WithAckBatch) and durably at Commit. A failed send may still
// have been applied (a timeout after the destination wrote it), so the
// attributes it carried become unknown in the state: the next run sends
// them again, or their removal, whatever the input then says. An error
// that reports NotApplied() == true (see NotApplied), such as a rejection
// of the object by the destination, leaves the state as it was. Changes never
// acknowledged leave the state as it was and are planned again. Ack may be called from any
// goroutine, while Changes is still running. The error is that of writing a
// batch to the store (the plan can then no longer commit), or
// ErrPlanClosed.
func (p *Plan) Ack(ch Change, sendErr error) error {
	if ch.plan != p {
		return errors.New("diff: Ack of a change from another plan")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return ErrPlanClosed
	}
	if sendErr != nil {
		p.failed.Add(1)
	} else {
		p.acked.Add(1)
	}
	if p.cfg.dryRun {
		return nil
	}
	if p.ackErr != nil {
		return p.ackErr
	}
	if latest, ok := p.latestDup[ch.Key]; ok && latest > ch.seq {
		return nil // a later record of the same key governs the state
	}
	op := Op{Key: userKey(nil, p.scopeID, ch.Key), Value: ch.state, Delete: ch.state == nil}
	if sendErr != nil {
		if notApplied(sendErr) {
			// The destination certainly did not apply it: the state
			// stays as it was, so a user it never held does not become
			// a tracked user whose later absence plans a removal.
			return nil
		}
		op = Op{Key: op.Key, Value: ch.fail}
	} else {
		p.pendingN++
	}
	_, dup := p.latestDup[ch.Key]
	p.pending = append(p.pending, op)
	p.pendInfo = append(p.pendInfo, pendingInfo{hadState: ch.hadState, dup: dup})
	if len(p.pending) >= p.eng.cfg.batchSize {
		// Every syncEvery batches the write is synced, so a crash loses a
		// bounded number of accepted changes (they are sent again).
		return p.flushLocked(p.ctx, p.batches+1 >= syncEvery)
	}
	return nil
}

// syncEvery is how many acknowledgement batches are written between syncs.
const syncEvery = 16

// flushLocked writes the pending acknowledgements, with the attribute names
// they may refer to, in one atomic batch. p.mu must be held.
func (p *Plan) flushLocked(ctx context.Context, durable bool) error {
	if p.ackErr != nil {
		return p.ackErr
	}
	p.dictMu.Lock()
	unsaved := slices.Clone(p.unsaved)
	names := make([]string, len(unsaved))
	for i, id := range unsaved {
		names[i] = p.names[id]
	}
	p.dictMu.Unlock()
	if len(p.pending) == 0 && len(unsaved) == 0 && !durable {
		return nil
	}
	ops := make([]Op, 0, len(unsaved)+len(p.pending)+1)
	for i, id := range unsaved {
		ops = append(ops, Op{Key: attrKey(p.scopeID, names[i]), Value: binary.AppendUvarint(nil, uint64(id))})
	}
	ops = append(ops, p.pending...)
	var count int64
	if p.keyCountKnown {
		delta, err := p.pendingKeyDelta(ctx)
		if err != nil {
			p.ackErr = fmt.Errorf("diff: writing acknowledgements of scope %q: %w", p.scope, err)
			return p.ackErr
		}
		// The count travels in the batch that changes the keys it counts,
		// so a crash leaves both or neither.
		count = p.keyCount + delta
		ops = append(ops, Op{Key: keyCountKey(p.scopeID), Value: binary.AppendUvarint(nil, uint64(max(count, 0)))})
	} else if durable {
		// Always write something, so the sync covers earlier batches too.
		ops = append(ops, Op{Key: metaVersionKey, Value: []byte(formatVersion)})
	}
	if err := p.eng.store.Apply(ctx, ops, durable); err != nil {
		p.ackErr = fmt.Errorf("diff: writing acknowledgements of scope %q: %w", p.scope, err)
		return p.ackErr
	}
	p.dictMu.Lock()
	p.unsaved = p.unsaved[len(unsaved):]
	p.dictMu.Unlock()
	p.unsynced += p.pendingN
	p.batches++
	if durable {
		p.committed.Add(p.unsynced)
		p.unsynced, p.batches = 0, 0
	}
	if p.keyCountKnown {
		p.keyCount = count
	}
	p.pending = p.pending[:0]
	p.pendInfo = p.pendInfo[:0]
	p.pendingN = 0
	return nil
}

// pendingInfo is what the key count needs to know of a pending write.
type pendingInfo struct {
	hadState bool // the key held state when the plan began
	dup      bool // the key was a duplicate: an earlier write may have changed that
}

// pendingKeyDelta is how the pending writes change the number of state
// keys. A write of a key that only this plan writes is decided by whether
// the key held state when the plan began; a duplicate key, which the plan
// may already have written, asks the store (earlier batches) and the
// earlier writes of this batch. p.mu must be held.
func (p *Plan) pendingKeyDelta(ctx context.Context) (int64, error) {
	var delta int64
	var exists map[string]bool // after the earlier writes of this batch
	if slices.ContainsFunc(p.pendInfo, func(i pendingInfo) bool { return i.dup }) {
		exists = make(map[string]bool, len(p.pending))
	}
	for i, op := range p.pending {
		info := p.pendInfo[i]
		had := info.hadState
		if exists != nil {
			if e, ok := exists[string(op.Key)]; ok {
				had = e
			} else if info.dup {
				_, found, err := p.eng.store.Get(ctx, op.Key, nil)
				if err != nil {
					return 0, err
				}
				had = found
			}
			exists[string(op.Key)] = !op.Delete
		}
		switch {
		case op.Delete && had:
			delta--
		case !op.Delete && !had:
			delta++
		}
	}
	return delta, nil
}

// Flush writes the acknowledgements received so far durably, without
// ending the plan, so a long sync can checkpoint.
func (p *Plan) Flush(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return ErrPlanClosed
	}
	if p.cfg.dryRun {
		return nil
	}
	return p.flushLocked(ctx, true)
}

// Commit writes the accepted changes durably and atomically, ends the plan
// and releases the scope. Changes acknowledged after Commit are refused
// with ErrPlanClosed, and planned again by the next run.
func (p *Plan) Commit(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return ErrPlanClosed
	}
	var err error
	if !p.cfg.dryRun {
		err = p.flushLocked(ctx, true)
	}
	p.done.Store(true)
	p.eng.release(p.scope)
	pr := p.Progress()
	p.eng.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "diff: plan committed",
		slog.String("scope", p.scope), slog.Int64("read", pr.Read), slog.Int64("emitted", pr.Emitted),
		slog.Int64("acked", pr.Acked), slog.Int64("failed", pr.Failed), slog.Int64("committed", pr.Committed),
		slog.Any("error", err))
	return err
}

// Close ends the plan without committing: acknowledgements not yet
// written are dropped and planned again by the next run. Close after
// Commit does nothing, so it can be deferred.
func (p *Plan) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return nil
	}
	p.done.Store(true)
	p.pending, p.pendInfo = nil, nil
	p.eng.release(p.scope)
	return nil
}

// Progress returns the plan's counters; safe to call while it runs.
func (p *Plan) Progress() Progress {
	return Progress{
		Read:      p.read.Load(),
		Emitted:   p.emitted.Load(),
		Acked:     p.acked.Load(),
		Failed:    p.failed.Load(),
		Committed: p.committed.Load(),
	}
}

// Summary counts what the plan found so far; complete once Changes is
// exhausted. Safe to call while the plan runs.
func (p *Plan) Summary() Summary {
	p.sumMu.Lock()
	defer p.sumMu.Unlock()
	s := p.sum
	s.Records = p.read.Load()
	s.New, s.Changed, s.Removed, s.Unchanged = p.keys.new, p.keys.changed, p.keys.removed, p.keys.unchanged
	s.Attrs = make(map[string]AttrSummary, len(p.attrCounts))
	for id, c := range p.attrCounts {
		if c == (keyCounts{}) {
			continue
		}
		s.Attrs[p.name(uint32(id))] = AttrSummary{New: c.new, Changed: c.changed, Removed: c.removed, Unchanged: c.unchanged}
	}
	return s
}

// Explain returns the explanation of key, if it was named with WithExplain
// and the plan reached it.
func (p *Plan) Explain(key string) (Explanation, bool) {
	p.sumMu.Lock()
	defer p.sumMu.Unlock()
	ex, ok := p.explanations[key]
	if !ok {
		return Explanation{}, false
	}
	c := *ex
	c.Attrs = slices.Clone(ex.Attrs)
	return c, true
}
