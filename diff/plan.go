package diff

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Delta says what a plan found for a key or an attribute.
type Delta int

const (
	// DeltaUnchanged: the state already holds this value.
	DeltaUnchanged Delta = iota
	// DeltaNew: the state holds nothing for this key or attribute.
	DeltaNew
	// DeltaChanged: the state holds a different value.
	DeltaChanged
	// DeltaRemoved: the state holds a value the input no longer has.
	DeltaRemoved
)

func (s Delta) String() string {
	switch s {
	case DeltaNew:
		return "new"
	case DeltaChanged:
		return "changed"
	case DeltaRemoved:
		return "removed"
	}
	return "unchanged"
}

// Change is what must be sent for one key: the attributes that are new or
// changed, with their values, and removals (nil, or the value configured
// with WithRemoveAs). Pass it back to Plan.Ack once the destination
// answered.
type Change struct {
	Key   string
	Attrs []Attr
	Delta Delta // DeltaNew, DeltaChanged or DeltaRemoved (the key vanished from a full snapshot)
	// Index is the position of the record in the input, counting from 0
	// and counting the input's errors too (as RecordError.Index does), so
	// a caller whose input yields one record or error per source row can
	// name the row of a change the destination rejected. It is -1 for a
	// DeltaRemoved change, whose key is not in the input.
	Index int64

	plan  *Plan
	orig  []byte // the key's state when planned; nil if it had none
	state []byte // the key's state once this change is accepted; nil deletes it
	fail  []byte // the key's state if the send fails (and its intent): what it sent becomes unknown
	sent  []slot // what the change carries, in attribute id order: the value's slot, or unknown for a null
	// overwrites reports that the change replaces or removes a value the
	// destination accepted: only such changes count against the limits
	// (what an interrupted run sent and never saw answered does not).
	overwrites bool
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
	Rejected  int64 // changes acknowledged with a Rejection error
	Failed    int64 // changes acknowledged with any other error
	Committed int64 // accepted changes durably written to the store
}

// Summary counts keys and attributes by Delta. Per attribute, Unchanged
// counts records that carried the attribute with the value already held.
type Summary struct {
	Scope      string
	Mode       Mode
	DryRun     bool
	Records    int64 // records read, including duplicates and bad ones
	Errors     int64 // records or input errors yielded instead of planned
	Duplicates int64 // records whose key was already seen in this input (not planned)
	// OtherPartitions counts records skipped because their key belongs to
	// another partition (see WithPartition).
	OtherPartitions int64

	New, Changed, Removed, Unchanged int64 // keys
	// StillRejected counts keys with a value the destination rejected
	// before and the input still has: not sent again (see
	// WithResendRejected). A key counted here is also counted by status
	// for whatever else of it changed.
	StillRejected int64

	// Stored is the number of keys the scope held when the plan began,
	// MaxRemovals and MaxChanges the plan's limits as counts of keys (-1:
	// none; see WithMaxRemovals, WithMaxChanges).
	Stored, MaxRemovals, MaxChanges int64
	// RemovalsSkipped says why a FullSnapshot plan planned no removals
	// (it matches ErrIncompleteSnapshot or ErrInputEnded); nil otherwise.
	RemovalsSkipped error

	Attrs map[string]AttrSummary
}

// AttrSummary counts one attribute by Delta.
type AttrSummary struct {
	New, Changed, Removed, Unchanged int64
}

// Explanation tells why a key was or was not planned.
type Explanation struct {
	Key   string
	Delta Delta
	Attrs []AttrExplanation
}

// AttrExplanation tells what the state held for one attribute, what the
// input has, and the verdict.
type AttrExplanation struct {
	Name  string
	Delta Delta
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
// goroutine; Ack, Err, Progress, Summary and Explain may be called from
// others at the same time.
type Plan struct {
	eng      *Engine
	ctx      context.Context
	scope    string
	lockName string // what Engine.Plan locked: the scope, or its partition
	scopeID  uint32
	cfg      planConfig
	records  iter.Seq2[Record, error]
	started  atomic.Bool
	done     atomic.Bool // Commit or Close called

	// Attribute dictionary: name <-> id. Ids assigned in this plan are
	// written with the first batch of writes after them.
	dictMu  sync.Mutex
	names   []string
	ids     map[string]uint32
	unsaved []uint32

	attrCfg []*attrConfig // by id, guarded by dictMu
	empty   bool          // the scope held no keys when the plan began

	// Owned by the goroutine reading the input, then by Changes. When the
	// scope held state, states replaces seen (see stateTable).
	seen     keySet
	states   *stateTable
	stop     error // why reading the input stopped early
	lastErr  bool  // the input's last item was an error
	nonEmpty bool  // the input had at least one item

	// Writes: intents (before a change is yielded) and acknowledgements.
	mu         sync.Mutex
	pending    []Op
	pendDelta  int64 // how the pending writes change the key count
	pendingN   int64 // accepted acknowledgements among pending
	unsynced   int64 // accepted acknowledgements written without sync
	batches    int   // batches written since the last sync
	flushTimer *time.Timer
	ackErr     error
	// keyCount is the number of state keys of the scope as of the last
	// written batch, stored the number when Changes began; both known
	// once Changes has read the state (or found it empty).
	keyCount, stored int64

	read, emitted, acked, rejected, failed, committed atomic.Int64
	skipped                                           atomic.Int64 // records found unchanged without a store lookup

	errMu sync.Mutex
	err   error // the first fatal error, see Err

	sumMu          sync.Mutex
	sum            Summary
	keys           keyCounts
	stillRejected  int64
	attrCounts     []keyCounts // by attribute id
	explanations   map[string]*Explanation
	unattributable bool
}

func (e *Engine) newPlan(ctx context.Context, scope string, records iter.Seq2[Record, error], opts []PlanOption) (*Plan, error) {
	var cfg planConfig
	for _, o := range opts {
		o(&cfg)
	}
	// A dry run creates nothing, not even the scope: a scope that does not
	// exist plans as empty under id 0, which no scope has.
	var id uint32
	var err error
	if cfg.dryRun {
		id, _, err = e.lookupScopeID(ctx, scope)
	} else {
		id, err = e.scopeID(ctx, scope)
	}
	if err != nil {
		return nil, err
	}
	if err := e.checkParts(ctx, scope, id, cfg.parts, !cfg.dryRun && !e.readOnly); err != nil {
		return nil, err
	}
	names, ids, err := e.loadNames(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		eng: e, ctx: ctx, scope: scope, scopeID: id, cfg: cfg, records: records,
		names: names, ids: ids,
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
	p.sum = Summary{Scope: scope, Mode: cfg.mode, DryRun: cfg.dryRun, MaxRemovals: -1, MaxChanges: -1}
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
	if v, ok := p.cfg.removeAs[name]; ok && !AnyValue(v).IsNull() {
		h, err := Hash(v)
		if err != nil {
			return nil, fmt.Errorf("diff: removal value of attribute %q: %w", name, err)
		}
		c.removal, c.removalValue, c.removalHash = AnyValue(v).Any(), AnyValue(v), h
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
	switch {
	case ok:
	case p.cfg.parts > 0 && !p.cfg.dryRun && !p.eng.readOnly:
		var err error
		if id, err = p.registerName(name); err != nil {
			return 0, nil, err
		}
	default:
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
// reading the input as it goes. A problem with one record (a value outside
// the value model, a duplicate key, an error from the input) is yielded
// as an error (*RecordError or *DuplicateKeyError) with a zero Change, and
// the plan goes on. Whatever ends the plan early (an input error with
// Fatal() true, the context, a store failure, a limit) is not yielded: the
// iteration ends and Err reports it, as Commit does. In FullSnapshot mode,
// once the input is exhausted, keys of the state that the input lacked are
// yielded as removals, unless the input may be incomplete (see
// Summary.RemovalsSkipped). Changes may be iterated once.
//
// Before a change is yielded, the attributes it carries are durably marked
// unknown in the state (a write-ahead intent): if the process dies after
// sending it and before its acknowledgement, the next run knows those
// attributes may be at the destination, and sends them again or plans
// their removal, whatever its input. A plan with a limit (WithMaxRemovals,
// WithMaxChanges; on by default in FullSnapshot mode) yields nothing until
// the whole input has been read and found within the limits.
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
		if !p.empty {
			if err := p.loadStates(); err != nil {
				p.fail(err)
				return
			}
		}
		p.mu.Lock()
		p.stored = p.keyCount
		p.mu.Unlock()
		maxRemovals, maxChanges := p.cfg.limits(p.stored)
		p.sumMu.Lock()
		p.sum.Stored, p.sum.MaxRemovals, p.sum.MaxChanges = p.stored, maxRemovals, maxChanges
		p.sumMu.Unlock()

		out := newEmitter(p, yield, maxRemovals, maxChanges)
		defer out.close()
		if !p.planInput(out) {
			return
		}
		if p.cfg.mode == FullSnapshot {
			if !p.nonEmpty && p.stored > 0 && !p.cfg.allowEmpty {
				p.fail(fmt.Errorf("%w: the input has no record while scope %q holds %d keys; nothing was sent (an empty export is refused unless allowed)", ErrEmptySnapshot, p.scope, p.stored))
				return
			}
			if reason := p.removalsSkipped(); reason != nil {
				p.sumMu.Lock()
				p.sum.RemovalsSkipped = reason
				p.sumMu.Unlock()
			} else if !p.planVanished(out) {
				return
			}
		}
		out.finish()
	}
}

// removalsSkipped says why the vanished keys of a full snapshot must not
// be removed, or nil: an input whose completeness is in doubt may have
// lost the very keys that look vanished.
func (p *Plan) removalsSkipped() error {
	p.sumMu.Lock()
	unattributable := p.unattributable
	p.sumMu.Unlock()
	switch {
	case unattributable:
		return fmt.Errorf("%w: the input had errors that name no key", ErrIncompleteSnapshot)
	case p.lastErr:
		return fmt.Errorf("%w: the input's last item was an error, so it may have ended early", ErrIncompleteSnapshot)
	}
	return nil
}

// fail records the first error that ends the plan early (see Err).
func (p *Plan) fail(err error) {
	p.errMu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.errMu.Unlock()
}

// Err returns the error that ended the plan early, or nil: an input error
// with Fatal() true or the context's error while the input was read (both
// matching ErrInputEnded), a store failure, a *LimitError or
// ErrEmptySnapshot, or a failed write of acknowledgements. A dry run
// reports the *LimitError the real run would end with, having yielded
// every change. Err is complete once Changes has returned; Commit returns
// it too.
func (p *Plan) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}
