package diff

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// planVanished plans removals for keys of the state absent from a full
// snapshot; it reports false if the consumer stopped or the plan ended.
func (p *Plan) planVanished(out *emitter) bool {
	if p.empty || (p.states != nil && p.states.allStoredSeen()) {
		// No key was stored when the plan began, or every stored key came
		// back in the input: nothing vanished (the keys stored since are
		// this plan's own intents, all of seen keys).
		return true
	}
	prefix := userKey(nil, p.scopeID, "")
	ended := false
	var slots []slot
	err := p.eng.store.Scan(p.ctx, prefix, func(k, v []byte) error {
		key := k[len(prefix):]
		if kh := xxhash.Sum64(key); !p.mine(kh) || p.wasSeen(kh) {
			return nil // another partition's key, or in the input
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
		if !out.change(ch) {
			ended = true
			return errStopScan
		}
		return nil
	})
	if ended {
		return false
	}
	if err != nil {
		p.fail(fmt.Errorf("diff: planning the removals of scope %q: %w", p.scope, err))
		return false
	}
	return true
}

func (p *Plan) planRemoval(key string, old []slot) (Change, bool, error) {
	var ex *Explanation
	if p.cfg.explain[key] {
		ex = &Explanation{Key: key, Status: Removed}
	}
	var out []Attr
	var sent []slot
	var next []slot
	var held []heldValue
	overwrites := false
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
		case o.rejected && !o.prior:
			// Only a rejected value was ever sent: nothing to remove.
			ae.Reason = "key absent from snapshot; only a rejected value was sent"
		case c.keep:
			next = append(next, o)
			ae.Reason = "key absent from snapshot; attribute kept (WithKeepWhenAbsent)"
		case c.removal == nil && p.heldBack(o, nullMark):
			next = append(next, o)
			held = append(held, heldValue{a: Attr{Name: name}, s: slot{id: o.id, unknown: true}, remove: true})
			ae.Reason = "key absent from snapshot; its removal was rejected before"
		case c.removal != nil && p.heldBack(o, c.removalHash):
			next = append(next, o)
			held = append(held, heldValue{a: Attr{Name: name, Value: c.removalValue}, s: slot{id: o.id, v: c.removalHash}})
			ae.Reason = "key absent from snapshot; its removal was rejected before"
		case c.removal == nil:
			out = append(out, Attr{Name: name})
			overwrites = overwrites || o.accepted()
			sent = append(sent, slot{id: o.id, unknown: true})
			p.attrCount(o.id).removed++
			ae.Status, ae.Sent, ae.Reason = Removed, true, "key absent from snapshot; removed as null"
		case !o.float && !o.unknown && !o.rejected && o.v == c.removalHash:
			next = append(next, o)
			ae.Reason = "key absent from snapshot; removal value already sent"
		default:
			out = append(out, Attr{Name: name, Value: c.removalValue})
			overwrites = overwrites || o.accepted()
			sent = append(sent, slot{id: o.id, v: c.removalHash})
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
		if len(held) > 0 {
			p.stillRejected++
		}
		return Change{}, false, nil
	}
	out, sent, next = releaseHeld(held, out, sent, next)
	p.keys.removed++
	ch := Change{Key: key, Attrs: out, Status: Removed, Index: -1, plan: p, sent: sent, orig: appendState(nil, old), overwrites: overwrites}
	if len(next) > 0 {
		ch.state = appendState(nil, next)
	}
	ch.fail = failState(old, sent)
	return ch, true, nil
}
