package brazetest

import (
	"time"
)

// DefaultAPIKey is the REST API key a Server accepts unless WithAPIKey sets
// another. Server.Client sends it.
const DefaultAPIKey = "brazetest-api-key"

// Braze's documented limits, used as the Server's defaults.
const (
	// DefaultMaxObjects is the combined cap on attribute, event and purchase
	// objects in one /users/track request (rate-limits page, all
	// non-legacy customers).
	DefaultMaxObjects = 75
	// DefaultArrayMax is the default maximum length of a custom string
	// array attribute; Braze truncates longer arrays.
	DefaultArrayMax = 25
	// DefaultRequestHistory is how many requests Requests keeps by default.
	DefaultRequestHistory = 10000
	// DefaultRequestHistoryBytes bounds, by default, the memory the kept
	// requests hold (bodies, responses, headers): 10,000 full /users/track
	// bodies can take close to a gigabyte.
	DefaultRequestHistoryBytes = 64 << 20
	// BrazeRateLimit and BrazeRateWindow are Braze's /users/track budget
	// since 2024-10-28: 3,000 requests per 3 seconds per workspace.
	BrazeRateLimit  = 3000
	BrazeRateWindow = 3 * time.Second
)

// An Option configures a Server at construction. Behaviour that tests change
// while the server runs (faults, the rate limit) also has Server methods.
type Option func(*config)

type config struct {
	apiKey         string
	forbiddenKeys  map[string]bool
	maxObjects     int // combined cap; 0 when perArray is used
	perArray       int // legacy cap per array; 0 = combined mode
	arrayMax       int
	history        int
	historyBytes   int64
	rateLimit      RateLimit
	now            func() time.Time
	seed           uint64
	rejectMixed    bool
	nestedPerAttr  bool
	deferred       bool
	bulkMaxObjects int
	bulkMaxBytes   int
	bulkMaxPerUser int
	maxBodyBytes   int64
}

func defaultConfig() config {
	return config{
		apiKey:         DefaultAPIKey,
		maxObjects:     DefaultMaxObjects,
		arrayMax:       DefaultArrayMax,
		history:        DefaultRequestHistory,
		historyBytes:   DefaultRequestHistoryBytes,
		now:            time.Now,
		seed:           1,
		bulkMaxObjects: 1000,
		bulkMaxBytes:   2 << 20,
		bulkMaxPerUser: 100,
		maxBodyBytes:   32 << 20,
	}
}

// WithAPIKey sets the REST API key the server accepts (as "Bearer <key>").
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithForbiddenKey adds a key that authenticates but lacks the users.track
// permission: requests with it are answered 403, as Braze does.
func WithForbiddenKey(key string) Option {
	return func(c *config) {
		if c.forbiddenKeys == nil {
			c.forbiddenKeys = map[string]bool{}
		}
		c.forbiddenKeys[key] = true
	}
}

// WithMaxObjects sets the combined cap on objects across the three arrays
// (default 75; 50 for contracts on the first MAU wording). Past it the
// request fails with 400 "Max Input Length Exceeded". 0 removes the cap.
func WithMaxObjects(n int) Option {
	return func(c *config) { c.maxObjects, c.perArray = n, 0 }
}

// WithLegacyObjectLimit switches to the legacy rate-limit contract's rule:
// at most perArray objects in each of attributes, events and purchases
// independently (75 each, 225 in total, on those contracts).
func WithLegacyObjectLimit(perArray int) Option {
	return func(c *config) { c.perArray, c.maxObjects = perArray, 0 }
}

// WithArrayMax sets the maximum length of custom string arrays (Braze's
// default is 25, raisable to 100 per attribute). 0 removes the maximum.
func WithArrayMax(n int) Option {
	return func(c *config) { c.arrayMax = n }
}

// WithRequestHistory sets how many of the most recent requests Requests
// keeps (default 10,000); 0 keeps none, which suits long benchmarks. The
// byte bound (WithRequestHistoryBytes) applies as well.
func WithRequestHistory(n int) Option {
	return func(c *config) { c.history = n }
}

// WithRequestHistoryBytes bounds the memory the kept requests hold, by an
// estimate of their bodies, responses and headers (default 64 MiB): the
// oldest are dropped first, and the newest request is always kept. 0 or
// less removes the byte bound, leaving only WithRequestHistory's count.
func WithRequestHistoryBytes(n int64) Option {
	return func(c *config) { c.historyBytes = n }
}

// WithRateLimit enforces a request budget from the start; see
// Server.SetRateLimit.
func WithRateLimit(rl RateLimit) Option {
	return func(c *config) { c.rateLimit = rl }
}

// WithClock replaces time.Now for rate-limit windows, default event times
// and record timestamps, so tests of windows are deterministic.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithSeed seeds the random source behind Fault.Probability (default 1), so
// a run with the same requests in the same order fails the same ones.
func WithSeed(seed uint64) Option {
	return func(c *config) { c.seed = seed }
}

// WithRejectMixedIdentifiers makes the server reject, with 400, a request
// whose objects do not all use the same identifier kind. Amperity's Braze
// destination documents this rejection; Braze's own pages do not, so it is
// off by default.
func WithRejectMixedIdentifiers() Option {
	return func(c *config) { c.rejectMixed = true }
}

// WithNestedFailurePerAttribute narrows the effect of an invalid nested
// attribute value to that one attribute. By default the fake follows the
// users/track FAQ: one invalid nested value drops every nested-attribute
// update in the request (braze-docs issue #11289 describes the narrower
// reading this option selects).
func WithNestedFailurePerAttribute() Option {
	return func(c *config) { c.nestedPerAttr = true }
}

// WithDeferredApply starts the server in deferred mode: accepted requests
// are answered at once but applied only when the test calls ApplyPending,
// in the order it chooses. It imitates Braze's asynchronous processing, so
// a test can check what happens when updates land late or out of order.
// Server.SetDeferredApply switches the mode while the server runs.
func WithDeferredApply() Option {
	return func(c *config) { c.deferred = true }
}
