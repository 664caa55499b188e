package braze

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// attemptState follows one logical request across its HTTP attempts. It
// travels in the request context because retryablehttp's hooks receive
// only the context and response.
type attemptState struct {
	idempotent bool
	attempts   int
	ambiguous  bool // the last attempt failed after the request was written
	// limited holds the headers of the last attempt when it was answered
	// 429, so that a context ending during the wait before the next
	// attempt still reports the rate limit; nil once another attempt
	// starts.
	limited http.Header
}

type stateKey struct{}

func stateFrom(ctx context.Context) *attemptState {
	st, _ := ctx.Value(stateKey{}).(*attemptState)
	if st == nil {
		return &attemptState{}
	}
	return st
}

// ambiguousError marks a transport error that happened after the request
// was written, so Braze may have processed it.
type ambiguousError struct{ err error }

func (e *ambiguousError) Error() string { return e.err.Error() }
func (e *ambiguousError) Unwrap() error { return e.err }

// limiterError marks a failure of the rate limiter (for example a wait that
// would pass the context deadline); it is never retried.
type limiterError struct {
	err      error
	deadline bool // the context has a deadline the wait would pass
}

func (e *limiterError) Error() string { return "braze: rate limiter: " + e.err.Error() }
func (e *limiterError) Unwrap() error { return e.err }

// Is makes a wait refused because of the context's deadline match
// context.DeadlineExceeded, which x/time/rate's own error does not.
func (e *limiterError) Is(target error) bool {
	return e.deadline && target == context.DeadlineExceeded
}

// transport waits for the pause gate and the limiter before every attempt,
// retries included, and learns from the rate-limit headers of every
// response.
type transport struct {
	c    *Client
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := stateFrom(ctx)
	if err := t.c.gate.wait(ctx, t.c.retry.MaxWait); err != nil {
		return nil, err
	}
	if err := t.c.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		_, hasDeadline := ctx.Deadline()
		return nil, &limiterError{err: err, deadline: hasDeadline}
	}
	st.attempts++
	st.ambiguous = false
	st.limited = nil
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	resp, err := t.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err != nil {
		if wrote.Load() {
			st.ambiguous = true
			return nil, &ambiguousError{err}
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		st.limited = resp.Header.Clone()
	}
	t.c.observe(ctx, resp)
	return resp, nil
}

// observe adapts to the server's rate-limit headers: an exhausted window
// or a 429 with an explicit wait pauses every goroutine of the client.
func (c *Client) observe(ctx context.Context, resp *http.Response) {
	now := time.Now()
	info := parseRateLimit(resp.Header, now)
	if c.adaptive != nil {
		c.adaptive.observe(info, now)
	}
	if o, ok := c.limiter.(LimitObserver); ok {
		o.ObserveRateLimit(ctx, info, resp.StatusCode)
	}
	if info.Remaining == 0 && !info.Reset.IsZero() {
		c.pauseUntil(now, info.Reset)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if w, ok := serverWait(resp.Header, now); ok {
			c.pauseUntil(now, now.Add(w))
		}
	}
}

func (c *Client) pauseUntil(now, t time.Time) {
	if limit := now.Add(c.retry.MaxWait); t.After(limit) {
		t = limit
	}
	if t.After(now) {
		c.logger.Debug("braze: pausing for the rate limit", "until", t)
		c.gate.pauseUntil(t)
	}
}

func (c *Client) newRetryClient(hc *http.Client) *retryablehttp.Client {
	var base http.RoundTripper = defaultTransport()
	var inner http.Client
	if hc != nil {
		inner = *hc
		if hc.Transport != nil {
			base = hc.Transport
		}
	} else {
		inner.Timeout = 2 * time.Minute
	}
	inner.Transport = &transport{c: c, base: base}
	// Braze does not redirect; a redirect could only take the key (or a
	// replayed body) somewhere else, so it is answered as a failure.
	inner.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &retryablehttp.Client{
		HTTPClient:   &inner,
		Logger:       nil, // the client logs through its own *slog.Logger
		RetryWaitMin: c.retry.MinBackoff,
		RetryWaitMax: c.retry.MaxBackoff,
		RetryMax:     c.retry.MaxRetries,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) {
			if err != nil {
				if resp != nil {
					resp.Body.Close()
				}
				return nil, err
			}
			// Retries ran out on a retryable status: hand the last
			// response back so that it is classified (429, 5xx).
			return resp, nil
		},
	}
}

// defaultTransport is net/http's default transport with enough idle
// connections per host for TrackAll's concurrency (the default keeps 2,
// which makes concurrent senders reconnect constantly).
func defaultTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = 128
	t.MaxResponseHeaderBytes = 1 << 20
	return t
}

// checkRetry is the retry policy: 429, 5xx (but 501) and transport errors
// retry; other statuses do not; a done context stops at once; ambiguous
// failures follow RetryPolicy.Ambiguous.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	st := stateFrom(ctx)
	if err != nil {
		var le *limiterError
		if errors.As(err, &le) {
			return false, err
		}
		var ae *ambiguousError
		if errors.As(err, &ae) {
			retry := false
			switch c.retry.Ambiguous {
			case RetryAlways:
				retry = true
			case RetryIdempotent:
				retry = st.idempotent
			}
			c.logger.Debug("braze: ambiguous failure", "attempt", st.attempts, "retry", retry, "error", err)
			if !retry {
				return false, err
			}
			// retryablehttp's own policy rejects TLS and URL errors.
			ok, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, ae.err)
			return ok, nil
		}
		ok, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		c.logger.Debug("braze: transport error", "attempt", st.attempts, "retry", ok, "error", err)
		return ok, nil
	}
	code := resp.StatusCode
	retry := code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
	if retry {
		c.logger.Debug("braze: retryable status", "status", code, "attempt", st.attempts)
	}
	return retry, nil
}

// backoff waits what the server asked for (capped by MaxWait), or else a
// jittered exponential backoff between min and max.
func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if w, ok := serverWait(resp.Header, time.Now()); ok {
			return min(w, c.retry.MaxWait)
		}
	}
	d := minWait
	for i := 0; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	// Full jitter over the upper half keeps retries of many goroutines
	// from arriving together.
	half := d / 2
	if half > 0 {
		d = half + rand.N(half+1)
	}
	return d
}
