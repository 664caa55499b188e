package braze

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Defaults of the circuit breaker TrackAll runs unless told otherwise
// (WithCircuitBreaker).
const (
	// DefaultBreakerFailures is the number of consecutive failed requests
	// (each after its retries) that opens the circuit: with the default
	// retry policy that is 30 attempts answered by nothing but errors.
	DefaultBreakerFailures = 5
	// DefaultBreakerWithoutSuccess is how long requests may be in progress
	// without any of them succeeding before the circuit opens. It covers an
	// endpoint that hangs instead of failing, where counting failures would
	// wait for every attempt's timeout. Time with no request in progress
	// (a slow producer) does not count.
	DefaultBreakerWithoutSuccess = 2 * time.Minute
)

// WithCircuitBreaker sets when TrackAll gives up on an endpoint that is
// down: after consecutiveFailures requests in a row failed as a whole
// (after their retries: 5xx, 429 with the retries exhausted, transport
// errors and timeouts), or after requests have been in progress for
// withoutSuccess with none succeeding. An answer that is not such a
// failure (a success, even with objects rejected, or a 400) resets both.
// A zero or negative value turns that criterion off; WithCircuitBreaker(0, 0)
// turns the breaker off, so that every batch is tried with its full retry
// budget however long the outage lasts.
//
// The breaker is on by default (DefaultBreakerFailures,
// DefaultBreakerWithoutSuccess). When it opens, TrackAll stops as it does
// on a wrong key: see TrackAll and CircuitOpenError.
func WithCircuitBreaker(consecutiveFailures int, withoutSuccess time.Duration) SendOption {
	return func(c *sendConfig) {
		c.breakFailures = max(consecutiveFailures, 0)
		c.breakAfter = max(withoutSuccess, 0)
	}
}

// ErrCircuitOpen is matched (with errors.Is) by a *CircuitOpenError.
var ErrCircuitOpen = errors.New("braze: circuit open: the endpoint kept failing")

// CircuitOpenError says why TrackAll's circuit breaker stopped the run. It
// reaches the caller inside the *StoppedError of every update the run did
// not finish.
type CircuitOpenError struct {
	// Failures is the number of consecutive failed requests when the
	// circuit opened.
	Failures int
	// WithoutSuccess is how long requests had been in progress without a
	// success.
	WithoutSuccess time.Duration
	// Reason names the criterion that tripped: "5 consecutive failed
	// requests" or "no successful request for 2m0s".
	Reason string
	// Last is the error of the last failed request; nil when the circuit
	// opened on time while requests were still hanging.
	Last error
}

func (e *CircuitOpenError) Error() string {
	s := "braze: circuit open after " + e.Reason
	if e.Last != nil {
		s += "; last request error: " + e.Last.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrCircuitOpen) true.
func (e *CircuitOpenError) Is(target error) bool { return target == ErrCircuitOpen }

// Unwrap returns the last request's error.
func (e *CircuitOpenError) Unwrap() error { return e.Last }

// NotApplied reports true: an update carrying this error was not sent
// (see StoppedError for one whose request was abandoned).
func (e *CircuitOpenError) NotApplied() bool { return true }

// StoppedError is the Result error of an update that TrackAll did not
// finish because the run stopped early: the API key was refused (Cause is
// the *APIError of the 401 or 403 answer, matching ErrUnauthorized or
// ErrForbidden) or the circuit breaker opened (Cause is a
// *CircuitOpenError, matching ErrCircuitOpen). errors.Is and errors.As see
// through it to the cause.
type StoppedError struct {
	// Cause is why the run stopped.
	Cause error
	// Sent reports that the update's request had already made an attempt
	// when the run stopped and was abandoned: Braze may have processed it.
	// When false, the update was never sent.
	Sent bool
}

func (e *StoppedError) Error() string {
	if e.Sent {
		return "braze: request abandoned (it may have been processed), TrackAll stopped: " + e.Cause.Error()
	}
	return "braze: not sent, TrackAll stopped: " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *StoppedError) Unwrap() error { return e.Cause }

// NotApplied reports whether the update was certainly not applied: true
// when it was never sent.
func (e *StoppedError) NotApplied() bool { return !e.Sent }

// halt is the stop state shared by the sender and its workers. It is set
// once, by the first 401 or 403 answer or by the breaker, and cancels
// every request still in progress.
type halt struct {
	mu     sync.Mutex
	cause  error
	cancel context.CancelFunc
	done   chan struct{} // closed when cause is set
}

func newHalt(cancel context.CancelFunc) *halt {
	return &halt{cancel: cancel, done: make(chan struct{})}
}

// stop records the cause unless one is recorded already, and cancels the
// requests in progress.
func (h *halt) stop(cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cause != nil {
		return
	}
	h.cause = cause
	close(h.done)
	h.cancel()
}

// err returns the cause, nil while the run goes on.
func (h *halt) err() error {
	select {
	case <-h.done:
	default:
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cause
}

// stopsRun reports whether a request error stops the whole run: a 401 or
// 403 answer, which every later request with the same key would get too.
func stopsRun(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden)
}

// breaker counts failed requests and time without success, and stops the
// run through h when either passes its limit.
type breaker struct {
	h        *halt
	failures int           // 0: no limit
	after    time.Duration // 0: no limit

	mu          sync.Mutex
	consecutive int
	inflight    int
	since       time.Time // start of the current stretch without success
	last        error
	timer       *time.Timer
	closed      bool
}

func newBreaker(h *halt, failures int, after time.Duration) *breaker {
	return &breaker{h: h, failures: failures, after: after}
}

// begin is called when a request starts.
func (b *breaker) begin() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inflight == 0 && b.consecutive == 0 {
		// Idle time (the producer was slow) is not time without success.
		b.since = time.Now()
	}
	b.inflight++
	if b.after > 0 && b.timer == nil && !b.closed {
		b.timer = time.AfterFunc(b.after, b.check)
	}
}

// end is called when a request has finished; failed reports a request
// that failed as a whole after its retries.
func (b *breaker) end(failed bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight--
	now := time.Now()
	if !failed {
		b.consecutive = 0
		b.since = now
		return
	}
	b.consecutive++
	b.last = err
	switch {
	case b.failures > 0 && b.consecutive >= b.failures:
		b.tripLocked(fmt.Sprintf("%d consecutive failed requests", b.consecutive), now)
	case b.after > 0 && now.Sub(b.since) >= b.after:
		b.tripLocked("no successful request for "+now.Sub(b.since).Round(time.Millisecond).String(), now)
	}
}

// check runs on the timer: it opens the circuit when requests have been in
// progress without success for the limit, and otherwise waits again.
func (b *breaker) check() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	now := time.Now()
	waited := now.Sub(b.since)
	if (b.inflight > 0 || b.consecutive > 0) && waited >= b.after {
		b.tripLocked("no successful request for "+waited.Round(time.Millisecond).String(), now)
		return
	}
	next := b.after
	if b.inflight > 0 || b.consecutive > 0 {
		next = b.after - waited
	}
	b.timer.Reset(next)
}

func (b *breaker) tripLocked(reason string, now time.Time) {
	if b.closed {
		return
	}
	b.closed = true
	if b.timer != nil {
		b.timer.Stop()
	}
	b.h.stop(&CircuitOpenError{Failures: b.consecutive, WithoutSuccess: now.Sub(b.since), Reason: reason, Last: b.last})
}

// close stops the timer at the end of the run.
func (b *breaker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.timer != nil {
		b.timer.Stop()
	}
}

// requestFailed classifies a finished request for the breaker: a whole
// request that failed after its retries (5xx, 429 exhausted, transport
// error, timeout). A 4xx answer is the endpoint working; a cancellation
// by the caller or by the run's own stop is not the endpoint's fault.
func requestFailed(err error, parent context.Context, h *halt) bool {
	if err == nil || parent.Err() != nil || h.err() != nil {
		return false
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	var re *RequestError
	return errors.As(err, &re)
}
