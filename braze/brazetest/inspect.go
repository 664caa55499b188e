package brazetest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// User is a snapshot of one user profile. Attribute values are plain Go
// values: nil never appears (a null removes the attribute), numbers are
// int64 when written as integers and float64 otherwise, string arrays are
// []string, nested objects map[string]any and arrays of objects []any.
// Standard fields (first_name, dob, email, ...) are attributes too, under
// their Braze names; country is stored upper-cased.
type User struct {
	ExternalID string
	BrazeID    string // assigned by the fake: 24 hex digits, in creation order
	Aliases    []Alias
	Attributes map[string]any
	Events     int // events recorded on this profile
	Purchases  int // purchase objects recorded on this profile
	Created    time.Time
	Updated    time.Time
}

// String returns a string attribute.
func (u User) String(name string) (string, bool) {
	v, ok := u.Attributes[name].(string)
	return v, ok
}

// Int returns an integer attribute.
func (u User) Int(name string) (int64, bool) {
	v, ok := u.Attributes[name].(int64)
	return v, ok
}

// Float returns a number attribute (an integer one converted).
func (u User) Float(name string) (float64, bool) {
	return toFloat(u.Attributes[name])
}

// Bool returns a boolean attribute.
func (u User) Bool(name string) (bool, bool) {
	v, ok := u.Attributes[name].(bool)
	return v, ok
}

// Strings returns a string array attribute.
func (u User) Strings(name string) ([]string, bool) {
	v, ok := u.Attributes[name].([]string)
	return v, ok
}

// Object returns a nested object attribute.
func (u User) Object(name string) (map[string]any, bool) {
	v, ok := u.Attributes[name].(map[string]any)
	return v, ok
}

// Objects returns an array-of-objects attribute.
func (u User) Objects(name string) ([]map[string]any, bool) {
	arr, ok := u.Attributes[name].([]any)
	if !ok {
		return nil, false
	}
	out := make([]map[string]any, 0, len(arr))
	for _, x := range arr {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out, true
}

// Event is an event the fake recorded on a profile.
type Event struct {
	ExternalID string // the profile's external_id ("" for alias-only and anonymous profiles)
	BrazeID    string
	Name       string
	AppID      string
	Time       time.Time // the event time; a future time is replaced by the receipt time, as Braze does
	Properties map[string]any
	Request    int // Seq of the request that carried it
}

// Purchase is a purchase object the fake recorded on a profile. Braze counts
// a purchase of quantity N as N purchases; the fake keeps one record with
// Quantity N.
type Purchase struct {
	ExternalID string
	BrazeID    string
	ProductID  string
	Currency   string
	Price      float64
	Quantity   int
	AppID      string
	Time       time.Time
	Properties map[string]any
	Request    int
}

// Request is one request the server received.
type Request struct {
	Seq      int // 1-based arrival order
	Method   string
	Path     string
	Header   http.Header // a copy; the Authorization key is redacted
	Body     string      // as received
	Status   int         // the status answered; 0 when the connection was cut
	Response string      // the response body ("" when the connection was cut)
	Received time.Time
	// Notes lists what the server did beyond its answer: faults applied,
	// nested updates dropped, objects that updated nothing.
	Notes []string
}

// Payload decodes the body as JSON, numbers as json.Number. It returns nil
// when the body is not a JSON object.
func (r Request) Payload() map[string]any {
	d := json.NewDecoder(strings.NewReader(r.Body))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// Bulk reports whether the request carried X-Braze-Bulk. Braze treats any
// value as bulk, "false" included.
func (r Request) Bulk() bool { return len(r.Header.Values("X-Braze-Bulk")) > 0 }

// Stats counts what the server saw since it started or since Reset.
type Stats struct {
	Requests     int // every request received
	Accepted     int // answered 2xx
	BadRequests  int // answered 400 (and 404, 405, 413)
	AuthFailures int // answered 401 or 403
	RateLimited  int // answered 429 by the rate limit
	Faults       int // answered by an injected fault (status or cut connection)

	AttributesProcessed int // accepted attribute objects
	EventsProcessed     int // accepted event objects
	PurchasesProcessed  int // accepted purchase objects
	ObjectErrors        int // entries in errors[] of 201 and 400 answers
	Skipped             int // accepted objects that updated nothing (update-only, unknown user)
}

// User returns the profile with the given external_id.
func (s *Server) User(externalID string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.byExt[externalID]
	if p == nil {
		return User{}, false
	}
	return p.snapshot(), true
}

// UserByAlias returns the profile holding the alias.
func (s *Server) UserByAlias(name, label string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.byAlias[Alias{Name: name, Label: label}]
	if p == nil {
		return User{}, false
	}
	return p.snapshot(), true
}

// UserByEmail returns the profile an object identified by this email would
// update (Braze's rule: the most recently updated profile with an
// external_id, else the most recently updated one).
func (s *Server) UserByEmail(email string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := mostRecent(s.st.byEmail[email])
	if p == nil {
		return User{}, false
	}
	return p.snapshot(), true
}

// Users returns every profile, in creation order.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, len(s.st.profiles))
	for i, p := range s.st.profiles {
		out[i] = p.snapshot()
	}
	return out
}

// Events returns the recorded events in the order they were applied.
// Duplicates are kept: Braze records every event it receives.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.st.events)
	for i := range out {
		out[i].Properties = cloneMap(out[i].Properties)
	}
	return out
}

// Purchases returns the recorded purchases in the order they were applied.
func (s *Server) Purchases() []Purchase {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.st.purchases)
	for i := range out {
		out[i].Properties = cloneMap(out[i].Properties)
	}
	return out
}

// Requests returns the most recent requests (see WithRequestHistory and
// WithRequestHistoryBytes), oldest first.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.reqs[s.reqHead:]...)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Reset forgets every profile, event, purchase, recorded request and
// counter. Faults and the rate limit stay as they are.
func (s *Server) Reset() {
	s.mu.Lock()
	s.st = newState(s.cfg.arrayMax)
	s.stats = Stats{}
	s.mu.Unlock()
	s.reqMu.Lock()
	s.reqs, s.reqHead, s.reqBytes = nil, 0, 0
	s.reqMu.Unlock()
}

func (p *profile) snapshot() User {
	return User{
		ExternalID: p.externalID,
		BrazeID:    p.brazeID,
		Aliases:    slices.Clone(p.aliases),
		Attributes: cloneMap(p.attrs),
		Events:     p.events,
		Purchases:  p.purchases,
		Created:    p.created,
		Updated:    p.updated,
	}
}

func (s *Server) record(r Request) {
	if s.cfg.history <= 0 {
		return
	}
	size := r.size()
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.reqs = append(s.reqs, r)
	s.reqBytes += size
	// Drop the oldest requests past either bound; the newest is kept even
	// when it alone is over the byte bound.
	for n := len(s.reqs) - s.reqHead; n > 1 && (n > s.cfg.history || (s.cfg.historyBytes > 0 && s.reqBytes > s.cfg.historyBytes)); n-- {
		s.reqBytes -= s.reqs[s.reqHead].size()
		s.reqs[s.reqHead] = Request{}
		s.reqHead++
	}
	if s.reqHead > 64 && s.reqHead >= len(s.reqs)/2 {
		// Reuse the dropped front of the slice instead of growing it.
		n := copy(s.reqs, s.reqs[s.reqHead:])
		clear(s.reqs[n:])
		s.reqs, s.reqHead = s.reqs[:n], 0
	}
}

// size estimates the memory a recorded request holds.
func (r *Request) size() int64 {
	n := int64(len(r.Body) + len(r.Response) + len(r.Method) + len(r.Path) + 256)
	for k, vs := range r.Header {
		n += int64(len(k)) + 16
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	for _, note := range r.Notes {
		n += int64(len(note)) + 16
	}
	return n
}
