package redislimit

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/servicetest"
	"github.com/redis/go-redis/v9"
)

// testRedisEnv overrides the Redis the tests use (default 127.0.0.1:6379,
// the machine's service that .ci/run starts when it is down).
const testRedisEnv = "AMPBRAZE_TEST_REDIS_ADDR"

func testRedisAddr() string {
	if a := os.Getenv(testRedisEnv); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// redisStart says how to bring Redis up for the tests.
const redisStart = "start Redis on 127.0.0.1:6379 (.ci/run does: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 ...), or set " + testRedisEnv

// redisVerdict decides what a test that needs Redis does when Redis did
// not answer: fail when CI is set (CI must run every test), skip otherwise.
func redisVerdict(addr string, err error, ci string) (fail bool, msg string) {
	return servicetest.Verdict("Redis", addr, err, ci, redisStart)
}

// redisAnswers pings the test Redis once per test binary, without the
// Redis client's dial retries, so that a machine without Redis skips
// every test that needs it quickly.
var redisAnswers = sync.OnceValue(func() error {
	rdb := redis.NewClient(&redis.Options{Addr: testRedisAddr(), DialTimeout: 2 * time.Second, DialerRetries: 1, MaxRetries: -1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return rdb.Ping(ctx).Err()
})

// needRedis returns a client of the test Redis and a key prefix unique to
// this test, whose keys are deleted when the test ends. It skips the test
// when Redis does not answer, or fails it when CI is set.
func needRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := testRedisAddr()
	servicetest.Need(t, "Redis", addr, redisAnswers(), redisStart)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, t.Name())
	prefix := fmt.Sprintf("ampbraze-test:%s:%d", name, time.Now().UnixNano())
	t.Cleanup(func() {
		deleteKeys(t, rdb, prefix)
		rdb.Close()
	})
	return rdb, prefix
}

// deleteKeys deletes this test's keys only: those under a hash tag that
// starts with its unique prefix (the test may extend the prefix for
// separate budgets), including redis_rate's "rate:" keys.
func deleteKeys(t testing.TB, rdb *redis.Client, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, "*{"+prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scanning the test's Redis keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("deleting the test's Redis keys: %v", err)
		}
	}
}

// newTestLimiter builds a Limiter on its own Redis client, as another
// process would have, closed when the test ends.
func newTestLimiter(t testing.TB, prefix string, opts ...Option) *Limiter {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: testRedisAddr(), DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	l, err := New(rdb, append([]Option{WithKeyPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// proxyTo listens on addr and forwards every connection to target until
// the test ends: a Redis that comes up at an address that was closed.
func proxyTo(t testing.TB, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, u)
			mu.Unlock()
			wg.Go(func() { io.Copy(u, c); u.Close() })
			wg.Go(func() { io.Copy(c, u); c.Close() })
		}
	})
}

// quietLogger silences go-redis's package-level logger in this test
// binary (it prints every failed dial of the Redis-down tests).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
