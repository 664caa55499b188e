package redislimit

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestNew_RejectsBadOptionsNamingThem(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"empty prefix", []Option{WithKeyPrefix("")}, "WithKeyPrefix"},
		{"prefix with a brace", []Option{WithKeyPrefix("a{b}")}, "WithKeyPrefix"},
		{"prefix with a space", []Option{WithKeyPrefix("a b")}, "WithKeyPrefix"},
		{"zero burst limit", []Option{WithBurstLimit(0, time.Second)}, "WithBurstLimit: 0 requests per 1s"},
		{"zero burst window", []Option{WithBurstLimit(10, 0)}, "WithBurstLimit"},
		{"zero burst", []Option{WithBurst(0)}, "WithBurst: 0"},
		{"burst at the limit", []Option{WithBurstLimit(10, time.Second), WithBurst(10)}, "burst 10 must be below the burst limit of 10 requests per 1s"},
		{"zero hourly", []Option{WithHourlyLimit(0)}, "WithHourlyLimit: 0"},
		{"zero processes", []Option{WithFallback(0)}, "WithFallback: 0 processes"},
		{"zero max wait", []Option{WithMaxWait(0)}, "WithMaxWait"},
		{"nil logger", []Option{WithLogger(nil)}, "WithLogger: nil logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(rdb, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(nil); err == nil || !strings.Contains(err.Error(), "nil Redis client") {
		t.Fatalf("New(nil): err = %v", err)
	}
}

func TestNew_DefaultsAreBrazesBurstWindow(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	l, err := New(rdb)
	if err != nil {
		t.Fatal(err)
	}
	// 3,000 per 3 s with a burst of 30: GCRA at 2,970 per 3 s, so no 3 s
	// interval admits more than 3,000.
	if l.base.Rate != 2970 || l.base.Period != 3*time.Second || l.base.Burst != 30 {
		t.Errorf("base limit = %v, want 2970 per 3s, burst 30", l.base)
	}
	if l.burstKey != "{ampbraze}:burst" || l.hourKey != "{ampbraze}:hour" {
		t.Errorf("keys = %q, %q", l.burstKey, l.hourKey)
	}
	if l.Addr() != "127.0.0.1:6379" {
		t.Errorf("Addr = %q", l.Addr())
	}
	if l.hourly != 0 || l.fallback != nil {
		t.Errorf("hourly = %d, fallback = %v; want none by default", l.hourly, l.fallback)
	}
}

func TestOpen_InvalidURLDoesNotEchoIt(t *testing.T) {
	_, err := Open("http://user:s3cret@example.com:6379")
	if err == nil {
		t.Fatal("Open accepted an http:// URL")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error leaks the password: %v", err)
	}
	l, err := Open("redis://127.0.0.1:6399/2", WithKeyPrefix("ws-1"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr() != "127.0.0.1:6399" {
		t.Errorf("Addr = %q", l.Addr())
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestRedisVerdict_SkipsLocallyFailsInCI(t *testing.T) {
	err := errTest("connection refused")
	fail, msg := redisVerdict("127.0.0.1:6379", err, "")
	if fail || !strings.Contains(msg, "127.0.0.1:6379") || !strings.Contains(msg, "skipping") {
		t.Errorf("without CI: fail=%v msg=%q", fail, msg)
	}
	fail, msg = redisVerdict("127.0.0.1:6379", err, "true")
	if !fail || !strings.Contains(msg, "CI is set") {
		t.Errorf("with CI: fail=%v msg=%q", fail, msg)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
