package braze_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

type observation struct {
	info   braze.RateLimitInfo
	status int
	tag    any
}

// observingLimiter admits everything and records what the client tells it.
type observingLimiter struct {
	mu    sync.Mutex
	waits int
	seen  []observation
}

func (l *observingLimiter) Wait(context.Context) error {
	l.mu.Lock()
	l.waits++
	l.mu.Unlock()
	return nil
}

func (l *observingLimiter) ObserveRateLimit(ctx context.Context, info braze.RateLimitInfo, status int) {
	l.mu.Lock()
	l.seen = append(l.seen, observation{info, status, ctx.Value(tagKey{})})
	l.mu.Unlock()
}

type tagKey struct{}

// TestRegression_Issue15_LimiterObservesEveryResponse: a Limiter that
// implements LimitObserver (as the Redis-shared one does) hears the parsed
// rate-limit headers and status of every response, with the request's
// context, so it can share them with other processes.
func TestRegression_Issue15_LimiterObservesEveryResponse(t *testing.T) {
	srv := brazetest.NewServer(t, brazetest.WithRateLimit(brazetest.RateLimit{Limit: 1, Window: 10 * time.Second, RetryAfter: true}))
	lim := &observingLimiter{}
	// No retries, and a short cap on the client's own pause, so the second
	// request meets the spent window at once.
	client := srv.Client(braze.WithLimiter(lim), braze.WithRetryPolicy(braze.RetryPolicy{MaxRetries: -1, MaxWait: 10 * time.Millisecond}))
	ctx := context.WithValue(context.Background(), tagKey{}, "req")
	req := braze.TrackRequest{Attributes: []*braze.UserAttributes{{ExternalID: "u1"}}}
	if _, err := client.Track(ctx, req); err != nil {
		t.Fatalf("first request: %v", err)
	}
	_, err := client.Track(ctx, req)
	var rl *braze.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("second request: %v, want a *RateLimitError", err)
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if lim.waits != 2 || len(lim.seen) != 2 {
		t.Fatalf("waits = %d, observations = %d; want 2 and 2", lim.waits, len(lim.seen))
	}
	first, second := lim.seen[0], lim.seen[1]
	if first.status != http.StatusCreated || first.info.Limit != 1 || first.info.Remaining != 0 || first.info.Reset.IsZero() {
		t.Errorf("first observation = %+v, want 201 with Limit 1, Remaining 0 and a Reset", first)
	}
	if second.status != http.StatusTooManyRequests || second.info.RetryAfter <= 0 {
		t.Errorf("second observation = %+v, want 429 with a RetryAfter", second)
	}
	if first.tag != "req" || second.tag != "req" {
		t.Errorf("observer contexts carry %v, %v; want the request's context", first.tag, second.tag)
	}
}

// TestRegression_Issue15_PlainRateLimiterStillAccepted: the optional
// interface leaves Limiter as it was; *rate.Limiter needs no new method.
func TestRegression_Issue15_PlainRateLimiterStillAccepted(t *testing.T) {
	srv := brazetest.NewServer(t)
	var lim braze.Limiter = rate.NewLimiter(rate.Limit(100), 1)
	if _, ok := lim.(braze.LimitObserver); ok {
		t.Fatal("*rate.Limiter unexpectedly implements LimitObserver")
	}
	client := srv.Client(braze.WithLimiter(lim))
	if _, err := client.Track(context.Background(), braze.TrackRequest{Attributes: []*braze.UserAttributes{{ExternalID: "u1"}}}); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Accepted != 1 {
		t.Errorf("accepted = %d, want 1", st.Accepted)
	}
}
