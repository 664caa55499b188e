package diff

import "fmt"

// removalVerdict says what becomes of an attribute the state holds and the
// input no longer has.
type removalVerdict int

const (
	// removalForget: only a rejected value was ever sent, so the
	// destination holds nothing to remove, and the state forgets it.
	removalForget removalVerdict = iota
	// removalKeep: the state keeps its slot as it is (WithKeepWhenAbsent,
	// or the removal value was already accepted).
	removalKeep
	// removalHeld: the destination rejected this removal before; it is
	// held back (see heldValue) and the state keeps its slot.
	removalHeld
	// removalSend: the removal is sent.
	removalSend
)

// removal is the decision on one attribute the input no longer has.
type removal struct {
	verdict removalVerdict
	attr    Attr // the removal sent or held: a null Value, or the removal value
	sent    slot // what the change carries for it (see Change.sent)
	// valued: once accepted the state holds sent (a removal value), not
	// nothing (a null removal).
	valued bool
	reason string // why, for Explain, after what the input said
}

// decideRemoval is the one decision on an attribute o of the state (named
// name, settings c) that the input no longer has: absent from its record,
// or its key absent from a full snapshot (asNull false: WithKeepWhenAbsent
// keeps it, WithRemoveAs says what is sent), or null in its record (asNull
// true: removed as null whatever the settings). planRecord and
// planRemoval both act on it.
func (p *Plan) decideRemoval(o slot, c *attrConfig, name string, asNull bool) removal {
	null := asNull || c.removal == nil
	switch {
	case o.rejected && !o.prior:
		return removal{verdict: removalForget, reason: "only a rejected value was sent"}
	case !asNull && c.keep:
		return removal{verdict: removalKeep, reason: "kept (WithKeepWhenAbsent)"}
	case null && p.heldBack(o, nullMark):
		return removal{verdict: removalHeld, attr: Attr{Name: name}, sent: slot{id: o.id, unknown: true},
			reason: "its removal was rejected before"}
	case !null && p.heldBack(o, c.removalHash):
		return removal{verdict: removalHeld, attr: Attr{Name: name, Value: c.removalValue}, sent: slot{id: o.id, v: c.removalHash},
			valued: true, reason: "its removal was rejected before"}
	case null:
		return removal{verdict: removalSend, attr: Attr{Name: name}, sent: slot{id: o.id, unknown: true}, reason: "removed as null"}
	case !o.float && !o.unknown && !o.rejected && o.v == c.removalHash:
		return removal{verdict: removalKeep, reason: fmt.Sprintf("removal value %v already sent", c.removal)}
	default:
		return removal{verdict: removalSend, attr: Attr{Name: name, Value: c.removalValue}, sent: slot{id: o.id, v: c.removalHash},
			valued: true, reason: fmt.Sprintf("removed as %v", c.removal)}
	}
}

// removalDraft gathers what the removals of one key's attributes add to
// its change: what is sent, what the state holds once it is accepted, and
// the removals held back.
type removalDraft struct {
	out        []Attr
	sent, next []slot
	held       []heldValue
	overwrites bool // a removal replaces a value the destination accepted
}

// apply adds the decision r on slot o to the draft.
func (d *removalDraft) apply(o slot, r removal) {
	switch r.verdict {
	case removalKeep:
		d.next = append(d.next, o)
	case removalHeld:
		d.next = append(d.next, o)
		d.held = append(d.held, heldValue{a: r.attr, s: r.sent, remove: !r.valued})
	case removalSend:
		d.out = append(d.out, r.attr)
		d.overwrites = d.overwrites || o.accepted()
		d.sent = append(d.sent, r.sent)
		if r.valued {
			d.next = append(d.next, r.sent)
		}
	}
}
