package redislimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/ampbraze/ampbraze/braze"
)

// Limiter is a braze.Limiter whose budget lives in Redis, shared by every
// process that uses the same Redis and key prefix. It also implements
// braze.LimitObserver, so what one process's client learns from a response
// slows every process. It is safe for concurrent use and starts no
// goroutines; Close releases the Redis client only when Open created it.
type Limiter struct {
	rdb   redis.UniversalClient
	owned bool
	addr  string
	gcra  *redis_rate.Limiter

	burstKey, pauseKey, slowKey, hourKey string

	base       redis_rate.Limit // the burst window as GCRA
	baseRate   float64          // requests per second of base
	window     time.Duration
	hourly     int
	hourWindow time.Duration // time.Hour; tests shorten it
	maxWait    time.Duration
	logger     *slog.Logger
	fallback   *localShare   // nil: fail closed
	recheck    time.Duration // after a Redis failure, when to ask again

	// turn lets one goroutine per process poll Redis at a time; the others
	// queue here (in FIFO order) instead of all polling GCRA, which would
	// multiply Redis calls by the client's concurrency.
	turn chan struct{}

	mu        sync.Mutex
	slowRate  float64   // learned requests per second; 0 when none
	slowUntil time.Time // when slowRate stops applying
	pauseTill time.Time // the latest shared pause this process knows of
	downErr   error     // the last Redis failure; nil while Redis answers
	downUntil time.Time // when a Wait asks Redis again after a failure
	probing   bool      // a Wait is asking Redis again
}

var _ braze.Limiter = (*Limiter)(nil)
var _ braze.LimitObserver = (*Limiter)(nil)

// New returns a Limiter over rdb (a *redis.Client, *redis.ClusterClient or
// another redis.UniversalClient). The caller keeps ownership of rdb; Close
// does not close it. New does no I/O; use Ping to check Redis at start-up.
func New(rdb redis.UniversalClient, opts ...Option) (*Limiter, error) {
	if rdb == nil {
		return nil, errors.New("redislimit: New: nil Redis client")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	burst := cfg.burst
	if burst == 0 {
		burst = max(1, cfg.perWindow/100)
	}
	if burst >= cfg.perWindow {
		return nil, fmt.Errorf("redislimit: burst %d must be below the burst limit of %d requests per %s", burst, cfg.perWindow, cfg.window)
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tag := "{" + cfg.prefix + "}"
	l := &Limiter{
		rdb:  rdb,
		addr: addrOf(rdb),
		gcra: redis_rate.NewLimiter(rdb),
		// redis_rate stores the GCRA state under "rate:" + this key.
		burstKey:   tag + ":burst",
		pauseKey:   tag + ":pause",
		slowKey:    tag + ":slow",
		hourKey:    tag + ":hour",
		base:       gcraLimit(cfg.perWindow-burst, cfg.window, burst),
		baseRate:   float64(cfg.perWindow-burst) / cfg.window.Seconds(),
		window:     cfg.window,
		hourly:     cfg.hourly,
		hourWindow: time.Hour,
		maxWait:    cfg.maxWait,
		logger:     logger,
		recheck:    2 * time.Second,
		turn:       make(chan struct{}, 1),
	}
	if cfg.share > 0 {
		l.fallback = newLocalShare(cfg.perWindow, burst, cfg.window, cfg.hourly, cfg.share)
	}
	return l, nil
}

// Open connects to the Redis named by a URL ("redis://host:6379/0",
// "rediss://user:pass@host:6380", see redis.ParseURL) and returns a Limiter
// that owns the connection: Close closes it. Open does no I/O.
func Open(redisURL string, opts ...Option) (*Limiter, error) {
	ro, err := redis.ParseURL(redisURL)
	if err != nil {
		// The URL may hold a password, and url.Parse's error repeats the
		// URL: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redislimit: Open: invalid Redis URL: %w", err)
	}
	rdb := redis.NewClient(ro)
	l, err := New(rdb, opts...)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	l.owned = true
	return l, nil
}

// Close closes the Redis client if Open created it.
func (l *Limiter) Close() error {
	if l.owned {
		return l.rdb.Close()
	}
	return nil
}

// Addr is the Redis address the Limiter uses, as its errors name it.
func (l *Limiter) Addr() string { return l.addr }

// Ping checks that Redis answers; its error is an *UnavailableError.
func (l *Limiter) Ping(ctx context.Context) error {
	if err := l.rdb.Ping(ctx).Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnavailableError{Addr: l.addr, Err: err}
	}
	return nil
}

// Wait blocks until the shared budget admits one more request: the burst
// window (GCRA), any pause or slow-down another process learned from
// Braze, and the hourly budget. It returns ctx's error when ctx ends first.
//
// When Redis does not answer it returns an *UnavailableError (fail
// closed), or with WithFallback waits on the local share instead. After a
// failure one Wait every 2 s asks Redis again (a PING bounded to 500 ms);
// the others meanwhile fail (or use the local share) at once instead of
// each waiting out the Redis client's dial retries. How long the first
// failure takes to show depends on the Redis client's options (DialTimeout,
// DialerRetries, MaxRetries).
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	probe, downErr := l.route(time.Now())
	if downErr != nil {
		if l.fallback != nil {
			return l.fallback.wait(ctx)
		}
		return &UnavailableError{Addr: l.addr, Err: downErr}
	}
	if probe {
		if err := l.probe(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if l.fallback != nil {
				return l.fallback.wait(ctx)
			}
			return err
		}
	}
	err := l.waitShared(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		return err
	}
	l.markDown(ue.Err, false)
	if l.fallback != nil {
		return l.fallback.wait(ctx)
	}
	return err
}

// waitShared is Wait on Redis, one polling goroutine per process at a time.
// A goroutine that queued while Redis was up gives up without asking Redis
// if Redis failed meanwhile.
func (l *Limiter) waitShared(ctx context.Context) error {
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.turn }()
	if err := l.downError(); err != nil {
		return &UnavailableError{Addr: l.addr, Err: err}
	}
	for {
		d, err := l.try(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &UnavailableError{Addr: l.addr, Err: err}
		}
		if d <= 0 {
			l.markUp()
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// try asks Redis once. It returns 0 when the request is admitted, or how
// long to wait before asking again.
func (l *Limiter) try(ctx context.Context) (time.Duration, error) {
	res, err := l.gcra.Allow(ctx, l.burstKey, l.limit(time.Now()))
	if err != nil {
		return 0, err
	}
	if res.Allowed == 0 {
		return max(res.RetryAfter, time.Millisecond/10), nil
	}
	vals, err := admitScript.Run(ctx, l.rdb, []string{l.pauseKey, l.slowKey, l.hourKey},
		l.hourly, int64(l.hourWindow/time.Second)).Slice()
	if err != nil {
		return 0, err
	}
	if len(vals) != 4 {
		return 0, fmt.Errorf("redislimit: admit script returned %d values, want 4", len(vals))
	}
	admitted, _ := vals[0].(int64)
	waitMS, _ := vals[1].(int64)
	slowStr, _ := vals[2].(string)
	slowMS, _ := vals[3].(int64)
	l.learnSlow(slowStr, time.Duration(slowMS)*time.Millisecond)
	if admitted == 1 {
		return 0, nil
	}
	return max(time.Duration(waitMS)*time.Millisecond, time.Millisecond), nil
}

// limit is the GCRA limit for the next request: the burst window, or the
// lower rate a response asked for, without the saved-up burst, which would
// otherwise spend what the server said is left at once.
func (l *Limiter) limit(now time.Time) redis_rate.Limit {
	l.mu.Lock()
	r, until := l.slowRate, l.slowUntil
	l.mu.Unlock()
	if r <= 0 || r >= l.baseRate || !now.Before(until) {
		return l.base
	}
	// Rate per 1,000 s keeps three decimals of a fractional rate in
	// redis_rate's integer Rate.
	return gcraLimit(max(1, int(r*1000)), 1000*time.Second, 1)
}

// learnSlow records the shared slow rate the admit script reported.
func (l *Limiter) learnSlow(s string, ttl time.Duration) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return
	}
	l.mu.Lock()
	if r == 0 || ttl <= 0 {
		l.slowRate, l.slowUntil = 0, time.Time{}
	} else {
		l.slowRate, l.slowUntil = r, time.Now().Add(ttl)
	}
	l.mu.Unlock()
}

// route says how a Wait proceeds: on Redis (downErr nil), as the probe
// that asks Redis again after a failure, or without Redis (downErr, the
// last failure) while the failure is recent or another Wait probes.
func (l *Limiter) route(now time.Time) (probe bool, downErr error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.downErr == nil {
		return false, nil
	}
	if now.Before(l.downUntil) || l.probing {
		return false, l.downErr
	}
	l.probing = true
	return true, nil
}

// probeTimeout bounds the PING that checks whether Redis is back, so the
// one Wait that probes is not held for the Redis client's dial retries.
const probeTimeout = 500 * time.Millisecond

// probe asks Redis whether it answers again, and records the answer.
func (l *Limiter) probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	err := l.rdb.Ping(pctx).Err()
	cancel()
	l.mu.Lock()
	l.probing = false
	l.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			l.markDown(err, true)
		}
		return &UnavailableError{Addr: l.addr, Err: err}
	}
	l.markUp()
	return nil
}

// downError is the last Redis failure while Redis is considered down.
func (l *Limiter) downError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.downErr
}

// markDown records a Redis failure: the first one, or the probe's. A Wait
// that failed only because Redis was already down does not postpone the
// next probe.
func (l *Limiter) markDown(err error, probe bool) {
	l.mu.Lock()
	was := l.downErr != nil
	if was && !probe {
		l.mu.Unlock()
		return
	}
	l.downErr = err
	l.downUntil = time.Now().Add(l.recheck)
	l.mu.Unlock()
	if !was {
		what := "failing closed"
		if l.fallback != nil {
			what = "using the local share of the budget"
		}
		l.logger.Warn("redislimit: Redis does not answer; "+what, "addr", l.addr, "error", err)
	}
}

func (l *Limiter) markUp() {
	l.mu.Lock()
	was := l.downErr != nil
	l.downErr, l.downUntil = nil, time.Time{}
	l.mu.Unlock()
	if was {
		l.logger.Warn("redislimit: Redis answers again; back on the shared budget", "addr", l.addr)
	}
}

func gcraLimit(rate int, period time.Duration, burst int) redis_rate.Limit {
	return redis_rate.Limit{Rate: rate, Period: period, Burst: burst}
}

// addrOf names the Redis a client talks to, for errors.
func addrOf(rdb redis.UniversalClient) string {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().Addr
	case *redis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	case *redis.Ring:
		return strings.Join(slices.Sorted(maps.Values(c.Options().Addrs)), ",")
	}
	return fmt.Sprintf("%T", rdb)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
