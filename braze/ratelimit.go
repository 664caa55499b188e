package braze

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// newRateLimiter returns the default limiter: a token bucket with the
// budget spread evenly over the window and a small burst (1% of the
// window's budget), so that a fixed-window server never sees much more than
// its limit in one window. floor is the slowest rate header adaptation may
// impose.
func newRateLimiter(perWindow int, window, maxWait time.Duration) *adaptiveLimiter {
	base := rate.Limit(float64(perWindow) / window.Seconds())
	burst := max(1, perWindow/100)
	return &adaptiveLimiter{
		lim:   rate.NewLimiter(base, burst),
		base:  base,
		burst: burst,
		floor: rate.Limit(1 / maxWait.Seconds()),
	}
}

// adaptiveLimiter slows below the configured budget when the server's
// X-RateLimit-Remaining and X-RateLimit-Reset say less is left (another
// process sharing the workspace budget, or an hourly MAU limit), and
// returns to the budget once the window has reset. It never goes faster
// than configured.
type adaptiveLimiter struct {
	lim   *rate.Limiter
	base  rate.Limit
	burst int
	floor rate.Limit

	mu    sync.Mutex
	until time.Time // when a reduced rate ends; zero when at base
}

// Wait blocks until the next attempt may start.
func (l *adaptiveLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	if !l.until.IsZero() && time.Now().After(l.until) {
		l.lim.SetLimit(l.base)
		l.lim.SetBurst(l.burst)
		l.until = time.Time{}
	}
	l.mu.Unlock()
	return l.lim.Wait(ctx)
}

// observe lowers the rate to what the window has left, if that is less
// than the budget. Remaining 0 is handled by the pause gate instead.
func (l *adaptiveLimiter) observe(info RateLimitInfo, now time.Time) {
	if info.Remaining <= 0 || info.Reset.IsZero() {
		return
	}
	d := info.Reset.Sub(now)
	if d <= 0 {
		return
	}
	r := rate.Limit(float64(info.Remaining) / d.Seconds())
	if r >= l.base {
		return
	}
	r = max(r, l.floor)
	l.mu.Lock()
	if l.until.IsZero() || r < l.lim.Limit() || info.Reset.After(l.until) {
		// Drop the saved-up burst too, or it would spend what is left at once.
		l.lim.SetBurst(1)
		l.lim.SetLimit(r)
		l.until = info.Reset
	}
	l.mu.Unlock()
}

// limit reports the current rate, for tests.
func (l *adaptiveLimiter) limit() rate.Limit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lim.Limit()
}

// pauseGate holds every attempt of a client until a time the server asked
// for (X-RateLimit-Remaining: 0 with a Reset, or a 429 wait header).
type pauseGate struct {
	mu    sync.Mutex
	until time.Time
}

func newPauseGate() *pauseGate { return &pauseGate{} }

// pauseUntil moves the gate to t if that is later than the current pause.
func (g *pauseGate) pauseUntil(t time.Time) {
	g.mu.Lock()
	if t.After(g.until) {
		g.until = t
	}
	g.mu.Unlock()
}

// wait blocks until the gate opens, at most maxWait, or until ctx is done.
func (g *pauseGate) wait(ctx context.Context, maxWait time.Duration) error {
	g.mu.Lock()
	until := g.until
	g.mu.Unlock()
	d := time.Until(until)
	if d <= 0 {
		return ctx.Err()
	}
	d = min(d, maxWait)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RateLimitInfo is what a response's X-RateLimit-* headers said.
type RateLimitInfo struct {
	// Limit is the number of requests allowed in the window (0 if absent).
	Limit int
	// Remaining is the number of requests left in the window (-1 if absent).
	Remaining int
	// Reset is when the window resets (zero if absent or unparseable).
	Reset time.Time
	// RetryAfter is the wait asked for by X-RateLimit-Retry-After or
	// Retry-After (zero if absent).
	RetryAfter time.Duration
}

// epochThreshold separates an X-RateLimit-Reset given as epoch seconds from
// one given as seconds to wait (Braze documents the first, RudderStack
// describes the second).
const epochThreshold = 1e9

// maxHeaderWait bounds any parsed wait before the policy's own cap, to keep
// durations far from overflow.
const maxHeaderWait = 24 * time.Hour

// parseRateLimit reads the rate-limit headers of a response. Invalid,
// negative or absurd values are ignored rather than trusted.
func parseRateLimit(h http.Header, now time.Time) RateLimitInfo {
	info := RateLimitInfo{Remaining: -1}
	if n, ok := parseCount(h.Get("X-RateLimit-Limit")); ok {
		info.Limit = n
	}
	if n, ok := parseCount(h.Get("X-RateLimit-Remaining")); ok {
		info.Remaining = n
	}
	if v, ok := parseSeconds(h.Get("X-RateLimit-Reset")); ok {
		if v >= epochThreshold {
			// Beyond 1e11 (year 5138) the conversion to int64 would be
			// meaningless; such a header is ignored.
			if v < 1e11 {
				sec, frac := math.Modf(v)
				t := time.Unix(int64(sec), int64(frac*1e9))
				if d := t.Sub(now); d <= maxHeaderWait && d >= -maxHeaderWait {
					info.Reset = t
				}
			}
		} else if v <= maxHeaderWait.Seconds() {
			info.Reset = now.Add(time.Duration(v * float64(time.Second)))
		}
	}
	if v, ok := parseSeconds(h.Get("X-RateLimit-Retry-After")); ok && v <= maxHeaderWait.Seconds() {
		info.RetryAfter = time.Duration(v * float64(time.Second))
	} else if ra := strings.TrimSpace(h.Get("Retry-After")); ra != "" {
		if v, ok := parseSeconds(ra); ok && v <= maxHeaderWait.Seconds() {
			info.RetryAfter = time.Duration(v * float64(time.Second))
		} else if t, err := http.ParseTime(ra); err == nil {
			if d := t.Sub(now); d > 0 && d <= maxHeaderWait {
				info.RetryAfter = d
			}
		}
	}
	return info
}

func parseCount(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func parseSeconds(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, false
	}
	return v, true
}

// serverWait is how long the server asked the client to wait, in the order
// of precedence of the reference: X-RateLimit-Retry-After, then
// X-RateLimit-Reset, then Retry-After. ok is false when it said nothing.
func serverWait(h http.Header, now time.Time) (time.Duration, bool) {
	info := parseRateLimit(h, now)
	if h.Get("X-RateLimit-Retry-After") != "" && info.RetryAfter > 0 {
		return info.RetryAfter, true
	}
	if !info.Reset.IsZero() {
		return max(0, info.Reset.Sub(now)), true
	}
	if info.RetryAfter > 0 {
		return info.RetryAfter, true
	}
	return 0, false
}
