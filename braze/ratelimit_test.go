package braze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
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

// Each 429 header form makes the client wait what the server asked, then
// succeed.
func TestRateLimitHeaderForms(t *testing.T) {
	for name, hdr := range map[string]func() map[string]string{
		"retry-after-braze": func() map[string]string { return map[string]string{"X-RateLimit-Retry-After": "0.2"} },
		"reset-delta": func() map[string]string {
			return map[string]string{"X-RateLimit-Reset": "0.2", "X-RateLimit-Remaining": "0"}
		},
		"reset-epoch": func() map[string]string {
			return map[string]string{"X-RateLimit-Reset": strconv.FormatFloat(float64(time.Now().Add(200*time.Millisecond).UnixMilli())/1000, 'f', 3, 64)}
		},
		"retry-after-std": func() map[string]string { return map[string]string{"Retry-After": "1"} },
		"none":            func() map[string]string { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			var first time.Time
			rec := &recorder{answer: func(n int, _ map[string]json.RawMessage, w http.ResponseWriter) {
				if n == 1 {
					first = time.Now()
					for k, v := range hdr() {
						w.Header().Set(k, v)
					}
					w.WriteHeader(429)
					return
				}
				w.WriteHeader(201)
				io.WriteString(w, `{"message":"success"}`)
			}}
			c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxWait: 2 * time.Second}))
			if _, err := c.Track(context.Background(), attrsReq("u1")); err != nil {
				t.Fatal(err)
			}
			waited := time.Since(first)
			if name != "none" && waited < 150*time.Millisecond {
				t.Errorf("waited %v, want the server's wait", waited)
			}
			if waited > 3*time.Second {
				t.Errorf("waited %v", waited)
			}
		})
	}
}

// Absurd rate-limit headers must not make the client sleep for long.
func TestHostileRateLimitHeaders(t *testing.T) {
	for name, h := range map[string]map[string]string{
		"reset-far-future": {"X-RateLimit-Reset": "99999999999", "X-RateLimit-Remaining": "0"},
		"reset-negative":   {"X-RateLimit-Reset": "-5", "X-RateLimit-Remaining": "0"},
		"reset-garbage":    {"X-RateLimit-Reset": "soon", "X-RateLimit-Remaining": "zero"},
		"retry-after-huge": {"X-RateLimit-Retry-After": "1e300"},
		"retry-after-nan":  {"X-RateLimit-Retry-After": "NaN", "Retry-After": "Inf"},
		"reset-epoch-year": {"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(365*24*time.Hour).Unix(), 10), "X-RateLimit-Remaining": "0"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{answer: func(n int, _ map[string]json.RawMessage, w http.ResponseWriter) {
				for k, v := range h {
					w.Header().Set(k, v)
				}
				if n == 1 {
					w.WriteHeader(429)
					return
				}
				w.WriteHeader(201)
				io.WriteString(w, `{"message":"success"}`)
			}}
			c, _ := newTestClient(t, rec) // MaxWait 50ms
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := c.Track(ctx, attrsReq("u1"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Track(ctx, attrsReq("u2")); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// 32 goroutines share one budget: 20 requests per 200 ms.
func TestRateLimiterShared(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	})
	c, _ := newTestClient(t, h, WithRateLimit(20, 200*time.Millisecond))
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2 {
				if _, err := c.Track(context.Background(), attrsReq(fmt.Sprint(g, "-", i))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// 64 requests at 100/s with a burst of 1: at least ~0.63 s.
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("64 requests took %v, limiter not respected", d)
	}
	// A request cannot arrive before its token exists: by start+k*10ms at
	// most k+1 requests (the burst is 1) can have been received, however
	// late the scheduler runs them.
	for _, at := range times {
		k := int(at.Sub(start) / (10 * time.Millisecond))
		n := 0
		for _, t2 := range times {
			if !t2.After(at) {
				n++
			}
		}
		if n > k+2 {
			t.Fatalf("%d requests by %v, budget allows %d", n, at.Sub(start), k+2)
		}
	}
}

func TestRemainingZeroPausesEveryone(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "0.3")
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	})
	c, _ := newTestClient(t, h, WithRetryPolicy(RetryPolicy{MaxWait: 2 * time.Second}))
	_, err := c.Track(context.Background(), attrsReq("a"))
	must(t, err)
	_, err = c.Track(context.Background(), attrsReq("b"))
	must(t, err)
	if d := times[1].Sub(times[0]); d < 250*time.Millisecond {
		t.Errorf("second request after %v, want a pause until reset", d)
	}
}

// A 429 whose wait is cut short by the context deadline keeps its
// meaning: the error is a *RateLimitError and matches
// context.DeadlineExceeded.
func TestRegression_Issue17_RateLimitCutByDeadline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"retry-after header", map[string]string{"X-RateLimit-Retry-After": "30"}},
		{"no header (backoff)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answer: answerStatus(429, `{"message":"rate limited"}`, tc.header)}
			srv := httptest.NewServer(rec)
			t.Cleanup(srv.Close)
			c, err := NewClient(testKey, WithBaseURL(srv.URL), WithRetryPolicy(RetryPolicy{MaxRetries: 5, MinBackoff: 20 * time.Second, MaxBackoff: 30 * time.Second, MaxWait: 30 * time.Second}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = c.Track(ctx, attrsReq("u1"))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Track returned after %s", d)
			}
			var rl *RateLimitError
			if !errors.As(err, &rl) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v (%T), want a *RateLimitError matching context.DeadlineExceeded", err, err)
			}
			if rl.Err == nil || rl.Err.StatusCode != 429 || rl.Err.Attempts != 1 || rec.requests() != 1 {
				t.Errorf("rate limit error %+v after %d requests", rl, rec.requests())
			}
			if tc.header != nil && rl.RetryAfter != 30*time.Second {
				t.Errorf("RetryAfter = %s, want 30s", rl.RetryAfter)
			}
			if !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "deadline") {
				t.Errorf("message %q", err)
			}
		})
	}
}
