package redislimit

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

// DefaultKeyPrefix is the key prefix used without WithKeyPrefix. Senders
// that share a prefix share one budget, so a deployment that talks to
// several Braze workspaces (or companies) must give each its own.
const DefaultKeyPrefix = "ampbraze"

// DefaultMaxWait caps a pause learned from a response, like the client's
// RetryPolicy.MaxWait, so a broken or hostile header cannot stall every
// process.
const DefaultMaxWait = 60 * time.Second

// Option configures a Limiter.
type Option func(*config) error

type config struct {
	prefix    string
	perWindow int
	window    time.Duration
	burst     int // 0: the default, 1% of perWindow
	hourly    int
	share     int // WithFallback; 0: fail closed
	maxWait   time.Duration
	logger    *slog.Logger
}

func defaultConfig() config {
	return config{
		prefix:    DefaultKeyPrefix,
		perWindow: braze.DefaultRequestsPerWindow,
		window:    braze.DefaultRateWindow,
		maxWait:   DefaultMaxWait,
	}
}

// WithKeyPrefix names the budget in Redis. Braze enforces /users/track
// limits per workspace on data-point contracts and per company on MAU
// contracts (where all workspaces share the burst), so use the workspace or
// company as the prefix, e.g. "ampbraze:company-acme". Every key of the
// Limiter is "{prefix}:...": the braces are a Redis Cluster hash tag that
// keeps them on one node, so the prefix must not contain braces or
// whitespace.
func WithKeyPrefix(prefix string) Option {
	return func(c *config) error {
		if prefix == "" || strings.ContainsAny(prefix, "{} \t\r\n") {
			return fmt.Errorf("redislimit: WithKeyPrefix: %q must be non-empty without braces or whitespace", prefix)
		}
		c.prefix = prefix
		return nil
	}
}

// WithBurstLimit sets the short window: at most requests per window, across
// every process sharing the prefix (default 3,000 per 3 s, Braze's
// /users/track burst window). The GCRA rate is (requests - burst) per
// window, so no interval of that length admits more than requests, whatever
// its alignment with the server's windows.
func WithBurstLimit(requests int, per time.Duration) Option {
	return func(c *config) error {
		if requests <= 0 || per <= 0 {
			return fmt.Errorf("redislimit: WithBurstLimit: %d requests per %s is not a positive rate", requests, per)
		}
		c.perWindow, c.window = requests, per
		return nil
	}
}

// WithBurst sets how many requests may start back to back after a quiet
// spell (default 1% of the burst limit, at least 1). A larger burst absorbs
// timer and network jitter between processes; it is taken out of the
// window's rate (see WithBurstLimit), so it must be below the burst limit.
func WithBurst(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("redislimit: WithBurst: %d is not positive", n)
		}
		c.burst = n
		return nil
	}
}

// WithHourlyLimit sets the hourly budget of MAU contracts: at most requests
// per clock hour (UTC, by the Redis server's clock), resetting on the hour
// rather than rolling, across every process sharing the prefix. The default
// is no hourly budget (data-point contracts have only the burst window).
func WithHourlyLimit(requests int) Option {
	return func(c *config) error {
		if requests <= 0 {
			return fmt.Errorf("redislimit: WithHourlyLimit: %d is not positive", requests)
		}
		c.hourly = requests
		return nil
	}
}

// WithFallback makes Wait fall back, while Redis does not answer, to a
// local limiter with a 1/processes share of the budget (burst window and
// hourly limit), instead of failing closed. processes is the number of
// senders sharing the budget; the shares then add up to the budget, so the
// fallback cannot exceed it as long as that number is right.
func WithFallback(processes int) Option {
	return func(c *config) error {
		if processes <= 0 {
			return fmt.Errorf("redislimit: WithFallback: %d processes is not positive", processes)
		}
		c.share = processes
		return nil
	}
}

// WithMaxWait caps a pause learned from X-RateLimit-* headers or a 429
// (default 60 s, the client's default RetryPolicy.MaxWait).
func WithMaxWait(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("redislimit: WithMaxWait: %s is not positive", d)
		}
		c.maxWait = d
		return nil
	}
}

// WithLogger sets the logger. The Limiter is silent by default; it logs a
// switch to and from the fallback at Warn and shared pauses at Debug.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("redislimit: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}
