package redislimit

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

// ObserveRateLimit shares what one response said with every process (it
// implements braze.LimitObserver; a braze.Client calls it after each
// attempt):
//
//   - a 429 pauses every process for the wait it names
//     (X-RateLimit-Retry-After or Retry-After, else until X-RateLimit-Reset,
//     else one burst window);
//   - X-RateLimit-Remaining: 0 with a Reset pauses every process until the
//     reset;
//   - a Remaining that would last until the Reset only at a rate below the
//     burst window's (another sender, such as Braze's Cloud Data Ingestion,
//     spends the same budget, or the headers describe an MAU contract's
//     hourly window) lowers every process's rate to Remaining/(Reset-now)
//     until the reset.
//
// Pauses are capped by WithMaxWait. Redis is written only when the pause
// or rate is a change this process does not already know of, so ordinary
// responses cost nothing. A Redis failure is not reported (the request has
// its answer; the next Wait will report Redis) and logged at Debug.
func (l *Limiter) ObserveRateLimit(ctx context.Context, info braze.RateLimitInfo, status int) {
	now := time.Now()
	if l.downError() != nil {
		return // the next Wait reports Redis
	}
	var pause time.Duration
	reason := ""
	switch {
	case status == http.StatusTooManyRequests:
		reason = "429"
		switch {
		case info.RetryAfter > 0:
			pause = info.RetryAfter
		case !info.Reset.IsZero():
			pause = info.Reset.Sub(now)
		default:
			pause = l.window
		}
	case info.Remaining == 0 && !info.Reset.IsZero():
		reason = "remaining=0"
		pause = info.Reset.Sub(now)
	}
	if pause > 0 {
		l.sharePause(ctx, now, min(pause, l.maxWait), reason)
		return
	}
	if info.Remaining > 0 && !info.Reset.IsZero() {
		d := min(info.Reset.Sub(now), l.maxWait)
		if d <= 0 {
			return
		}
		r := max(float64(info.Remaining)/d.Seconds(), 1/l.maxWait.Seconds())
		if r < l.baseRate {
			l.shareSlow(ctx, now, r, d)
		}
	}
}

func (l *Limiter) sharePause(ctx context.Context, now time.Time, d time.Duration, reason string) {
	until := now.Add(d)
	l.mu.Lock()
	known := !until.After(l.pauseTill.Add(time.Millisecond))
	if !known {
		l.pauseTill = until
	}
	l.mu.Unlock()
	if known {
		return
	}
	ms := max(1, d.Milliseconds())
	if err := pauseScript.Run(ctx, l.rdb, []string{l.pauseKey}, ms, reason).Err(); err != nil {
		l.logger.Debug("redislimit: could not share a pause", "addr", l.addr, "error", err)
		return
	}
	l.logger.Debug("redislimit: pausing every process", "for", d, "reason", reason)
}

func (l *Limiter) shareSlow(ctx context.Context, now time.Time, r float64, d time.Duration) {
	until := now.Add(d)
	l.mu.Lock()
	// Within the same server window, only a drop of over 5% is written, so
	// a paced run whose headers say about the same each time writes once.
	known := l.slowRate > 0 && now.Before(l.slowUntil) && r >= 0.95*l.slowRate &&
		!until.After(l.slowUntil.Add(time.Second))
	if !known {
		l.slowRate, l.slowUntil = r, until
	}
	l.mu.Unlock()
	if known {
		return
	}
	ms := max(1, d.Milliseconds())
	rs := strconv.FormatFloat(r, 'f', 3, 64)
	if err := slowScript.Run(ctx, l.rdb, []string{l.slowKey}, rs, ms).Err(); err != nil {
		l.logger.Debug("redislimit: could not share a lower rate", "addr", l.addr, "error", err)
		return
	}
	l.logger.Debug("redislimit: slowing every process", "rate", r, "for", d)
}
