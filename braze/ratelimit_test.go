package braze

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"
)

func TestParseRateLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := http.Header{}
	h.Set("x-ratelimit-limit", "3000") // lower case, as over HTTP/2
	h.Set("x-ratelimit-remaining", "12")
	h.Set("x-ratelimit-reset", "1700000002")
	info := parseRateLimit(h, now)
	if info.Limit != 3000 || info.Remaining != 12 || !info.Reset.Equal(now.Add(2*time.Second)) {
		t.Errorf("epoch: %+v", info)
	}
	h.Set("X-RateLimit-Reset", "2.5")
	if info := parseRateLimit(h, now); !info.Reset.Equal(now.Add(2500 * time.Millisecond)) {
		t.Errorf("delta: %+v", info)
	}
	for _, bad := range []string{"-1", "abc", "NaN", "+Inf", "1e300", "99999999999999"} {
		h := http.Header{"X-Ratelimit-Reset": {bad}, "X-Ratelimit-Retry-After": {bad}, "Retry-After": {bad}}
		if info := parseRateLimit(h, now); !info.Reset.IsZero() || info.RetryAfter != 0 {
			t.Errorf("%q: %+v", bad, info)
		}
		if _, ok := serverWait(h, now); ok {
			t.Errorf("%q gave a wait", bad)
		}
	}
	h = http.Header{"Retry-After": {now.Add(3 * time.Second).UTC().Format(http.TimeFormat)}}
	if w, ok := serverWait(h, now); !ok || w != 3*time.Second {
		t.Errorf("HTTP-date Retry-After: %v %v", w, ok)
	}
	// X-RateLimit-Retry-After wins over Reset.
	h = http.Header{"X-Ratelimit-Retry-After": {"1"}, "X-Ratelimit-Reset": {"5"}}
	if w, _ := serverWait(h, now); w != time.Second {
		t.Errorf("precedence: %v", w)
	}
}

func TestAdaptiveLimiter(t *testing.T) {
	l := newRateLimiter(1000, time.Second, time.Minute)
	now := time.Now()
	l.observe(RateLimitInfo{Remaining: 1500, Reset: now.Add(time.Second)}, now)
	if l.limit() != 1000 {
		t.Errorf("sped up or slowed needlessly: %v", l.limit())
	}
	l.observe(RateLimitInfo{Remaining: 10, Reset: now.Add(100 * time.Millisecond)}, now)
	if got := l.limit(); got < 99 || got > 101 {
		t.Errorf("limit %v, want 100", got)
	}
	// A hostile header cannot slow it below one request per MaxWait.
	l.observe(RateLimitInfo{Remaining: 1, Reset: now.Add(24 * time.Hour)}, now)
	if l.limit() < rate.Limit(1/60.0) {
		t.Errorf("limit %v below the floor", l.limit())
	}
	l.until = time.Now().Add(-time.Millisecond)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.limit() != 1000 {
		t.Errorf("not restored after reset: %v", l.limit())
	}
}

// The client follows a low Remaining from the server.
func TestClientSlowsOnLowRemaining(t *testing.T) {
	rec := &recorder{answer: func(n int, _ map[string]json.RawMessage, w http.ResponseWriter) {
		w.Header().Set("X-RateLimit-Remaining", "5")
		w.Header().Set("X-RateLimit-Reset", "1") // 5 left for the next second
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	}}
	synctest.Test(t, func(t *testing.T) {
		// The floor of the adaptive rate is one request per MaxWait.
		c := newBubbleClient(t, rec, WithRetryPolicy(RetryPolicy{MaxWait: 10 * time.Second}))
		start := time.Now()
		for range 4 {
			if _, err := c.Track(context.Background(), attrsReq("u")); err != nil {
				t.Fatal(err)
			}
		}
		// 5 left for the next second: after the first answer, a request
		// every 200 ms (on the bubble's clock, exactly 400 ms for 4).
		if d := time.Since(start); d < 400*time.Millisecond {
			t.Errorf("4 requests in %v despite 5/s remaining", d)
		}
	})
}

func TestBulkEndpoint(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec, WithBulkEndpoint())
	if c.Endpoint()[len(c.Endpoint())-len("/users/track/bulk"):] != "/users/track/bulk" {
		t.Errorf("endpoint %s", c.Endpoint())
	}
	if c.adaptive.base != BulkRequestsPerSecond {
		t.Errorf("rate %v", c.adaptive.base)
	}
	n := 0
	for r := range c.TrackAll(context.Background(), attrUpdates(2500, func(i int) string { return "u" + itoa(i) })) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		n++
	}
	if n != 2500 || rec.requests() != 3 {
		t.Errorf("%d results in %d requests", n, rec.requests())
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

// A 429 with X-RateLimit-Retry-After holds every goroutine of the client,
// not only the one that got it.
func TestRetryAfterPausesOtherGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var first atomic.Bool
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			if first.CompareAndSwap(false, true) {
				w.Header().Set("X-RateLimit-Retry-After", "0.3")
				w.WriteHeader(429)
				return
			}
			w.WriteHeader(201)
			io.WriteString(w, `{"message":"success"}`)
		})
		c := newBubbleClient(t, h, WithRetryPolicy(RetryPolicy{MaxWait: 5 * time.Second, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
		_, err := c.Track(context.Background(), attrsReq("a")) // 429, waits, succeeds
		must(t, err)
		// The gate is open again; now a 429 seen by one goroutine delays
		// another one's first attempt.
		first.Store(false)
		start := time.Now()
		done := make(chan error, 1)
		go func() { _, err := c.Track(context.Background(), attrsReq("b")); done <- err }()
		synctest.Wait() // b got its 429 and waits on the gate
		_, err = c.Track(context.Background(), attrsReq("c"))
		must(t, err)
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("the other goroutine's request finished after %v, before the 0.3 s pause", d)
		}
		must(t, <-done)
	})
}

// A wait the limiter knows would pass the deadline fails at once, as
// context.DeadlineExceeded.
func TestLimiterDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newBubbleClient(t, &recorder{}, WithRateLimit(1, time.Hour))
		_, err := c.Track(context.Background(), attrsReq("a")) // uses the burst
		must(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err = c.Track(ctx, attrsReq("b"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("took %v of the bubble's clock, want no wait at all", d)
		}
	})
}
