package braze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// ErrNoEndpoint is returned by NewClient when neither WithInstance nor
// WithBaseURL is given. A key belongs to one Braze instance and any other
// instance answers 401, so the client does not guess one. Its text reaches
// the users of programs, so it names the setting as well as the option.
var ErrNoEndpoint = errors.New("braze: no Braze endpoint: set the instance of the API key (\"US-03\", \"EU-01\", ...: WithInstance, or -instance in the programs) or its REST endpoint URL (WithBaseURL, or -endpoint); a key sent to another instance is answered 401")

// Default limits. They follow Braze's documented limits for /users/track as
// of 2024-10 (see the package documentation).
const (
	// DefaultRequestsPerWindow and DefaultRateWindow are the users.track
	// budget: 3,000 requests per 3 seconds per workspace.
	DefaultRequestsPerWindow = 3000
	DefaultRateWindow        = 3 * time.Second
	// DefaultMaxResponseBytes caps how much of a response body is read.
	DefaultMaxResponseBytes = 4 << 20
	// DefaultMaxArrayLength is Braze's default cap on string-array attributes.
	DefaultMaxArrayLength = 25
)

// Client sends /users/track requests. It is safe for concurrent use; every
// goroutine shares its rate limiter. A Client holds no goroutines, so it
// needs no Close.
type Client struct {
	key        *secret // a pointer, so that fmt and slog print an address, never the key
	endpoint   string
	http       *retryablehttp.Client
	limiter    Limiter
	adaptive   *adaptiveLimiter // the default limiter, nil with WithLimiter
	gate       *pauseGate
	bulk       bool
	logger     *slog.Logger
	retry      RetryPolicy
	validate   bool
	checks     *checker // the validation's reused state: the array cap, the time zones seen
	bulkHeader bool
	maxResp    int64
	rateBudget float64 // requests per second, for reporting
}

// secret keeps the API key out of fmt output and logs. The Client holds
// it behind a pointer: fmt prints a pointer nested in a struct as an
// address, and it cannot call the methods of an unexported field, so a
// string-typed field would be printed verbatim by fmt.Printf("%+v",
// *client) or slog's text output of a copied Client. The methods cover
// the secret printed on its own.
type secret struct{ key string }

func (*secret) String() string   { return "[REDACTED]" }
func (*secret) GoString() string { return "[REDACTED]" }
func (*secret) LogValue() slog.Value {
	return slog.StringValue("[REDACTED]")
}

// Format prints [REDACTED] whatever the verb and flags.
func (*secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[REDACTED]") }

// String describes the client without its API key.
func (c *Client) String() string { return "braze.Client{endpoint: " + c.endpoint + "}" }

// GoString describes the client without its API key, for %#v.
func (c *Client) GoString() string { return c.String() }

// Option configures a Client.
type Option func(*config) error

type config struct {
	baseURL      string
	httpClient   *http.Client
	logger       *slog.Logger
	limiter      Limiter
	perWindow    int
	window       time.Duration
	retry        RetryPolicy
	allowHTTP    bool
	noValidation bool
	maxArray     int
	bulkHeader   bool
	bulkEndpoint bool
	maxResp      int64
}

// WithBaseURL sets the REST endpoint, for clusters not in the instance table
// and for tests. An http:// URL is accepted only for loopback hosts
// (127.0.0.1, ::1, localhost) unless WithInsecureHTTP is also given, so that
// the API key is never sent in clear text by mistake.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		c.baseURL = u
		return nil
	}
}

// WithInstance selects the REST endpoint of a Braze instance by name
// ("US-03", "EU-01", "US-10"), dashboard URL ("https://dashboard-03.braze.com")
// or dashboard host. See Instances.
func WithInstance(name string) Option {
	return func(c *config) error {
		in, err := LookupInstance(name)
		if err != nil {
			return err
		}
		c.baseURL = in.RESTEndpoint
		return nil
	}
}

// WithHTTPClient sets the HTTP client. Its transport is wrapped (the
// caller's client is not modified) to add rate limiting and retries; its
// Timeout bounds each attempt. Redirects are never followed (a 3xx is a
// failed request), so the key cannot be carried to another host. Without it the client uses a pooled copy of
// http.DefaultTransport and a 2-minute timeout per attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("braze: WithHTTPClient: nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger sets the logger. The client is silent by default. The API key
// and request bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("braze: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithRateLimit sets the request budget: requests per window (default
// 3,000 per 3 s, or 50 per second with WithBulkEndpoint), shared by every
// goroutine using the client. The default limiter also slows down when
// X-RateLimit-Remaining and X-RateLimit-Reset say less is left.
func WithRateLimit(requests int, per time.Duration) Option {
	return func(c *config) error {
		if requests <= 0 || per <= 0 {
			return fmt.Errorf("braze: a rate limit of %d requests per %s is not a positive rate (WithRateLimit, or -rate and -rate-window in the programs)", requests, per)
		}
		c.perWindow, c.window = requests, per
		return nil
	}
}

// Limiter decides when the next HTTP attempt may start. Wait blocks until
// then, or returns an error (such as ctx.Err()) to abandon the attempt.
// *rate.Limiter from golang.org/x/time/rate implements it; another
// implementation can share one budget between processes.
type Limiter interface {
	Wait(ctx context.Context) error
}

// WithLimiter replaces the client's own rate limiter. The client still
// pauses on X-RateLimit-* headers and 429 waits before calling it.
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("braze: WithLimiter: nil limiter")
		}
		c.limiter = l
		return nil
	}
}

// AmbiguousRetry says whether a request is retried after an ambiguous
// failure: a transport error or timeout after the request was written, when
// Braze may have processed it.
type AmbiguousRetry uint8

const (
	// RetryIdempotent retries ambiguous failures only for requests whose
	// objects are all safe to apply twice: attribute updates without inc or
	// $add. Requests with events, purchases, inc or $add fail instead
	// (with *RequestError.Ambiguous set). This is the default.
	RetryIdempotent AmbiguousRetry = iota
	// RetryAlways retries every ambiguous failure, accepting that events,
	// purchases, inc and $add may be applied twice.
	RetryAlways
	// RetryNever never retries an ambiguous failure.
	RetryNever
)

// RetryPolicy controls retries of 429, 5xx and transport errors. 400, 401,
// 403 and 404 are never retried, and a cancelled context stops at once.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt (0
	// takes the default, 5; a negative value disables retries).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the jittered exponential backoff used
	// when the server gives no wait (defaults 500 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// MaxWait caps any wait the server asks for through X-RateLimit-* or
	// Retry-After headers (default 60 s), so a hostile or broken header
	// cannot stall the client.
	MaxWait time.Duration
	// Ambiguous is the policy for ambiguous failures.
	Ambiguous AmbiguousRetry
}

// DefaultRetryPolicy returns the policy used when WithRetryPolicy is not
// given.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 5, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, MaxWait: 60 * time.Second}
}

// WithRetryPolicy sets the retry policy. Zero fields take their defaults,
// so RetryPolicy{Ambiguous: RetryAlways} changes only that.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MinBackoff < 0 || p.MaxBackoff < 0 || p.MaxWait < 0 {
			return errors.New("braze: WithRetryPolicy: negative duration")
		}
		d := DefaultRetryPolicy()
		if p.MinBackoff == 0 {
			p.MinBackoff = d.MinBackoff
		}
		if p.MaxBackoff == 0 {
			p.MaxBackoff = d.MaxBackoff
		}
		if p.MaxBackoff < p.MinBackoff {
			p.MaxBackoff = p.MinBackoff
		}
		if p.MaxWait == 0 {
			p.MaxWait = d.MaxWait
		}
		switch {
		case p.MaxRetries == 0:
			p.MaxRetries = d.MaxRetries
		case p.MaxRetries < 0:
			p.MaxRetries = 0
		}
		c.retry = p
		return nil
	}
}

// WithInsecureHTTP allows an http:// base URL on a non-loopback host. The
// API key then travels in clear text; use it only inside trusted networks.
func WithInsecureHTTP() Option {
	return func(c *config) error {
		c.allowHTTP = true
		return nil
	}
}

// WithoutValidation turns off the checks made before sending (Validate).
// Braze then reports bad objects as item errors instead.
func WithoutValidation() Option {
	return func(c *config) error {
		c.noValidation = true
		return nil
	}
}

// WithMaxArrayLength sets the longest string array validation accepts
// (default 25, Braze's default; Braze can raise it to 100 or more).
func WithMaxArrayLength(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("braze: WithMaxArrayLength: %d is not positive", n)
		}
		c.maxArray = n
		return nil
	}
}

// WithBulkHeader sends "X-Braze-Bulk: true" on every request, which older
// Braze documentation asks batch and backfill jobs to send. The header is
// never sent with another value: any value marks a request as bulk.
func WithBulkHeader() Option {
	return func(c *config) error {
		c.bulkHeader = true
		return nil
	}
}

// BulkRequestsPerSecond is the base rate limit of /users/track/bulk.
const BulkRequestsPerSecond = 50

// WithBulkEndpoint sends to /users/track/bulk (a limited beta that needs
// the users.track.bulk permission) instead of /users/track: TrackAll then
// packs up to 1,000 objects and 2 MB per request, and the default rate
// limit becomes 50 requests per second. Braze prioritises /users/track
// traffic over it at peak; it is meant for backfills and daily syncs.
func WithBulkEndpoint() Option {
	return func(c *config) error {
		c.bulkEndpoint = true
		return nil
	}
}

// WithMaxResponseBytes caps how much of a response body the client reads
// (default 4 MiB). A larger body fails the request with ErrResponseTooLarge.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("braze: WithMaxResponseBytes: %d is not positive", n)
		}
		c.maxResp = n
		return nil
	}
}

// NewClient returns a client for the REST API key apiKey. The key needs the
// users.track permission; it is sent only in the Authorization header.
// One of WithInstance or WithBaseURL is required (ErrNoEndpoint): the key
// belongs to one Braze instance (Settings > APIs and Identifiers shows its
// REST endpoint).
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	key := strings.TrimSpace(apiKey)
	if key == "" {
		return nil, errors.New("braze: empty API key")
	}
	if strings.ContainsAny(key, "\"' \r\n\t") {
		// A quoted key is a common cause of 401s; a key with control
		// characters would corrupt the header.
		return nil, errors.New("braze: API key contains quotes or whitespace")
	}
	cfg := config{
		retry:    DefaultRetryPolicy(),
		maxArray: DefaultMaxArrayLength,
		maxResp:  DefaultMaxResponseBytes,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.perWindow == 0 {
		cfg.perWindow, cfg.window = DefaultRequestsPerWindow, DefaultRateWindow
		if cfg.bulkEndpoint {
			cfg.perWindow, cfg.window = BulkRequestsPerSecond, time.Second
		}
	}
	if cfg.baseURL == "" {
		return nil, ErrNoEndpoint
	}
	endpoint, err := checkBaseURL(cfg.baseURL, cfg.allowHTTP)
	if err != nil {
		return nil, err
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		key:        &secret{key: key},
		endpoint:   endpoint + "/users/track",
		bulk:       cfg.bulkEndpoint,
		logger:     logger,
		retry:      cfg.retry,
		validate:   !cfg.noValidation,
		checks:     newChecker(cfg.maxArray),
		bulkHeader: cfg.bulkHeader,
		maxResp:    cfg.maxResp,
		gate:       newPauseGate(),
		rateBudget: float64(cfg.perWindow) / cfg.window.Seconds(),
	}
	if cfg.limiter != nil {
		c.limiter = cfg.limiter
	} else {
		c.adaptive = newRateLimiter(cfg.perWindow, cfg.window, cfg.retry.MaxWait)
		c.limiter = c.adaptive
	}
	if c.bulk {
		c.endpoint += "/bulk"
	}
	c.http = c.newRetryClient(cfg.httpClient)
	return c, nil
}

// checkBaseURL validates the base URL and returns it without a trailing
// slash.
func checkBaseURL(raw string, allowHTTP bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("braze: REST endpoint URL %q is not an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("braze: REST endpoint URL %q must not carry credentials, a query or a fragment", u.Redacted())
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("braze: REST endpoint URL %q uses http:// on a non-loopback host, which would send the API key in clear text; use https:// (Go code on a trusted network may allow it with WithInsecureHTTP)", u.Redacted())
		}
	default:
		return "", fmt.Errorf("braze: REST endpoint URL %q: the scheme must be https", u.Redacted())
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Endpoint returns the URL requests are sent to.
func (c *Client) Endpoint() string { return c.endpoint }
