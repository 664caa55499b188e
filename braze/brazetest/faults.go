package brazetest

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// A Fault is one fault-injection rule. Rules are checked in the order they
// were added, on every request before anything else (as a gateway failure
// would be); each rule that fires adds its Delay, and the first one that
// fires with a Status or Disconnect decides the answer.
type Fault struct {
	// Status, when not zero, is answered instead of the real response, with
	// the body {"message": "<status text>"} (500, 502, 503, 504, 429...).
	Status int
	// Disconnect closes the connection without any response once the body
	// has been read: the client cannot know whether Braze got the request.
	Disconnect bool
	// Apply processes the request (state updated, events recorded) before
	// answering Status or disconnecting: the "applied, but the client saw a
	// failure" case that makes retries of events and inc unsafe.
	Apply bool
	// Delay holds the response back (also when the rule has no Status).
	// The wait ends early if the client gives up.
	Delay time.Duration
	// Count is how many requests the rule hits before it retires; 0 means
	// no limit.
	Count int
	// Probability is the chance that the rule hits a request, drawn from
	// the server's seeded source (WithSeed); 0 means every request.
	Probability float64
	// Header is added to the Status response, for example a standard
	// Retry-After on a 503 or X-RateLimit-Retry-After on a 429.
	Header http.Header
}

type faultRule struct {
	Fault
	left int
}

// decision is what the fault rules decided for one request.
type decision struct {
	delay      time.Duration
	status     int
	disconnect bool
	apply      bool
	header     http.Header
	notes      []string
}

// AddFault adds a fault rule; it takes effect for the next request.
func (s *Server) AddFault(f Fault) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = append(s.faults, &faultRule{Fault: f, left: f.Count})
}

// FailNext answers the next n requests with status, without processing them.
func (s *Server) FailNext(n, status int) { s.AddFault(Fault{Status: status, Count: n}) }

// FailRandomly answers the given fraction of requests with status, without
// processing them. The choice is deterministic for a given seed and request
// order (WithSeed).
func (s *Server) FailRandomly(fraction float64, status int) {
	if fraction <= 0 {
		return
	}
	s.AddFault(Fault{Status: status, Probability: fraction})
}

// DelayResponses sets a delay added to every response (on top of any Fault
// delays); 0 turns it off. ClearFaults resets it too.
func (s *Server) DelayResponses(d time.Duration) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.delay = max(d, 0)
}

// DisconnectNext cuts the connection of the next n requests after reading
// their bodies. With applied true the requests are processed first, so
// their updates, events and purchases take effect although the client sees
// only a transport error. Cutting needs a real connection (NewServer,
// Start, or your own http.Server): on a ResponseWriter that cannot be
// hijacked the handler panics with http.ErrAbortHandler, which net/http
// servers treat as an aborted response.
func (s *Server) DisconnectNext(n int, applied bool) {
	s.AddFault(Fault{Disconnect: true, Apply: applied, Count: n})
}

// ClearFaults removes every fault rule and object reject rule and the
// DelayResponses delay.
func (s *Server) ClearFaults() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults, s.rejects, s.delay = nil, nil, 0
}

// decide runs the fault rules for one request.
func (s *Server) decide() decision {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	d := decision{delay: s.delay}
	if len(s.faults) == 0 {
		return d
	}
	decided := false
	kept := s.faults[:0]
	for _, r := range s.faults {
		fire := r.Probability <= 0 || r.Probability >= 1 || s.rng.Float64() < r.Probability
		if fire {
			d.delay += r.Delay
			if !decided && (r.Status != 0 || r.Disconnect) {
				decided = true
				d.status, d.disconnect, d.apply, d.header = r.Status, r.Disconnect, r.Apply, r.Header
				switch {
				case r.Disconnect:
					d.notes = append(d.notes, "fault: connection cut (applied="+strconv.FormatBool(r.Apply)+")")
				default:
					d.notes = append(d.notes, "fault: answered "+strconv.Itoa(r.Status)+" (applied="+strconv.FormatBool(r.Apply)+")")
				}
			}
			if r.Count > 0 {
				r.left--
			}
		}
		if r.Count == 0 || r.left > 0 {
			kept = append(kept, r)
		}
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return d
}

// Object is what a reject predicate sees of one object of a request.
type Object struct {
	Array      string // "attributes", "events" or "purchases"
	Index      int    // position within that array
	ExternalID string // "" when the object has none
	Fields     map[string]any
}

type rejectRule struct {
	match   func(Object) bool
	errType string
}

// RejectObjects makes every object for which match returns true fail with
// the given error type in errors[] (the rest of the request is processed).
// match must be safe for concurrent calls.
func (s *Server) RejectObjects(match func(Object) bool, errType string) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.rejects = append(s.rejects, rejectRule{match: match, errType: errType})
}

// RejectExternalIDs rejects every object whose external_id matches, with
// the error Braze gives for a disallowed ID. Braze's exact wording is not
// documented; this one follows its "blacklisted and disallowed" phrase.
func (s *Server) RejectExternalIDs(match func(externalID string) bool) {
	s.RejectObjects(func(o Object) bool { return o.ExternalID != "" && match(o.ExternalID) },
		"'external_id' is blacklisted and disallowed")
}

func (s *Server) rejectRules() []rejectRule {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.rejects
}

// HeaderStyle selects how rate-limit headers are sent. Braze's documentation
// and RudderStack's description of it disagree; each style lets the client's
// handling of one reading be tested.
type HeaderStyle int

const (
	// HeadersEpoch sends X-RateLimit-Limit, -Remaining and -Reset on every
	// response, Reset as UTC epoch seconds (Braze's rate-limits page).
	HeadersEpoch HeaderStyle = iota
	// HeadersDelta is HeadersEpoch with Reset as seconds until the window
	// resets (RudderStack's README).
	HeadersDelta
	// HeadersRetryAfterOnly sends the three headers (epoch Reset) on
	// accepted requests, and on a 429 only X-RateLimit-Retry-After
	// (RudderStack's description of the 429).
	HeadersRetryAfterOnly
	// HeadersNone sends no rate-limit headers at all.
	HeadersNone
)

// RateLimit is a request budget per fixed window, like Braze's 3,000
// requests per 3 seconds (BrazeRateLimit, BrazeRateWindow). Requests over
// the budget are answered 429 and not processed. Windows are aligned to
// multiples of Window since the Unix epoch.
type RateLimit struct {
	Limit   int           // requests per window; 0 turns the limit off
	Window  time.Duration // default BrazeRateWindow
	Headers HeaderStyle
	// RetryAfter adds X-RateLimit-Retry-After (seconds) to 429s in the
	// HeadersEpoch and HeadersDelta styles.
	RetryAfter bool
}

// SetRateLimit replaces the rate limit while the server runs and starts a
// fresh window. RateLimit{} turns it off; without a limit the server sends
// no rate-limit headers.
func (s *Server) SetRateLimit(rl RateLimit) {
	if rl.Window <= 0 {
		rl.Window = BrazeRateWindow
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.rl = rl
	s.rlStart, s.rlUsed = time.Time{}, 0
}

// takeToken consumes one request of the budget and sets the headers. It
// reports false when the budget is spent.
func (s *Server) takeToken(h http.Header, now time.Time) bool {
	s.fmu.Lock()
	rl := s.rl
	if rl.Limit <= 0 {
		s.fmu.Unlock()
		return true
	}
	start := now.Truncate(rl.Window)
	if !start.Equal(s.rlStart) {
		s.rlStart, s.rlUsed = start, 0
	}
	ok := s.rlUsed < rl.Limit
	if ok {
		s.rlUsed++
	}
	remaining := rl.Limit - s.rlUsed
	s.fmu.Unlock()

	reset := start.Add(rl.Window)
	wait := ceilSeconds(reset.Sub(now))
	epoch := strconv.FormatInt(ceilSeconds(time.Duration(reset.UnixNano())), 10)
	setLimits := func(resetValue string) {
		h.Set("X-RateLimit-Limit", strconv.Itoa(rl.Limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", resetValue)
	}
	switch rl.Headers {
	case HeadersEpoch:
		setLimits(epoch)
	case HeadersDelta:
		setLimits(strconv.FormatInt(wait, 10))
	case HeadersRetryAfterOnly:
		if ok {
			setLimits(epoch)
		}
	}
	if !ok && (rl.Headers == HeadersRetryAfterOnly || (rl.RetryAfter && rl.Headers != HeadersNone)) {
		h.Set("X-RateLimit-Retry-After", strconv.FormatInt(wait, 10))
	}
	return ok
}

func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
