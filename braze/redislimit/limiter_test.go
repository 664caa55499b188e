package redislimit

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Two Limiters on two Redis connections stand for two processes: together
// they must not go faster than one budget.
func TestWait_BurstWindowIsSharedAcrossProcesses(t *testing.T) {
	rdb, prefix := needRedis(t)
	const (
		perSecond = 50
		burst     = 5
		waits     = 50
	)
	a := newTestLimiter(t, prefix, WithBurstLimit(perSecond, time.Second), WithBurst(burst))
	b := newTestLimiter(t, prefix, WithBurstLimit(perSecond, time.Second), WithBurst(burst))
	ctx := context.Background()
	var got [2]atomic.Int64
	var wg sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	for i := range 4 {
		l, n := a, &got[0]
		if i%2 == 1 {
			l, n = b, &got[1]
		}
		wg.Go(func() {
			for next.Add(1) <= waits {
				if err := l.Wait(ctx); err != nil {
					t.Error(err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// GCRA at 45/s after a burst of 5: the 50th request starts 1 s in.
	if min := 900 * time.Millisecond; elapsed < min {
		t.Errorf("%d waits over two processes took %s; one budget of %d/s needs at least %s", waits, elapsed, perSecond, min)
	}
	if got[0].Load() == 0 || got[1].Load() == 0 {
		t.Errorf("admissions per process = %d, %d; both should get some", got[0].Load(), got[1].Load())
	}
	// The GCRA state is redis_rate's key under this prefix's hash tag.
	if n, err := rdb.Exists(ctx, "rate:{"+prefix+"}:burst").Result(); err != nil || n != 1 {
		t.Errorf("GCRA key: exists = %d, err = %v", n, err)
	}
}

// A separate prefix is a separate budget (another workspace or company).
func TestWait_PrefixesAreSeparateBudgets(t *testing.T) {
	_, prefix := needRedis(t)
	// A burst of 10, then 1 request a second.
	a := newTestLimiter(t, prefix+"-a", WithBurstLimit(11, time.Second), WithBurst(10))
	b := newTestLimiter(t, prefix+"-b", WithBurstLimit(11, time.Second), WithBurst(10))
	ctx := context.Background()
	start := time.Now()
	for range 10 {
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Each prefix has its own burst of 10: 20 waits need no pacing. On one
	// budget the last 10 would take 10 s.
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("20 waits over two prefixes took %s; each prefix should spend only its own burst", elapsed)
	}
}

func TestWait_HourlyBudgetCountsPerClockHour(t *testing.T) {
	rdb, prefix := needRedis(t)
	l := newTestLimiter(t, prefix, WithHourlyLimit(3))
	b := newTestLimiter(t, prefix, WithHourlyLimit(3))
	ctx := context.Background()
	// Keep the three requests inside one clock hour of the Redis clock.
	if now, err := rdb.Time(ctx).Result(); err != nil {
		t.Fatal(err)
	} else if left := now.Truncate(time.Hour).Add(time.Hour).Sub(now); left < 10*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	for i := range 3 {
		lim := l
		if i == 1 {
			lim = b // another process draws on the same hour
		}
		if err := lim.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	hour := now.Unix() / 3600
	key := "{" + prefix + "}:hour:" + strconv.FormatInt(hour, 10)
	if n, err := rdb.Get(ctx, key).Int(); err != nil || n != 3 {
		t.Fatalf("hour counter %s = %d (err %v), want 3", key, n, err)
	}
	// The counter ends with its clock hour (plus a minute kept for
	// inspection), so the budget resets on the hour, not an hour after
	// the first request.
	exp, err := rdb.ExpireTime(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := (hour+1)*3600 + 60; int64(exp/time.Second) != want {
		t.Errorf("EXPIRETIME %s = %d, want %d (the next clock hour + 60 s)", key, int64(exp/time.Second), want)
	}
	// The fourth request of the hour waits for the next hour.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := b.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
		if time.Now().Unix()/3600 == hour {
			t.Fatalf("fourth Wait of the hour: err = %v, want it held until the next hour", err)
		}
	}
}

// The hour is shortened to 2 s to see the budget reset on the window's
// boundary (aligned to the epoch, as the clock hour is), not 2 s after the
// first request.
func TestWait_HourlyBudgetResetsOnTheBoundary(t *testing.T) {
	rdb, prefix := needRedis(t)
	l := newTestLimiter(t, prefix, WithHourlyLimit(2))
	l.hourWindow = 2 * time.Second
	ctx := context.Background()
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	third, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	win := func(tm time.Time) int64 { return tm.Unix() / 2 }
	if win(second) == win(first) && win(third) <= win(second) {
		t.Errorf("third request admitted at %s in the window of the first two (%s): the budget of 2 was spent", third, first)
	}
	if win(third) > win(first)+1 {
		t.Errorf("third request admitted at %s, later than the next window after %s", third, first)
	}
}

func TestWait_EndsWithTheContext(t *testing.T) {
	_, prefix := needRedis(t)
	l := newTestLimiter(t, prefix, WithBurstLimit(2, time.Hour), WithBurst(1))
	ctx := context.Background()
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	if err := l.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Wait returned %s after the cancel", elapsed)
	}
	done, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := l.Wait(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a done context = %v", err)
	}
}

func TestPing_AnswersWhenRedisIsUp(t *testing.T) {
	_, prefix := needRedis(t)
	l := newTestLimiter(t, prefix)
	if err := l.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
