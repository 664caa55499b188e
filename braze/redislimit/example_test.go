package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/redislimit"
)

// Every process of a deployment runs the same code: their clients then
// share one Braze budget. (Not run as a test: it needs Redis and Braze.)
func Example() {
	ctx := context.Background()
	lim, err := redislimit.Open("redis://127.0.0.1:6379/0",
		redislimit.WithKeyPrefix("ampbraze:company-acme"), // the workspace or company
		redislimit.WithHourlyLimit(2_000_000),             // MAU contracts: from the API Usage Dashboard
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lim.Close()
	if err := lim.Ping(ctx); errors.Is(err, redislimit.ErrUnavailable) {
		fmt.Println(err) // names the Redis address
		return
	}
	client, err := braze.NewClient("YOUR-REST-API-KEY", braze.WithInstance("US-03"), braze.WithLimiter(lim))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.Track(ctx, braze.TrackRequest{Attributes: []*braze.UserAttributes{{ExternalID: "u1"}}})
	fmt.Println(err)
}

// New takes a Redis client the caller keeps (a cluster client works too:
// every key of one prefix lives in one hash slot). WithFallback keeps
// sending at a quarter of the budget while Redis is down, for a deployment
// of four processes.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	lim, err := redislimit.New(rdb,
		redislimit.WithKeyPrefix("ampbraze:workspace-eu"),
		redislimit.WithBurstLimit(3000, 3*time.Second),
		redislimit.WithFallback(4),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = lim // braze.WithLimiter(lim)
}
