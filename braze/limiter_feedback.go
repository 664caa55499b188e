package braze

import "context"

// LimitObserver is an optional interface of a Limiter given to WithLimiter.
// A Limiter shared between processes (package braze/redislimit) cannot see
// the responses of the client it paces, so the X-RateLimit-* headers and
// 429s one process receives would otherwise slow only that process, and the
// others would keep spending a window the server already called exhausted.
// When the Limiter also implements LimitObserver, the client calls
// ObserveRateLimit after every HTTP attempt that got a response, retries
// included.
//
// The contract of Limiter itself is unchanged: a *rate.Limiter, which has
// no such method, keeps working as before, and the client's own pause on
// X-RateLimit-Remaining: 0 and on 429 waits applies in either case.
type LimitObserver interface {
	// ObserveRateLimit receives what the response's rate-limit headers
	// said (as parsed by the client: Remaining is -1 and Reset zero when
	// absent) and its HTTP status. ctx is the request's context. It is
	// called from the request's goroutine, so it should return quickly;
	// it reports nothing back because a failure to share what was learned
	// must not fail the request.
	ObserveRateLimit(ctx context.Context, info RateLimitInfo, status int)
}
