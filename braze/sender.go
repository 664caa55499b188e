package braze

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"
)

// Update is one object for TrackAll: exactly one of Attributes, Event and
// Purchase is set. Ref is any value of the caller's, handed back unchanged
// in the update's Result (a diff.Change, a row number).
type Update struct {
	Attributes *UserAttributes
	Event      *Event
	Purchase   *Purchase
	Ref        any
}

// ResultKind classifies a Result.
type ResultKind uint8

const (
	// Accepted: Braze queued the object.
	ResultAccepted ResultKind = iota
	// Rejected: Braze rejected this object alone (an *ItemError), or the
	// client did before sending (a *ValidationError). Resending the same
	// data fails again.
	ResultRejected
	// Failed: the object's request failed as a whole (an *APIError,
	// *RateLimitError or *RequestError after retries, or the context's
	// error), or TrackAll stopped before finishing it (a *StoppedError).
	// The object may be sent again later; after an ambiguous
	// *RequestError, or a *StoppedError with Sent, Braze may already have
	// applied it.
	ResultFailed
)

func (s ResultKind) String() string {
	switch s {
	case ResultAccepted:
		return "accepted"
	case ResultRejected:
		return "rejected"
	case ResultFailed:
		return "failed"
	}
	return fmt.Sprintf("ResultKind(%d)", uint8(s))
}

// Result is the outcome of one Update.
type Result struct {
	// Ref is the Update's Ref.
	Ref any
	// Err is nil when Braze accepted the object. Otherwise it is an
	// *ItemError (Braze rejected the object), a *ValidationError (the
	// client rejected it before sending), the error of its whole
	// request (*APIError, *RateLimitError, *RequestError, or the
	// context's error), or a *StoppedError when the run stopped on a
	// wrong key or an open circuit before the object's request finished.
	Err error
	// Seq is the update's position in the input stream, from 0.
	Seq int64
}

// Kind classifies the result by its error.
func (r Result) Kind() ResultKind {
	if r.Err == nil {
		return ResultAccepted
	}
	if errors.Is(r.Err, ErrRejected) || errors.Is(r.Err, ErrValidation) {
		return ResultRejected
	}
	return ResultFailed
}

// SendOption configures one TrackAll call.
type SendOption func(*sendConfig)

type sendConfig struct {
	maxObjects    int
	perArray      bool
	maxBytes      int
	concurrency   int
	breakFailures int           // circuit breaker: consecutive failed requests; 0 = off
	breakAfter    time.Duration // circuit breaker: time without success; 0 = off
}

// Defaults of TrackAll.
const (
	// DefaultBatchSize is the number of objects per request: Braze's
	// combined cap on current plans.
	DefaultBatchSize = 75
	// DefaultMaxRequestBytes caps the body of a request. Braze documents no
	// cap for /users/track; this is RudderStack's conservative choice.
	DefaultMaxRequestBytes = 4 << 20
	// DefaultConcurrency is the number of requests in flight. Braze's
	// default budget is 1,000 requests/s; at a typical 100-200 ms per
	// request, using all of it takes 100-200 requests in flight
	// (WithConcurrency), which the rate limiter then paces.
	DefaultConcurrency = 32
	// BulkBatchSize and BulkMaxRequestBytes are the defaults with
	// WithBulkEndpoint: /users/track/bulk takes up to 1,000 objects and 2 MB.
	BulkBatchSize       = 1000
	BulkMaxRequestBytes = 2_000_000
)

// WithBatchSize sets the most objects per request, counting attributes,
// events and purchases together (default 75, or 1,000 with
// WithBulkEndpoint; use 50 on contracts whose
// limit reads "50 objects combined"). With WithLegacyBatching it is the
// cap of each array instead.
func WithBatchSize(n int) SendOption {
	return func(c *sendConfig) {
		if n > 0 {
			c.maxObjects = n
		}
	}
}

// WithLegacyBatching applies the batch size to each array separately (75
// attributes, 75 events and 75 purchases per request), as on Braze's
// legacy rate-limit plans.
func WithLegacyBatching() SendOption {
	return func(c *sendConfig) { c.perArray = true }
}

// WithMaxRequestBytes caps the size of a request body (default 4 MiB, or
// 2 MB with WithBulkEndpoint). An
// object that alone exceeds the cap is rejected with a *ValidationError.
func WithMaxRequestBytes(n int) SendOption {
	return func(c *sendConfig) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// WithConcurrency sets how many requests are in flight at once (default
// 32). The client's rate limiter applies across all of them.
func WithConcurrency(n int) SendOption {
	return func(c *sendConfig) {
		if n > 0 {
			c.concurrency = n
		}
	}
}

// TrackAll sends any number of updates as /users/track requests and yields
// exactly one Result per update it pulls, in the order requests complete
// (objects of one request in input order).
//
// Updates are pulled lazily, one at a time, as the caller consumes results:
// a database cursor can feed TrackAll while results are acknowledged. The
// sender packs updates into requests within Braze's limits (WithBatchSize,
// WithLegacyBatching, WithMaxRequestBytes) and never puts two attributes
// objects of the same user in one request: the second starts a new
// request, sent only once every earlier request has completed, because
// Braze may apply concurrent requests in any order (collapse updates per
// user beforehand to keep full concurrency). It
// keeps up to WithConcurrency requests in flight, all sharing the client's
// rate limiter, each retried under the client's RetryPolicy. A request
// holding events, purchases, inc or $add is not retried after an ambiguous
// failure unless RetryPolicy.Ambiguous says so.
//
// Each update is validated (unless WithoutValidation); an invalid one, or
// one that is not exactly one of Attributes, Event and Purchase, gets a
// *ValidationError result at once and is not sent.
//
// The first 401 or 403 answer stops the run (the key or the instance is
// wrong, so every request would fail the same way), and so does the
// circuit breaker when the endpoint keeps failing (WithCircuitBreaker, on
// by default). No further request starts and requests in progress are
// abandoned; the request that got the 401 or 403 keeps its *APIError,
// and every other update pulled but not yet answered gets a *StoppedError
// whose cause matches ErrUnauthorized, ErrForbidden or ErrCircuitOpen.
// TrackAll then stops pulling updates and ends: updates still in the
// iterator get no Result (a delta engine plans them again).
//
// When ctx is cancelled, TrackAll stops pulling updates: every update
// already pulled but not yet answered gets a Result whose Err is the
// context's error (requests in flight are abandoned, and Braze may or may
// not have processed them). When the consumer stops iterating early,
// TrackAll also stops pulling, cancels requests in flight and waits for
// them; the results it could not deliver are discarded (such updates
// count as unacknowledged). TrackAll's goroutines never outlive the loop.
func (c *Client) TrackAll(ctx context.Context, updates iter.Seq[Update], opts ...SendOption) iter.Seq[Result] {
	cfg := sendConfig{maxObjects: DefaultBatchSize, maxBytes: DefaultMaxRequestBytes, concurrency: DefaultConcurrency,
		breakFailures: DefaultBreakerFailures, breakAfter: DefaultBreakerWithoutSuccess}
	if c.bulk {
		cfg.maxObjects, cfg.maxBytes = BulkBatchSize, BulkMaxRequestBytes
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return func(yield func(Result) bool) {
		if updates == nil {
			return
		}
		s := &sender{c: c, cfg: cfg, yield: yield, pending: make(map[userKey]int32)}
		s.run(ctx, updates)
	}
}

type sender struct {
	c     *Client
	cfg   sendConfig
	yield func(Result) bool

	work     chan *batch
	done     chan *batch
	inflight int
	free     []*batch
	stopped  bool // the consumer returned false
	keys     []string
	obj      []byte
	// pending counts, per user, the requests in flight holding an
	// attributes object of that user.
	pending map[userKey]int32
	cur     *batch   // the request being assembled
	halt    *halt    // set by a 401 or 403 answer or the breaker
	brk     *breaker // nil when the breaker is off
}

func (s *sender) run(parent context.Context, updates iter.Seq[Update]) {
	ctx, cancel := context.WithCancel(parent)
	s.halt = newHalt(cancel)
	if s.cfg.breakFailures > 0 || s.cfg.breakAfter > 0 {
		s.brk = newBreaker(s.halt, s.cfg.breakFailures, s.cfg.breakAfter)
		defer s.brk.close()
	}
	s.work = make(chan *batch)
	s.done = make(chan *batch, s.cfg.concurrency)
	var wg sync.WaitGroup
	for range s.cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range s.work {
				s.send(ctx, parent, b)
				s.done <- b
			}
		}()
	}
	defer func() {
		// Early stop: abandon requests in flight and wait for them, so no
		// goroutine outlives the call.
		cancel()
		close(s.work)
		for s.inflight > 0 {
			<-s.done
			s.inflight--
		}
		wg.Wait()
	}()

	s.cur = s.newBatch()
	var seq int64
	for u := range updates {
		n := seq
		seq++
		if cause := s.halt.err(); cause != nil {
			// Pulled before the stop was seen: answer it, pull no more.
			if !s.emit(Result{Ref: u.Ref, Err: &StoppedError{Cause: cause}, Seq: n}) {
				return
			}
			break
		}
		if err := parent.Err(); err != nil {
			if !s.emit(Result{Ref: u.Ref, Err: err, Seq: n}) {
				return
			}
			break
		}
		if !s.add(u, n) {
			return
		}
		if s.halt.err() != nil {
			// A wrong key or an open circuit: stop pulling updates.
			break
		}
	}
	cur := s.cur
	if cur.count() > 0 {
		if cause := s.halt.err(); cause != nil {
			// Never started: answer without sending.
			if !s.emitAll(cur, &StoppedError{Cause: cause}) {
				return
			}
		} else if err := parent.Err(); err != nil {
			if !s.emitAll(cur, err) {
				return
			}
		} else if !s.dispatch(cur) {
			return
		}
	}
	s.waitAll()
}

// add validates, encodes and batches one update, dispatching full
// batches. It returns false when the consumer has stopped.
func (s *sender) add(u Update, n int64) bool {
	arr, obj, user, idem, err := s.encode(u, n)
	if err != nil {
		if !s.emit(Result{Ref: u.Ref, Err: err, Seq: n}) {
			return false
		}
		return s.drainReady()
	}
	if len(obj)+64 > s.cfg.maxBytes {
		err := &ValidationError{Object: fmt.Sprintf("update %d", n), Reason: fmt.Sprintf("object of %d bytes does not fit the %d-byte request cap", len(obj), s.cfg.maxBytes)}
		return s.emit(Result{Ref: u.Ref, Err: err, Seq: n})
	}
	if arr == arrAttributes && s.pending[user] > 0 {
		// An earlier object of this user is in flight: Braze may
		// apply concurrent requests in any order, so let it land
		// before this one can be sent.
		if !s.waitAll() {
			return false
		}
	}
	if s.cur.count() > 0 {
		if fit, dup := s.fits(s.cur, arr, len(obj), user); !fit {
			if !s.dispatch(s.cur) {
				return false
			}
			s.cur = s.newBatch()
			// Braze may apply concurrent requests in any order: let
			// the user's earlier object land before sending the next.
			if dup && !s.waitAll() {
				return false
			}
		}
	}
	s.cur.add(arr, obj, u.Ref, n, idem)
	if arr == arrAttributes {
		s.cur.users[user] = struct{}{}
	}
	if s.full(s.cur) {
		if !s.dispatch(s.cur) {
			return false
		}
		s.cur = s.newBatch()
	}
	return s.drainReady()
}

// emitAll answers every object of a batch that was never sent with err,
// and recycles the batch.
func (s *sender) emitAll(b *batch, err error) bool {
	for i := range b.refs {
		if !s.emit(Result{Ref: b.refs[i], Err: err, Seq: b.seqs[i]}) {
			return false
		}
	}
	b.reset()
	s.free = append(s.free, b)
	return true
}

// send runs on a worker: it posts one batch unless the run has stopped,
// stops the run on a 401 or 403, and feeds the circuit breaker.
func (s *sender) send(ctx, parent context.Context, b *batch) {
	if cause := s.halt.err(); cause != nil {
		b.fill(&StoppedError{Cause: cause})
		return
	}
	if s.brk != nil {
		s.brk.begin()
	}
	err := s.c.sendBatch(ctx, b)
	switch {
	case err == nil || parent.Err() != nil:
	case stopsRun(err):
		s.halt.stop(err)
	case errors.Is(err, context.Canceled):
		if cause := s.halt.err(); cause != nil {
			// Cut short by the stop, not by the caller.
			b.fill(&StoppedError{Cause: cause, Sent: attemptsOf(err) > 0})
		}
	}
	if s.brk != nil {
		s.brk.end(requestFailed(err, parent, s.halt), err)
	}
}

// attemptsOf returns the number of HTTP attempts a request error reports.
func attemptsOf(err error) int {
	if re, ok := errors.AsType[*RequestError](err); ok {
		return re.Attempts
	}
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae.Attempts
	}
	return 0
}

func (s *sender) newBatch() *batch {
	if n := len(s.free); n > 0 {
		b := s.free[n-1]
		s.free = s.free[:n-1]
		return b
	}
	return newBatch()
}

func (s *sender) emit(r Result) bool {
	if s.stopped {
		return false
	}
	if !s.yield(r) {
		s.stopped = true
		return false
	}
	return true
}

// fits reports whether an object can join the batch, and whether it
// cannot because the batch already holds its user.
func (s *sender) fits(b *batch, arr array, size int, user userKey) (fit, dupUser bool) {
	if arr == arrAttributes {
		if _, dup := b.users[user]; dup {
			return false, true
		}
	}
	if s.cfg.perArray {
		if len(b.items[arr]) >= s.cfg.maxObjects {
			return false, false
		}
	} else if b.count() >= s.cfg.maxObjects {
		return false, false
	}
	extra := size + 1
	if len(b.items[arr]) == 0 {
		extra += len(arrayNames[arr]) + 6
	}
	return b.size()+extra <= s.cfg.maxBytes, false
}

// waitAll reports every batch in flight, waiting for them.
func (s *sender) waitAll() bool {
	for s.inflight > 0 {
		b := <-s.done
		s.inflight--
		if !s.report(b) {
			return false
		}
	}
	return true
}

func (s *sender) full(b *batch) bool {
	if s.cfg.perArray {
		return len(b.items[arrAttributes]) >= s.cfg.maxObjects &&
			len(b.items[arrEvents]) >= s.cfg.maxObjects &&
			len(b.items[arrPurchases]) >= s.cfg.maxObjects
	}
	return b.count() >= s.cfg.maxObjects
}

// encode validates and serialises one update.
func (s *sender) encode(u Update, seq int64) (arr array, obj []byte, user userKey, idempotent bool, err error) {
	set := 0
	if u.Attributes != nil {
		set++
	}
	if u.Event != nil {
		set++
	}
	if u.Purchase != nil {
		set++
	}
	if set != 1 {
		return 0, nil, user, false, &ValidationError{Object: fmt.Sprintf("update %d", seq), Reason: fmt.Sprintf("update must hold exactly one of Attributes, Event, Purchase (has %d)", set)}
	}
	name := func(kind string) string { return fmt.Sprintf("update %d (%s)", seq, kind) }
	obj = s.obj[:0]
	switch {
	case u.Attributes != nil:
		a := u.Attributes
		if s.c.validate {
			if err := a.validate(s.c.checks); err != nil {
				return 0, nil, user, false, withObject(err, name("attributes"))
			}
		}
		obj, err = a.appendJSON(obj, &s.keys)
		arr, user, idempotent = arrAttributes, attributesUser(a), a.idempotent()
		if err != nil {
			err = withObject(err, name("attributes"))
		}
	case u.Event != nil:
		if s.c.validate {
			if err := u.Event.validate(); err != nil {
				return 0, nil, user, false, withObject(err, name("event"))
			}
		}
		obj, err = u.Event.appendJSON(obj, &s.keys)
		arr = arrEvents
		if err != nil {
			err = withObject(err, name("event"))
		}
	default:
		if s.c.validate {
			if err := u.Purchase.validate(); err != nil {
				return 0, nil, user, false, withObject(err, name("purchase"))
			}
		}
		obj, err = u.Purchase.appendJSON(obj, &s.keys)
		arr = arrPurchases
		if err != nil {
			err = withObject(err, name("purchase"))
		}
	}
	s.obj = obj
	return arr, obj, user, idempotent, err
}

// dispatch hands a batch to a worker, reporting finished batches while it
// waits for one to be free.
func (s *sender) dispatch(b *batch) bool {
	for {
		select {
		case s.work <- b:
			s.inflight++
			for u := range b.users {
				s.pending[u]++
			}
			return true
		case d := <-s.done:
			s.inflight--
			if !s.report(d) {
				// b was never handed out; the caller stops.
				return false
			}
		}
	}
}

// drainReady reports every batch that has finished, without waiting.
func (s *sender) drainReady() bool {
	if len(s.done) == 0 { // cheaper than a select on every update
		return true
	}
	for {
		select {
		case d := <-s.done:
			s.inflight--
			if !s.report(d) {
				return false
			}
		default:
			return true
		}
	}
}

// report yields the results of a finished batch and recycles it.
func (s *sender) report(b *batch) bool {
	for u := range b.users {
		if s.pending[u] <= 1 {
			delete(s.pending, u)
		} else {
			s.pending[u]--
		}
	}
	for i := range b.refs {
		if !s.emit(Result{Ref: b.refs[i], Err: b.errs[i], Seq: b.seqs[i]}) {
			return false
		}
	}
	b.reset()
	s.free = append(s.free, b)
	return true
}

// sendBatch posts a batch and records one error (or nil) per object. It
// returns the request's error.
func (c *Client) sendBatch(ctx context.Context, b *batch) error {
	b.fill(nil)
	resp, err := c.post(ctx, b.buildBody(), b.idempotent)
	if err != nil {
		b.fill(err)
		// A fatal answer processed nothing, but when it names objects
		// (Braze answers 400 with errors[] when every object was refused
		// one by one) those objects are rejected for their own reason:
		// resending them unchanged would fail again. The others only
		// failed with the request and may be sent again.
		if apiErr, ok := errors.AsType[*APIError](err); ok && len(apiErr.Errors) > 0 {
			c.attachItemErrors(b, apiErr.Errors, true)
		}
		return err
	}
	c.attachItemErrors(b, resp.Errors, false)
	return nil
}

// attachItemErrors maps Braze's item errors, indexed within the array that
// input_array names, back to the batch's objects. With replace, an item
// error takes the place of the request's error for its object.
func (c *Client) attachItemErrors(b *batch, items []ItemError, replace bool) {
	seen := make(map[int32]bool, len(items))
	for _, ie := range items {
		var arr array
		switch ie.InputArray {
		case "attributes":
			arr = arrAttributes
		case "events":
			arr = arrEvents
		case "purchases":
			arr = arrPurchases
		default:
			c.logger.Warn("braze: item error names an unknown array", "input_array", ie.InputArray, "index", ie.Index, "type", ie.Type)
			continue
		}
		if ie.Index < 0 || ie.Index >= len(b.items[arr]) {
			c.logger.Warn("braze: item error names no object of the request", "input_array", ie.InputArray, "index", ie.Index, "type", ie.Type)
			continue
		}
		e := ie
		i := b.items[arr][ie.Index]
		switch {
		case replace && !seen[i], b.errs[i] == nil:
			b.errs[i] = &e
		default:
			b.errs[i] = errors.Join(b.errs[i], &e)
		}
		seen[i] = true
	}
}
