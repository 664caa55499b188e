package brazetest

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

// Server is a fake Braze REST endpoint serving POST /users/track and
// POST /users/track/bulk. It is an http.Handler, so it can also be mounted
// in another mux or driven with ServeHTTP directly. All methods are safe for
// concurrent use, including while requests are being served.
type Server struct {
	// URL is the base URL of the running server ("http://127.0.0.1:port"),
	// to be given to the client as its REST endpoint. Empty for a Server
	// made with NewHandler.
	URL string

	cfg config
	tb  testing.TB // nil when built by Start or NewHandler
	ts  *httptest.Server
	val validator
	seq atomic.Int64

	mu       sync.Mutex // guards st, stats and pending
	st       *state
	stats    Stats
	pending  []pendingRequest
	deferred atomic.Bool

	reqMu    sync.Mutex
	reqs     []Request // oldest first, from reqHead
	reqHead  int
	reqBytes int64 // estimated size of reqs[reqHead:]

	fmu     sync.Mutex // guards faults, rejects, rate limit and rng
	faults  []*faultRule
	rejects []rejectRule
	delay   time.Duration // DelayResponses
	rl      RateLimit
	rlStart time.Time
	rlUsed  int
	rng     *rand.Rand

	parsers sync.Pool // *parser, reused across requests
	bufs    sync.Pool // *[]byte, request body buffers
}

// NewServer starts a fake Braze on a loopback port and closes it when the
// test ends. Use srv.Client() for a braze.Client pointed at it.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewHandler(opts...)
	s.tb = t
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake Braze on a loopback port outside of a test (for
// examples and local demos). The caller must Close it.
func Start(opts ...Option) *Server {
	s := NewHandler(opts...)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// NewHandler returns a fake Braze that is not listening anywhere: serve it
// with ServeHTTP, or mount it in your own http.Server.
func NewHandler(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	s := &Server{
		cfg: cfg,
		st:  newState(cfg.arrayMax),
		val: validator{zones: &sync.Map{}},
		rng: newRand(cfg.seed),
	}
	s.SetRateLimit(cfg.rateLimit)
	s.deferred.Store(cfg.deferred)
	return s
}

// Close shuts the server down, waiting for requests in flight. It is safe to
// call more than once.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// APIKey returns the REST API key the server accepts.
func (s *Server) APIKey() string { return s.cfg.apiKey }

// NewClient returns a braze.Client pointed at the server (WithBaseURL of
// its URL) with its API key; opts are applied after the base URL, so they
// can override it. A Server made with NewHandler has no URL: give one with
// braze.WithBaseURL, or NewClient fails with braze.ErrNoEndpoint.
func (s *Server) NewClient(opts ...braze.Option) (*braze.Client, error) {
	return braze.NewClient(s.cfg.apiKey, append([]braze.Option{braze.WithBaseURL(s.URL)}, opts...)...)
}

// Client is NewClient for test setup: a failure ends the test (or panics
// when the server was built by Start, which has no test to fail).
func (s *Server) Client(opts ...braze.Option) *braze.Client {
	c, err := s.NewClient(opts...)
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("brazetest: building the client: %v", err)
		}
		panic("brazetest: building the client: " + err.Error())
	}
	return c
}

// endpoint holds the limits of one path.
type endpoint struct {
	bulk bool
}

// ServeHTTP answers one request as Braze would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.now()
	rec := Request{
		Seq:      int(s.seq.Add(1)),
		Method:   r.Method,
		Path:     r.URL.Path,
		Received: now,
	}
	if s.cfg.history > 0 {
		rec.Header = redact(r.Header)
	}
	var ep endpoint
	switch r.URL.Path {
	case "/users/track":
	case "/users/track/bulk":
		ep.bulk = true
	default:
		s.finish(w, &rec, http.StatusNotFound, message("Not Found"))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.finish(w, &rec, http.StatusMethodNotAllowed, message("Method Not Allowed"))
		return
	}
	bodyText, err := s.readBody(r)
	if err != nil {
		s.finish(w, &rec, http.StatusRequestEntityTooLarge, message("Request Entity Too Large"))
		return
	}
	if s.cfg.history > 0 {
		rec.Body = bodyText
	}

	d := s.decide()
	rec.Notes = d.notes
	if d.delay > 0 {
		t := time.NewTimer(d.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if d.disconnect && !d.apply {
		s.cut(w, &rec)
		return
	}
	if d.status != 0 && !d.apply {
		s.finishFault(w, &rec, d)
		return
	}

	status, resp := s.track(w.Header(), r, bodyText, ep, now, &rec)
	switch {
	case d.disconnect:
		s.cut(w, &rec)
	case d.status != 0:
		s.finishFault(w, &rec, d)
	default:
		s.finish(w, &rec, status, resp)
	}
}

// track authenticates, rate-limits, validates and applies one request.
func (s *Server) track(h http.Header, r *http.Request, body string, ep endpoint, now time.Time, rec *Request) (int, []byte) {
	auth := r.Header.Get("Authorization")
	key, isBearer := strings.CutPrefix(auth, "Bearer ")
	switch {
	case isBearer && key != "" && key == s.cfg.apiKey:
	case isBearer && s.cfg.forbiddenKeys[key]:
		return http.StatusForbidden, message("Access Denied: this API key does not have the users.track permission")
	default:
		// A key in quotes, a wrong key, a missing header: all 401.
		return http.StatusUnauthorized, message("Invalid API key: the Authorization header must be 'Bearer <REST API key>'")
	}
	if !s.takeToken(h, now) {
		return http.StatusTooManyRequests, message("API rate limit exceeded")
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		return http.StatusBadRequest, message(MsgNoValidData)
	}
	p, _ := s.parsers.Get().(*parser)
	if p == nil {
		p = &parser{}
	}
	defer func() {
		p.reset()
		s.parsers.Put(p)
	}()
	top, err := p.parse(body)
	if err != nil {
		return http.StatusBadRequest, message(MsgInvalidJSON)
	}
	return s.process(&top, body, ep, now, rec, p)
}

func isJSONContentType(ct string) bool {
	if ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// ObjectError is one entry of the errors array of a response.
type ObjectError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      int    `json:"index"`
}

// response is the JSON body of a /users/track answer.
type response struct {
	Message             string        `json:"message"`
	AttributesProcessed int           `json:"attributes_processed,omitempty"`
	EventsProcessed     int           `json:"events_processed,omitempty"`
	PurchasesProcessed  int           `json:"purchases_processed,omitempty"`
	Errors              []ObjectError `json:"errors,omitempty"`
}

func message(msg string) []byte {
	b, _ := json.Marshal(response{Message: msg})
	return b
}

func (s *Server) finish(w http.ResponseWriter, rec *Request, status int, body []byte) {
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	rec.Status, rec.Response = status, string(body)
	s.count(status, false)
	s.record(*rec)
}

func (s *Server) finishFault(w http.ResponseWriter, rec *Request, d decision) {
	status := d.status
	body := message(http.StatusText(status))
	for k, v := range d.header {
		w.Header()[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	rec.Status, rec.Response = status, string(body)
	s.count(status, true)
	s.record(*rec)
}

// cut closes the connection without answering. Over HTTP/1 the connection
// is hijacked and closed; where hijacking is not possible (HTTP/2) the
// handler aborts, which resets the stream.
func (s *Server) cut(w http.ResponseWriter, rec *Request) {
	rec.Status, rec.Response = 0, ""
	s.count(0, true)
	s.record(*rec)
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) count(status int, fault bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	switch {
	case fault:
		s.stats.Faults++
	case status >= 200 && status < 300:
		s.stats.Accepted++
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		s.stats.AuthFailures++
	case status == http.StatusTooManyRequests:
		s.stats.RateLimited++
	default:
		s.stats.BadRequests++
	}
}

// readBody reads the whole body, up to the configured maximum, into one
// string: parsed substrings and the request record share it.
func (s *Server) readBody(r *http.Request) (string, error) {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.bufs.Put(bp)
	buf := (*bp)[:0]
	max := s.cfg.maxBodyBytes
	if n := r.ContentLength; n > 0 && n <= max && int64(cap(buf)) < n+1 {
		buf = make([]byte, 0, n+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			*bp = buf[:0]
			return "", errTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = buf[:0]
			return "", err
		}
	}
	*bp = buf[:0]
	return string(buf), nil
}

var errTooLarge = &syntaxError{msg: "body too large"}

// redact copies the headers with the API key in Authorization hidden, so
// that dumps of recorded requests never show it.
func redact(h http.Header) http.Header {
	out := h.Clone()
	if auth := out.Get("Authorization"); auth != "" {
		scheme, _, found := strings.Cut(auth, " ")
		if found {
			out.Set("Authorization", scheme+" [REDACTED]")
		} else {
			out.Set("Authorization", "[REDACTED]")
		}
	}
	return out
}

// Compile-time check that Server serves HTTP.
var _ http.Handler = (*Server)(nil)
