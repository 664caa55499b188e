package brazetest

import (
	"encoding/json"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var arrayNames = [3]string{"attributes", "events", "purchases"}

const (
	arrAttributes = iota
	arrEvents
	arrPurchases
)

// acceptedObject is an object that passed validation, waiting to be applied.
type acceptedObject struct {
	arr    int
	index  int
	obj    *jv
	id     identity
	vstart int // attributes: offset of its members' verdicts
}

// process validates a decoded request body and applies what is valid. It
// returns the status and the response body.
func (s *Server) process(top *jv, body string, ep endpoint, now time.Time, rec *Request, scratch *parser) (int, []byte) {
	if top.k != kObject {
		return http.StatusBadRequest, message(MsgNoValidData)
	}
	var arrs [3]*jv
	total := 0
	for i, name := range arrayNames {
		if v, ok := top.get(name); ok && v.k == kArray {
			arrs[i] = v
			total += len(v.o)
		}
	}
	switch {
	case ep.bulk:
		if total > s.cfg.bulkMaxObjects || len(body) > s.cfg.bulkMaxBytes {
			return http.StatusBadRequest, message(MsgMaxInputLength)
		}
	case s.cfg.perArray > 0:
		for _, a := range arrs {
			if a != nil && len(a.o) > s.cfg.perArray {
				return http.StatusBadRequest, message(MsgMaxInputLength)
			}
		}
	case s.cfg.maxObjects > 0 && total > s.cfg.maxObjects:
		return http.StatusBadRequest, message(MsgMaxInputLength)
	}

	var (
		errs      []ObjectError
		acc       = scratch.acc[:0]
		verdicts  = scratch.verdicts[:0]
		nestedBad []string // attributes[i].key with an invalid nested value
		kinds     uint
		rules     = s.rejectRules()
	)
	for ai, arr := range arrs {
		if arr == nil {
			continue
		}
		for idx := range arr.o {
			obj := &arr.o[idx].val
			if obj.k != kObject {
				errs = append(errs, ObjectError{Type: MsgIdentifierRequired, InputArray: arrayNames[ai], Index: idx})
				continue
			}
			id, msg := identify(obj)
			if msg == "" {
				kinds |= 1 << id.kind
			}
			vstart := len(verdicts)
			var bad []string
			if msg == "" {
				switch ai {
				case arrAttributes:
					verdicts, bad, msg = s.validateAttributes(obj, idx, verdicts)
				case arrEvents:
					msg = validateEvent(obj)
				case arrPurchases:
					msg = validatePurchase(obj)
				}
			}
			if msg == "" && len(rules) > 0 {
				msg = matchRejects(rules, ai, idx, obj)
			}
			if msg != "" {
				errs = append(errs, ObjectError{Type: msg, InputArray: arrayNames[ai], Index: idx})
				verdicts = verdicts[:vstart]
				continue
			}
			nestedBad = append(nestedBad, bad...)
			acc = append(acc, acceptedObject{arr: ai, index: idx, obj: obj, id: id, vstart: vstart})
		}
	}
	if s.cfg.rejectMixed && bits.OnesCount(kinds) > 1 {
		return http.StatusBadRequest, message(MsgConflictingIdentifiers)
	}
	if ep.bulk && !bulkPerUserOK(acc, s.cfg.bulkMaxPerUser) {
		return http.StatusBadRequest, message(MsgMaxInputLength)
	}
	if len(acc) == 0 {
		s.mu.Lock()
		s.stats.ObjectErrors += len(errs)
		s.mu.Unlock()
		return http.StatusBadRequest, marshal(response{Message: MsgNoValidData, Errors: errs})
	}

	dropAll := len(nestedBad) > 0 && !s.cfg.nestedPerAttr
	if len(nestedBad) > 0 {
		note := "invalid nested value in " + strings.Join(nestedBad, ", ") + ": "
		if dropAll {
			note += "every nested-attribute update in the request dropped"
		} else {
			note += "that attribute's update dropped"
		}
		rec.Notes = append(rec.Notes, note)
	}
	scratch.acc, scratch.verdicts = acc, verdicts // keep the grown buffers for the next request
	var counts [3]int
	for i := range acc {
		counts[acc[i].arr]++
	}
	s.mu.Lock()
	s.stats.AttributesProcessed += counts[arrAttributes]
	s.stats.EventsProcessed += counts[arrEvents]
	s.stats.PurchasesProcessed += counts[arrPurchases]
	s.stats.ObjectErrors += len(errs)
	if s.deferred.Load() {
		pr := pendingRequest{body: body, received: now, seq: rec.Seq, dropAll: dropAll}
		for _, a := range acc {
			pr.accepted = append(pr.accepted, [2]int{a.arr, a.index})
		}
		s.pending = append(s.pending, pr)
		rec.Notes = append(rec.Notes, "deferred: accepted, not applied until ApplyPending")
	} else {
		rec.Notes = s.applyLocked(acc, verdicts, dropAll, now, rec.Seq, rec.Notes)
	}
	s.mu.Unlock()

	return http.StatusCreated, marshal(response{
		Message:             "success",
		AttributesProcessed: counts[arrAttributes],
		EventsProcessed:     counts[arrEvents],
		PurchasesProcessed:  counts[arrPurchases],
		Errors:              errs,
	})
}

// applyLocked applies validated objects to the state, in request order
// (attributes, then events, then purchases). It holds s.mu. It returns
// notes with one line added per object that updated nothing.
func (s *Server) applyLocked(acc []acceptedObject, verdicts []verdict, dropAll bool, now time.Time, seq int, notes []string) []string {
	dropNested := func(string) bool { return dropAll }
	for i := range acc {
		a := &acc[i]
		p := s.st.resolve(a.id, a.obj, now)
		if p == nil {
			s.stats.Skipped++
			notes = append(notes, arrayNames[a.arr]+"["+strconv.Itoa(a.index)+"]: no matching profile and update-only; nothing updated")
			continue
		}
		switch a.arr {
		case arrAttributes:
			s.st.applyAttributes(p, a.obj, verdicts[a.vstart:a.vstart+len(a.obj.o)], dropNested)
		case arrEvents:
			s.st.recordEvent(p, a.obj, now, seq)
		case arrPurchases:
			s.st.recordPurchase(p, a.obj, now, seq)
		}
		s.st.touch(p, now)
	}
	return notes
}

// validateAttributes validates the members of an attributes object,
// appending one verdict per member. It returns the error type of the first
// member that rejects the object, and the attributes with an invalid nested
// value.
func (s *Server) validateAttributes(obj *jv, idx int, verdicts []verdict) ([]verdict, []string, string) {
	var bad []string
	for i := range obj.o {
		vd, msg := s.val.attribute(obj.o[i].key, &obj.o[i].val)
		if vd == attrReject {
			return verdicts, nil, msg
		}
		if vd == attrNestedBad {
			bad = append(bad, "attributes["+strconv.Itoa(idx)+"]."+obj.o[i].key)
		}
		verdicts = append(verdicts, vd)
	}
	return verdicts, bad, ""
}

func matchRejects(rules []rejectRule, ai, idx int, obj *jv) string {
	o := Object{Array: arrayNames[ai], Index: idx, Fields: obj.toAny().(map[string]any)}
	if ext, ok := obj.get("external_id"); ok && ext.k == kString {
		o.ExternalID = ext.s
	}
	for _, r := range rules {
		if r.match(o) {
			if r.errType == "" {
				return "rejected by brazetest"
			}
			return r.errType
		}
	}
	return ""
}

// bulkPerUserOK checks /users/track/bulk's limit of objects per user
// (counted by external_id).
func bulkPerUserOK(acc []acceptedObject, max int) bool {
	per := map[string]int{}
	for _, a := range acc {
		if a.id.kind == idExternal {
			per[a.id.value]++
			if per[a.id.value] > max {
				return false
			}
		}
	}
	return true
}

func marshal(r response) []byte {
	b, _ := json.Marshal(r)
	return b
}

// recordEvent appends an event to the log and the profile.
func (st *state) recordEvent(p *profile, obj *jv, now time.Time, seq int) {
	name, _ := obj.get("name")
	e := Event{
		ExternalID: p.externalID,
		BrazeID:    p.brazeID,
		Name:       strings.Clone(name.s),
		AppID:      optString(obj, "app_id"),
		Time:       eventTime(obj, now),
		Properties: optObject(obj, "properties"),
		Request:    seq,
	}
	st.events = append(st.events, e)
	p.events++
}

// recordPurchase appends a purchase to the log and the profile.
func (st *state) recordPurchase(p *profile, obj *jv, now time.Time, seq int) {
	pid, _ := obj.get("product_id")
	cur, _ := obj.get("currency")
	price, _ := obj.get("price")
	pr, _ := toFloat(numberValue(price.s))
	qty := 1
	if q, ok := obj.get("quantity"); ok && q.k == kNumber {
		if n, ok := numberValue(q.s).(int64); ok {
			qty = int(n)
		}
	}
	st.purchases = append(st.purchases, Purchase{
		ExternalID: p.externalID,
		BrazeID:    p.brazeID,
		ProductID:  strings.Clone(pid.s),
		Currency:   strings.Clone(cur.s),
		Price:      pr,
		Quantity:   qty,
		AppID:      optString(obj, "app_id"),
		Time:       eventTime(obj, now),
		Properties: optObject(obj, "properties"),
		Request:    seq,
	})
	p.purchases++
}

// eventTime parses the object's time; Braze replaces a future time with the
// time it received the object.
func eventTime(obj *jv, now time.Time) time.Time {
	t, _ := obj.get("time")
	tm, _ := parseBrazeTime(t.s)
	if tm.After(now) {
		return now
	}
	return tm
}

func optString(obj *jv, key string) string {
	if v, ok := obj.get(key); ok && v.k == kString {
		return strings.Clone(v.s)
	}
	return ""
}

func optObject(obj *jv, key string) map[string]any {
	if v, ok := obj.get(key); ok && v.k == kObject {
		return v.toAny().(map[string]any)
	}
	return nil
}
