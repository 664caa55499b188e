package redislimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// localShare is the budget of one process while Redis does not answer: a
// 1/n share of the burst window (x/time/rate) and of the hourly budget
// (counted per clock hour of the local clock).
type localShare struct {
	lim    *rate.Limiter
	hourly int // per clock hour; 0: none

	mu   sync.Mutex
	hour int64 // the clock hour (Unix seconds / 3600) counted in used
	used int
}

func newLocalShare(perWindow, burst int, window time.Duration, hourly, n int) *localShare {
	perSec := float64(perWindow-burst) / window.Seconds() / float64(n)
	s := &localShare{lim: rate.NewLimiter(rate.Limit(perSec), max(1, burst/n))}
	if hourly > 0 {
		s.hourly = max(1, hourly/n)
	}
	return s
}

func (s *localShare) wait(ctx context.Context) error {
	for s.hourly > 0 {
		now := time.Now()
		h := now.Unix() / 3600
		s.mu.Lock()
		if h != s.hour {
			s.hour, s.used = h, 0
		}
		ok := s.used < s.hourly
		if ok {
			s.used++
		}
		s.mu.Unlock()
		if ok {
			break
		}
		next := time.Unix((h+1)*3600, 0)
		if err := sleep(ctx, next.Sub(now)); err != nil {
			return err
		}
	}
	return s.lim.Wait(ctx)
}
