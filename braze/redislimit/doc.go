// Package redislimit shares one Braze /users/track budget between
// processes through Redis: a braze.Limiter for braze.WithLimiter, backed by
// github.com/go-redis/redis_rate (GCRA) over github.com/redis/go-redis.
//
// Braze enforces its limits per workspace, or per company on MAU contracts,
// and every sender draws on them, Braze's own Cloud Data Ingestion
// included. Without a shared limiter each process needs a hand-made slice
// of the budget (the program's -rate). With this one, every process using
// the same Redis and key prefix (WithKeyPrefix: the workspace or company)
// waits on the same budget:
//
//   - the burst window, 3,000 requests per 3 s by default (WithBurstLimit),
//     as a GCRA rate of (limit - burst) per window, so that no interval of
//     the window's length admits more than the limit;
//   - the hourly budget of MAU contracts (WithHourlyLimit), counted per
//     clock hour of the Redis server's clock under a key named by the hour
//     ("{prefix}:hour:<hours since the epoch>"), resetting on the hour as
//     Braze's does, rather than rolling;
//   - what any process learned from a response (the Limiter is also a
//     braze.LimitObserver, which the client calls after every attempt): a
//     429 or X-RateLimit-Remaining: 0 pauses every process until the wait
//     or reset it names, and a Remaining too low for the rest of the
//     server's window lowers every process's rate until the reset.
//
// One goroutine per process asks Redis at a time, so a client with 32
// requests in flight costs Redis no more than one with 1: a GCRA call per
// attempt (one per freed slot of the budget while it is saturated) and a
// script call per admitted request.
//
// # Redis down
//
// Wait fails closed: it returns an *UnavailableError naming the address
// (errors.Is(err, ErrUnavailable)), and a braze.Client reports it as the
// failure of the request without sending it. With WithFallback(n) it
// instead waits on a local x/time/rate limiter with a 1/n share of the
// budget. Either way one Wait every 2 s checks whether Redis is back, and
// the others do not touch Redis meanwhile.
//
// # Usage
//
//	lim, err := redislimit.Open("redis://127.0.0.1:6379/0",
//		redislimit.WithKeyPrefix("ampbraze:company-acme"),
//		redislimit.WithHourlyLimit(2_000_000), // from the API Usage Dashboard
//	)
//	if err != nil {
//		return err
//	}
//	defer lim.Close()
//	if err := lim.Ping(ctx); err != nil {
//		return err // names the address; errors.Is(err, redislimit.ErrUnavailable)
//	}
//	client, err := braze.NewClient(apiKey, braze.WithInstance("US-03"), braze.WithLimiter(lim))
//
// Run the same code in every process; each process's client may keep its
// default concurrency.
package redislimit
