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
		ex = &Explanation{Key: key, Delta: DeltaRemoved}
	}
	var d removalDraft
	p.sumMu.Lock()
	defer p.sumMu.Unlock()
	for _, o := range old {
		c, err := p.config(o.id)
		if err != nil {
			return Change{}, false, err
		}
		name := p.name(o.id)
		r := p.decideRemoval(o, c, name, false)
		d.apply(o, r)
		if r.verdict == removalSend {
			p.attrCount(o.id).removed++
		}
		if ex != nil {
			ae := AttrExplanation{Name: name, Previous: o.v, HasPrevious: true, Reason: "key absent from snapshot; " + r.reason}
			if r.verdict == removalSend {
				ae.Delta, ae.Sent, ae.Value = DeltaRemoved, true, r.attr.Value.Any()
			}
			ex.Attrs = append(ex.Attrs, ae)
		}
	}
	if ex != nil {
		if len(d.out) == 0 {
			ex.Delta = DeltaUnchanged
		}
		p.explanations[key] = ex
	}
	if len(d.out) == 0 {
		if len(d.held) > 0 {
			p.stillRejected++
		}
		return Change{}, false, nil
	}
	out, sent, next := releaseHeld(d.held, d.out, d.sent, d.next)
	p.keys.removed++
	overwrites := d.overwrites
	ch := Change{Key: key, Attrs: out, Delta: DeltaRemoved, Index: -1, plan: p, sent: sent, orig: appendState(nil, old), overwrites: overwrites}
	if len(next) > 0 {
		ch.state = appendState(nil, next)
	}
	ch.fail = failState(old, sent)
	return ch, true, nil
}
