package diff

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// storeFailure carries an error of the store, which ends the plan.
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return e.err.Error() }

// planner is one worker's scratch space and counters.
type planner struct {
	p             *Plan
	cache         map[string]attrRef
	enc           encoder
	items         []item
	old, next     []slot
	keyBuf        []byte
	oldBuf        []byte
	newBuf        []byte
	keys          keyCounts
	attrCounts    []keyCounts
	skipped       int64 // records found unchanged by fingerprint, no lookup
	stillRejected int64 // keys with a rejected value not sent again
}

// accepted reports whether the slot holds a value the destination
// accepted (not one whose send failed or was interrupted, nor a rejected
// one).
func (s slot) accepted() bool { return !s.unknown && !s.rejected }

// heldValue is a value (or a removal) the destination rejected before,
// held back unless something else of the record changes.
type heldValue struct {
	a      Attr
	s      slot // the slot it leaves once accepted
	remove bool // a removal: once accepted the attribute leaves the state
}

// nullMark is the value of a rejected slot whose rejected send was a
// removal (null).
const nullMark = rejectedBits

// heldBack reports whether o is a rejected slot for the value whose slot
// is v: then it is held back (see heldValue), unless WithResendRejected.
func (p *Plan) heldBack(o slot, v uint64) bool {
	return o.rejected && o.v == v&rejectedBits && !p.cfg.resendRejected
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
	p.stillRejected += w.stillRejected
	w.stillRejected = 0
}

func (k *keyCounts) add(o keyCounts) {
	k.new += o.new
	k.changed += o.changed
	k.removed += o.removed
	k.unchanged += o.unchanged
}

// planRecord compares one record with the state. ok is false when nothing
// needs sending.
//
// fp is the fingerprint of the key's stored state (0 if unknown): when the
// record's would-be state has the same fingerprint, the record is
// unchanged without a store lookup.
func (w *planner) planRecord(rec Record, index int64, fp uint64) (Change, bool, error) {
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
				it.s.v, err = w.enc.hash(TimeValue(a.Value.time().Truncate(c.cmp.truncate)))
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
	if fp != 0 && ex == nil && stateFingerprint(w.newBuf) == fp {
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
	if found && ex == nil && bytes.Equal(w.oldBuf, w.newBuf) {
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

	// What the change sends (out, and sent: its slots, see Change.sent),
	// what the state holds once it is accepted (next), and the values
	// rejected before and held back.
	d := removalDraft{next: next[:0]}
	note := func(id uint32, st Delta, prev *slot, value Value, sent bool, reason string) {
		c := w.attrCount(id)
		switch st {
		case DeltaNew:
			c.new++
		case DeltaChanged:
			c.changed++
		case DeltaRemoved:
			c.removed++
		default:
			c.unchanged++
		}
		explain(ex, p.name, id, st, prev, value, sent, reason)
	}
	i, j := 0, 0
	for i < len(items) || j < len(old) {
		switch {
		case j == len(old) || (i < len(items) && items[i].s.id < old[j].id):
			it := items[i]
			i++
			if it.null {
				explain(ex, p.name, it.s.id, DeltaUnchanged, nil, Value{}, false, "null in input, nothing in state")
				continue
			}
			v := rec.Attrs[it.attr].Value
			d.out = append(d.out, Attr{Name: rec.Attrs[it.attr].Name, Value: v})
			d.sent = append(d.sent, it.s)
			d.next = append(d.next, it.s)
			note(it.s.id, DeltaNew, nil, v, true, "not in state")
		case i == len(items) || old[j].id < items[i].s.id:
			o := old[j]
			j++
			c, err := p.config(o.id)
			if err != nil {
				return Change{}, false, &RecordError{Index: index, Key: rec.Key, Err: err}
			}
			r := p.decideRemoval(o, c, p.name(o.id), false)
			d.apply(o, r)
			switch r.verdict {
			case removalSend:
				note(o.id, DeltaRemoved, &o, r.attr.Value, true, "absent from input; "+r.reason)
			case removalHeld:
				note(o.id, DeltaUnchanged, &o, Value{}, false, "absent from input; "+r.reason)
			default: // not carried by the record: explained, not counted
				explain(ex, p.name, o.id, DeltaUnchanged, &o, Value{}, false, "absent from input; "+r.reason)
			}
		default:
			it, o := items[i], old[j]
			i++
			j++
			a := rec.Attrs[it.attr]
			c := w.cache[a.Name].cfg
			if it.null {
				r := p.decideRemoval(o, c, a.Name, true)
				d.apply(o, r)
				if r.verdict == removalSend {
					note(o.id, DeltaRemoved, &o, Value{}, true, "null in input; "+r.reason)
				} else {
					note(o.id, DeltaUnchanged, &o, Value{}, false, "null in input; "+r.reason)
				}
				continue
			}
			if p.heldBack(o, it.s.v) {
				// Braze asks not to retry a rejected object until its data
				// changes: this value goes again only with a change of
				// another attribute (see below).
				d.next = append(d.next, o)
				d.held = append(d.held, heldValue{a: a, s: it.s})
				note(o.id, DeltaUnchanged, &o, a.Value, false, "the destination rejected this value before; not sent again until the user's data changes")
				continue
			}
			same, reason := same(o, it.s, c.cmp.tolerance)
			if same {
				d.next = append(d.next, o) // keep the value sent, so drift adds up
				note(o.id, DeltaUnchanged, &o, a.Value, false, reason)
				continue
			}
			d.out = append(d.out, a)
			d.overwrites = d.overwrites || o.accepted()
			d.sent = append(d.sent, it.s)
			d.next = append(d.next, it.s)
			note(o.id, DeltaChanged, &o, a.Value, true, reason)
		}
	}
	out, sent, next := d.out, d.sent, d.next
	if len(d.held) > 0 {
		if len(out) == 0 {
			w.stillRejected++
		} else {
			// The object's data changed, so what was rejected with it goes
			// again: Braze rejects an object as a whole, so which of its
			// values was at fault is not known.
			out, sent, next = releaseHeld(d.held, out, sent, next)
		}
	}
	w.next = next
	status := DeltaNew
	if found {
		status = DeltaChanged
	}
	if len(out) == 0 {
		status = DeltaUnchanged
		w.keys.unchanged++
	} else if found {
		w.keys.changed++
	} else {
		w.keys.new++
	}
	if ex != nil {
		ex.Delta = status
	}
	if len(out) == 0 {
		return Change{}, false, nil
	}
	ch := Change{Key: rec.Key, Attrs: out, Delta: status, Index: index, plan: p, sent: sent, overwrites: d.overwrites}
	if found {
		ch.orig = bytes.Clone(w.oldBuf)
	}
	if len(next) > 0 {
		ch.state = appendState(nil, next)
	}
	ch.fail = failState(old, sent)
	return ch, true, nil
}

// explain adds what was found for attribute id to ex, when the key is
// explained (ex is not nil).
func explain(ex *Explanation, name func(uint32) string, id uint32, st Delta, prev *slot, value Value, sent bool, reason string) {
	if ex == nil {
		return
	}
	ae := AttrExplanation{Name: name(id), Delta: st, Value: value.Any(), Sent: sent, Reason: reason}
	if prev != nil {
		ae.Previous, ae.HasPrevious = prev.v, true
	}
	ex.Attrs = append(ex.Attrs, ae)
}

// failState is the state after a failed send of the attributes sent: the
// destination may have applied some of it, so those attributes become
// unknown, and the next run sends them (or their removal) again. It is
// also the intent written before the change is yielded. sent is in
// attribute id order.
func failState(old []slot, sent []slot) []byte {
	return appendState(nil, mergeSent(old, sent, func(s slot) slot { return slot{id: s.id, unknown: true} }))
}

// rejectState is the state after the destination rejected the values
// sent: nothing of the change was applied, so the state keeps what it
// held, and each value sent is remembered as rejected (a removal, which no
// destination rejects for its value, becomes unknown).
func rejectState(orig []byte, sent []slot) ([]byte, error) {
	var old []slot
	if orig != nil {
		var err error
		if old, err = decodeState(orig, nil); err != nil {
			return nil, err
		}
	}
	held := make(map[uint32]bool, len(old)) // attributes the destination may hold a value of
	for _, o := range old {
		held[o.id] = !o.rejected || o.prior
	}
	return appendState(nil, mergeSent(old, sent, func(s slot) slot {
		if s.unknown { // a removal
			return slot{id: s.id, rejected: true, prior: held[s.id], v: nullMark}
		}
		return slot{id: s.id, rejected: true, prior: held[s.id], v: s.v & rejectedBits}
	})), nil
}

// releaseHeld adds the held values to a change that goes out anyway: the
// object's data changed, so what was rejected with it goes again (Braze
// rejects an object as a whole, so which of its values was at fault is
// not known). sent and next stay in attribute id order.
func releaseHeld(held []heldValue, out []Attr, sent, next []slot) ([]Attr, []slot, []slot) {
	for _, h := range held {
		out = append(out, h.a)
		sent = append(sent, h.s)
		next = slices.DeleteFunc(next, func(s slot) bool { return s.id == h.s.id })
		if !h.remove {
			next = append(next, h.s)
		}
	}
	byID := func(a, b slot) int { return cmp.Compare(a.id, b.id) }
	slices.SortFunc(sent, byID)
	slices.SortFunc(next, byID)
	return out, sent, next
}

// mergeSent returns old with the slots of the attributes sent replaced by
// as(sent slot); both are in attribute id order.
func mergeSent(old, sent []slot, as func(slot) slot) []slot {
	out := make([]slot, 0, len(old)+len(sent))
	i, j := 0, 0
	for i < len(old) || j < len(sent) {
		switch {
		case j == len(sent) || (i < len(old) && old[i].id < sent[j].id):
			out = append(out, old[i])
			i++
		case i == len(old) || sent[j].id < old[i].id:
			out = append(out, as(sent[j]))
			j++
		default:
			out = append(out, as(sent[j]))
			i++
			j++
		}
	}
	return out
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
		return false, "unknown: an earlier send of it failed or was interrupted"
	}
	if o.rejected {
		return false, "the destination rejected an earlier value"
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
