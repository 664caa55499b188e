package redislimit

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// waitTime is how long one Wait of l took.
func waitTime(t *testing.T, l *Limiter) time.Duration {
	t.Helper()
	start := time.Now()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

func TestObserve_429PausesEveryProcess(t *testing.T) {
	_, prefix := needRedis(t)
	a := newTestLimiter(t, prefix)
	b := newTestLimiter(t, prefix)
	a.ObserveRateLimit(context.Background(), braze.RateLimitInfo{Remaining: -1, RetryAfter: 700 * time.Millisecond}, http.StatusTooManyRequests)
	if d := waitTime(t, b); d < 550*time.Millisecond {
		t.Errorf("another process waited %s after a 429 asking for 700ms", d)
	}
}

func TestObserve_429WithResetOnlyPausesUntilReset(t *testing.T) {
	_, prefix := needRedis(t)
	a := newTestLimiter(t, prefix)
	b := newTestLimiter(t, prefix)
	a.ObserveRateLimit(context.Background(), braze.RateLimitInfo{Remaining: 0, Limit: 10, Reset: time.Now().Add(600 * time.Millisecond)}, http.StatusTooManyRequests)
	if d := waitTime(t, b); d < 450*time.Millisecond {
		t.Errorf("another process waited %s after a 429 with a reset 600ms away", d)
	}
}

func TestObserve_RemainingZeroPausesEveryProcessUntilReset(t *testing.T) {
	rdb, prefix := needRedis(t)
	a := newTestLimiter(t, prefix)
	b := newTestLimiter(t, prefix)
	a.ObserveRateLimit(context.Background(), braze.RateLimitInfo{Limit: 3000, Remaining: 0, Reset: time.Now().Add(600 * time.Millisecond)}, http.StatusCreated)
	if v, err := rdb.Get(context.Background(), "{"+prefix+"}:pause").Result(); err != nil || v != "remaining=0" {
		t.Errorf("pause key = %q, %v; want the reason", v, err)
	}
	if d := waitTime(t, b); d < 450*time.Millisecond {
		t.Errorf("another process waited %s with the window spent until 600ms from now", d)
	}
}

func TestObserve_LowRemainingSlowsEveryProcess(t *testing.T) {
	_, prefix := needRedis(t)
	a := newTestLimiter(t, prefix, WithBurstLimit(1000, time.Second))
	b := newTestLimiter(t, prefix, WithBurstLimit(1000, time.Second))
	// 4 left for the next second: 4/s, far below the 990/s budget.
	a.ObserveRateLimit(context.Background(), braze.RateLimitInfo{Limit: 1000, Remaining: 4, Reset: time.Now().Add(time.Second)}, http.StatusCreated)
	start := time.Now()
	for range 4 {
		waitTime(t, b)
	}
	// b learns the rate with its first admission; its second follows at
	// once (the last slot of the old rate), then the next two 250ms apart.
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("4 waits of another process took %s at a shared 4/s", d)
	}
	// After the reset the budget is back.
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	start = time.Now()
	for range 5 {
		waitTime(t, b)
	}
	// At the lower rate they would take 1 s.
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("5 waits after the reset took %s; the lower rate should have ended", d)
	}
}

func TestObserve_PauseIsCappedByMaxWait(t *testing.T) {
	_, prefix := needRedis(t)
	a := newTestLimiter(t, prefix, WithMaxWait(300*time.Millisecond))
	b := newTestLimiter(t, prefix, WithMaxWait(300*time.Millisecond))
	a.ObserveRateLimit(context.Background(), braze.RateLimitInfo{Remaining: -1, RetryAfter: time.Hour}, http.StatusTooManyRequests)
	if d := waitTime(t, b); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("wait after a 429 asking for an hour = %s, want about the 300ms cap", d)
	}
}

func TestObserve_OrdinaryResponsesWriteNothing(t *testing.T) {
	rdb, prefix := needRedis(t)
	a := newTestLimiter(t, prefix)
	ctx := context.Background()
	a.ObserveRateLimit(ctx, braze.RateLimitInfo{Limit: 3000, Remaining: 2990, Reset: time.Now().Add(3 * time.Second)}, http.StatusCreated)
	a.ObserveRateLimit(ctx, braze.RateLimitInfo{Remaining: -1}, http.StatusCreated)
	a.ObserveRateLimit(ctx, braze.RateLimitInfo{Remaining: 0}, http.StatusCreated) // no reset: nothing to wait for
	n, err := rdb.Exists(ctx, "{"+prefix+"}:pause", "{"+prefix+"}:slow").Result()
	if err != nil || n != 0 {
		t.Errorf("pause/slow keys after ordinary responses: %d, %v", n, err)
	}
}

// TestRegression_Issue15_ClientResponseSlowsOtherProcesses runs the whole
// path: a braze.Client on one Limiter meets a spent window at the fake
// Braze, and a second Limiter (another process) waits for the reset
// without ever having seen a response.
func TestRegression_Issue15_ClientResponseSlowsOtherProcesses(t *testing.T) {
	_, prefix := needRedis(t)
	srv := brazetest.NewServer(t, brazetest.WithRateLimit(brazetest.RateLimit{Limit: 2, Window: 2 * time.Second}))
	a := newTestLimiter(t, prefix, WithBurstLimit(1000, time.Second))
	b := newTestLimiter(t, prefix, WithBurstLimit(1000, time.Second))
	client := srv.Client(braze.WithLimiter(a), braze.WithRetryPolicy(braze.RetryPolicy{MaxRetries: -1}))
	ctx := context.Background()
	// Wait for the start of a fresh 2 s window so that both requests fall
	// into it.
	now := time.Now()
	time.Sleep(now.Truncate(2 * time.Second).Add(2 * time.Second).Sub(now))
	for i := range 2 {
		_, err := client.Track(ctx, braze.TrackRequest{Attributes: []*braze.UserAttributes{{ExternalID: "u" + string(rune('0'+i))}}})
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	// The second answer said Remaining: 0 until the window resets, about
	// 2 s from its start: process b has to sit it out.
	reset := now.Truncate(2 * time.Second).Add(4 * time.Second)
	waited := waitTime(t, b)
	if left := time.Until(reset); left > 100*time.Millisecond {
		t.Errorf("process b was admitted %s before the window's reset (waited %s)", left, waited)
	}
	if st := srv.Stats(); st.RateLimited != 0 {
		t.Errorf("fake Braze answered %d 429s", st.RateLimited)
	}
}
