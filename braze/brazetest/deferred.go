package brazetest

import (
	"slices"
	"time"
)

// pendingRequest is an accepted request waiting for ApplyPending. It keeps
// the body and which objects were accepted; the body is parsed again when
// applied, so nothing borrowed from the request's parser outlives it.
type pendingRequest struct {
	body     string
	received time.Time
	seq      int
	accepted [][2]int // (array, index) of each accepted object, in request order
	dropAll  bool
}

// ApplyOrder is the order in which ApplyPending applies deferred requests.
type ApplyOrder int

const (
	// ArrivalOrder applies requests in the order they arrived.
	ArrivalOrder ApplyOrder = iota
	// ReverseOrder applies the latest request first: the worst case of
	// Braze's asynchronous processing for two updates to one user.
	ReverseOrder
	// ShuffledOrder applies requests in a random order drawn from the
	// server's seeded source (WithSeed).
	ShuffledOrder
)

// SetDeferredApply turns deferred mode on or off while the server runs (see
// WithDeferredApply). Turning it off does not apply what is pending.
func (s *Server) SetDeferredApply(on bool) { s.deferred.Store(on) }

// Pending returns how many accepted requests wait for ApplyPending.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// ApplyPending applies the deferred requests in the given order and returns
// how many it applied. Within one request objects are applied in request
// order, as Braze does.
func (s *Server) ApplyPending(order ApplyOrder) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.pending
	s.pending = nil
	switch order {
	case ReverseOrder:
		slices.Reverse(batch)
	case ShuffledOrder:
		s.fmu.Lock()
		s.rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		s.fmu.Unlock()
	}
	var p parser
	for _, pr := range batch {
		top, err := p.parse(pr.body)
		if err != nil { // cannot happen: the body parsed when it arrived
			p.reset()
			continue
		}
		var arrs [3]*jv
		for i, name := range arrayNames {
			if v, ok := top.get(name); ok && v.k == kArray {
				arrs[i] = v
			}
		}
		acc := make([]acceptedObject, 0, len(pr.accepted))
		var verdicts []verdict
		for _, ai := range pr.accepted {
			obj := &arrs[ai[0]].o[ai[1]].val
			id, _ := identify(obj)
			vstart := len(verdicts)
			if ai[0] == arrAttributes {
				verdicts, _, _ = s.validateAttributes(obj, ai[1], verdicts)
			}
			acc = append(acc, acceptedObject{arr: ai[0], index: ai[1], obj: obj, id: id, vstart: vstart})
		}
		s.applyLocked(acc, verdicts, pr.dropAll, pr.received, pr.seq, nil)
		p.reset()
	}
	return len(batch)
}
