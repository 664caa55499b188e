package braze

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
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

// Status classifies a Result.
type Status uint8

const (
	// Accepted: Braze queued the object.
	Accepted Status = iota
	// Rejected: Braze rejected this object alone (an *ItemError), or the
	// client did before sending (a *ValidationError). Resending the same
	// data fails again.
	Rejected
	// Failed: the object's request failed as a whole (an *APIError,
	// *RateLimitError or *RequestError after retries, or the context's
	// error). The object may be sent again later; after an ambiguous
	// *RequestError Braze may already have applied it.
	Failed
)

func (s Status) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Result is the outcome of one Update.
type Result struct {
	// Ref is the Update's Ref.
	Ref any
	// Err is nil when Braze accepted the object. Otherwise it is an
	// *ItemError (Braze rejected the object), a *ValidationError (the
	// client rejected it before sending), or the error of its whole
	// request: *APIError, *RateLimitError, *RequestError, or the
	// context's error.
	Err error
	// Seq is the update's position in the input stream, from 0.
	Seq int64
}

// Status classifies the result by its error.
func (r Result) Status() Status {
	if r.Err == nil {
		return Accepted
	}
	if errors.Is(r.Err, ErrRejected) || errors.Is(r.Err, ErrValidation) {
		return Rejected
	}
	return Failed
}

// SendOption configures one TrackAll call.
type SendOption func(*sendConfig)

type sendConfig struct {
	maxObjects  int
	perArray    bool
	maxBytes    int
	concurrency int
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

// array identifies one of the three arrays of a request.
type array uint8

const (
	arrAttributes array = iota
	arrEvents
	arrPurchases
)

var arrayNames = [...]string{"attributes", "events", "purchases"}

// userKey identifies the user of an attributes object, to keep two objects
// of one user out of one request.
type userKey struct {
	kind uint8
	a, b string
}

func attributesUser(a *UserAttributes) userKey {
	switch {
	case a.ExternalID != "":
		return userKey{kind: 1, a: a.ExternalID}
	case a.BrazeID != "":
		return userKey{kind: 2, a: a.BrazeID}
	case a.UserAlias != nil:
		return userKey{kind: 3, a: a.UserAlias.Name, b: a.UserAlias.Label}
	case a.Email.hasValue():
		return userKey{kind: 4, a: a.Email.value}
	case a.Phone.hasValue():
		return userKey{kind: 5, a: a.Phone.value}
	}
	return userKey{kind: 6, a: ""} // push token import: no user identity
}

// batch is one request being assembled, then sent, then reported.
type batch struct {
	bufs       [3][]byte  // comma-separated object JSON per array
	items      [3][]int32 // indexes into refs per array, in array order
	refs       []any
	seqs       []int64
	errs       []error
	users      map[userKey]struct{}
	idempotent bool
	body       []byte
}

func newBatch() *batch {
	return &batch{users: make(map[userKey]struct{}, DefaultBatchSize), idempotent: true}
}

func (b *batch) reset() {
	for i := range b.bufs {
		b.bufs[i] = b.bufs[i][:0]
		b.items[i] = b.items[i][:0]
	}
	clear(b.refs)
	b.refs = b.refs[:0]
	b.seqs = b.seqs[:0]
	clear(b.errs)
	b.errs = b.errs[:0]
	clear(b.users)
	b.idempotent = true
	b.body = b.body[:0]
}

func (b *batch) count() int { return len(b.refs) }

// size is the body size if obj were added to array arr.
func (b *batch) size() int {
	n := 2 // {}
	for i := range b.bufs {
		if len(b.items[i]) > 0 {
			n += len(arrayNames[i]) + 6 + len(b.bufs[i]) // "name":[...],
		}
	}
	return n
}

func (b *batch) add(arr array, obj []byte, ref any, seq int64, idempotent bool) {
	if len(b.items[arr]) > 0 {
		b.bufs[arr] = append(b.bufs[arr], ',')
	}
	b.bufs[arr] = append(b.bufs[arr], obj...)
	b.items[arr] = append(b.items[arr], int32(len(b.refs)))
	b.refs = append(b.refs, ref)
	b.seqs = append(b.seqs, seq)
	b.idempotent = b.idempotent && idempotent
}

// buildBody assembles the request body into b.body.
func (b *batch) buildBody() []byte {
	body := append(b.body[:0], '{')
	first := true
	for i := range b.bufs {
		if len(b.items[i]) == 0 {
			continue
		}
		if !first {
			body = append(body, ',')
		}
		first = false
		body = append(body, '"')
		body = append(body, arrayNames[i]...)
		body = append(body, `":[`...)
		body = append(body, b.bufs[i]...)
		body = append(body, ']')
	}
	body = append(body, '}')
	b.body = body
	return body
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
// When ctx is cancelled, TrackAll stops pulling updates: every update
// already pulled but not yet answered gets a Result whose Err is the
// context's error (requests in flight are abandoned, and Braze may or may
// not have processed them). When the consumer stops iterating early,
// TrackAll also stops pulling, cancels requests in flight and waits for
// them; the results it could not deliver are discarded (such updates
// count as unacknowledged). TrackAll's goroutines never outlive the loop.
func (c *Client) TrackAll(ctx context.Context, updates iter.Seq[Update], opts ...SendOption) iter.Seq[Result] {
	cfg := sendConfig{maxObjects: DefaultBatchSize, maxBytes: DefaultMaxRequestBytes, concurrency: DefaultConcurrency}
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
}

func (s *sender) run(parent context.Context, updates iter.Seq[Update]) {
	ctx, cancel := context.WithCancel(parent)
	s.work = make(chan *batch)
	s.done = make(chan *batch, s.cfg.concurrency)
	var wg sync.WaitGroup
	for range s.cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range s.work {
				s.c.sendBatch(ctx, b)
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

	cur := s.newBatch()
	var seq int64
	for u := range updates {
		n := seq
		seq++
		if err := parent.Err(); err != nil {
			if !s.emit(Result{Ref: u.Ref, Err: err, Seq: n}) {
				return
			}
			break
		}
		arr, obj, user, idem, err := s.encode(u, n)
		if err != nil {
			if !s.emit(Result{Ref: u.Ref, Err: err, Seq: n}) {
				return
			}
			if !s.drainReady() {
				return
			}
			continue
		}
		if len(obj)+64 > s.cfg.maxBytes {
			err := &ValidationError{Object: fmt.Sprintf("update %d", n), Reason: fmt.Sprintf("object of %d bytes does not fit the %d-byte request cap", len(obj), s.cfg.maxBytes)}
			if !s.emit(Result{Ref: u.Ref, Err: err, Seq: n}) {
				return
			}
			continue
		}
		if arr == arrAttributes && s.pending[user] > 0 {
			// An earlier object of this user is in flight: Braze may
			// apply concurrent requests in any order, so let it land
			// before this one can be sent.
			if !s.waitAll() {
				return
			}
		}
		if cur.count() > 0 {
			if fit, dup := s.fits(cur, arr, len(obj), user); !fit {
				if !s.dispatch(cur) {
					return
				}
				cur = s.newBatch()
				// Braze may apply concurrent requests in any order: let
				// the user's earlier object land before sending the next.
				if dup && !s.waitAll() {
					return
				}
			}
		}
		cur.add(arr, obj, u.Ref, n, idem)
		if arr == arrAttributes {
			cur.users[user] = struct{}{}
		}
		if s.full(cur) {
			if !s.dispatch(cur) {
				return
			}
			cur = s.newBatch()
		}
		if !s.drainReady() {
			return
		}
	}
	if cur.count() > 0 {
		if err := parent.Err(); err != nil {
			// Never started: answer without sending.
			for i := range cur.refs {
				if !s.emit(Result{Ref: cur.refs[i], Err: err, Seq: cur.seqs[i]}) {
					return
				}
			}
		} else if !s.dispatch(cur) {
			return
		}
	}
	s.waitAll()
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
			if err := a.validate(s.c.maxArray); err != nil {
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

// sendBatch posts a batch and records one error (or nil) per object.
func (c *Client) sendBatch(ctx context.Context, b *batch) {
	b.errs = b.errs[:0]
	for range b.refs {
		b.errs = append(b.errs, nil)
	}
	resp, err := c.post(ctx, b.buildBody(), b.idempotent)
	if err != nil {
		for i := range b.errs {
			b.errs[i] = err
		}
		// A fatal answer processed nothing, but when it names objects
		// (Braze answers 400 with errors[] when every object was refused
		// one by one) those objects are rejected for their own reason:
		// resending them unchanged would fail again. The others only
		// failed with the request and may be sent again.
		if apiErr, ok := errors.AsType[*APIError](err); ok && len(apiErr.Errors) > 0 {
			c.attachItemErrors(b, apiErr.Errors, true)
		}
		return
	}
	c.attachItemErrors(b, resp.Errors, false)
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
