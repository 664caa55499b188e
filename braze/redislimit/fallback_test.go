package redislimit

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// downLimiter is a Limiter whose Redis is a closed loopback port.
func downLimiter(t *testing.T, opts ...Option) (*Limiter, string) {
	t.Helper()
	addr := closedAddr(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	l, err := New(rdb, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l, addr
}

func TestWait_RedisDownFailsClosedNamingTheAddress(t *testing.T) {
	l, addr := downLimiter(t)
	start := time.Now()
	err := l.Wait(context.Background())
	if err == nil {
		t.Fatal("Wait succeeded with Redis down; it must fail closed")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("errors.Is(%v, ErrUnavailable) = false", err)
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Addr != addr {
		t.Errorf("error %v: want an *UnavailableError with Addr %s", err, addr)
	}
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "fail closed") {
		t.Errorf("message %q should name %s and say it fails closed", err, addr)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("failing closed took %s", elapsed)
	}
	if err := l.Ping(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ping = %v, want ErrUnavailable", err)
	}
}

// With Redis down and no fallback, a client sends nothing and reports the
// error on every update.
func TestTrackAll_RedisDownSendsNothing(t *testing.T) {
	l, addr := downLimiter(t)
	srv := brazetest.NewServer(t)
	client := srv.Client(braze.WithLimiter(l))
	updates := func(yield func(braze.Update) bool) {
		for _, id := range []string{"u1", "u2", "u3"} {
			if !yield(braze.Update{Attributes: &braze.UserAttributes{ExternalID: id}}) {
				return
			}
		}
	}
	var n int
	for r := range client.TrackAll(context.Background(), iter.Seq[braze.Update](updates), braze.WithBatchSize(1)) {
		n++
		if r.Kind() != braze.ResultFailed || !errors.Is(r.Err, ErrUnavailable) || !strings.Contains(r.Err.Error(), addr) {
			t.Errorf("result %d: status %s, err %v; want failed with ErrUnavailable naming %s", r.Seq, r.Kind(), r.Err, addr)
		}
	}
	if n != 3 {
		t.Errorf("%d results, want 3", n)
	}
	if st := srv.Stats(); st.Requests != 0 {
		t.Errorf("fake Braze received %d requests with the limiter's Redis down", st.Requests)
	}
}

func TestWait_RedisDownFallsBackToTheLocalShare(t *testing.T) {
	// 100/s with a burst of 4 is 96/s of GCRA; a quarter share is 24/s
	// with a burst of 1.
	l, _ := downLimiter(t, WithBurstLimit(100, time.Second), WithBurst(4), WithFallback(4))
	ctx := context.Background()
	// The first Wait finds Redis down (after the Redis client's own dial
	// retries) and already uses the share.
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	start := time.Now()
	for i := range 25 {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	// 25 more at 24/s: about 1 s. Faster would overspend the share, much
	// slower would mean Redis is asked again on every call.
	if elapsed < 900*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("25 waits on the local share took %s, want about 1s", elapsed)
	}
}

func TestLocalShare_HourlyShare(t *testing.T) {
	s := newLocalShare(1000, 10, time.Second, 8, 4) // 2 per hour for this process
	ctx := context.Background()
	for i := range 2 {
		if err := s.wait(ctx); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := s.wait(cctx); !errors.Is(err, context.DeadlineExceeded) && time.Now().Unix()/3600 == s.hour {
		t.Errorf("third wait of the hour with a share of 2: %v, want held until the next hour", err)
	}
}

func TestWait_RedisDownFailsFastAfterTheFirstFailure(t *testing.T) {
	l, addr := downLimiter(t)
	ctx := context.Background()
	if err := l.Wait(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first Wait = %v", err)
	}
	// Until the next probe, Waits fail at once with the same clear error,
	// instead of each sitting through the Redis client's dial retries.
	start := time.Now()
	for range 10 {
		err := l.Wait(ctx)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("Wait = %v, want ErrUnavailable naming %s", err, addr)
		}
	}
	// Asking Redis each time would take the dial retries (over 1 s) each.
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("10 Waits with Redis known down took %s", elapsed)
	}
}

// When Redis comes back, the probe finds it and Waits are on the shared
// budget again.
func TestWait_FallbackReturnsToRedisWhenItAnswers(t *testing.T) {
	rdb, prefix := needRedis(t)
	addr := closedAddr(t)
	client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	l, err := New(client, WithKeyPrefix(prefix), WithFallback(2))
	if err != nil {
		t.Fatal(err)
	}
	l.recheck = 100 * time.Millisecond
	ctx := context.Background()
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("Wait on the fallback: %v", err)
	}
	if l.downError() == nil {
		t.Fatal("Redis at a closed port not marked down")
	}
	gcraKey := "rate:{" + prefix + "}:burst"
	if n, _ := rdb.Exists(ctx, gcraKey).Result(); n != 0 {
		t.Fatal("the shared budget was used while Redis was down")
	}
	proxyTo(t, addr, testRedisAddr()) // Redis is back at addr
	time.Sleep(150 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for l.downError() != nil && time.Now().Before(deadline) {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := l.downError(); err != nil {
		t.Fatalf("still down after Redis came back: %v", err)
	}
	if n, err := rdb.Exists(ctx, gcraKey).Result(); err != nil || n != 1 {
		t.Errorf("shared budget key after recovery: exists = %d, %v", n, err)
	}
}
