package diff

import (
	"log/slog"
	"time"
)

// Option configures an Engine.
type Option func(*engineConfig)

type engineConfig struct {
	logger        *slog.Logger
	batchSize     int
	flushInterval time.Duration
}

func defaultEngineConfig() engineConfig {
	return engineConfig{
		logger:        slog.New(slog.DiscardHandler),
		batchSize:     4096,
		flushInterval: time.Second,
	}
}

// WithLogger sets the logger. The engine is silent by default.
func WithLogger(l *slog.Logger) Option {
	return func(c *engineConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithAckBatch sets how many accepted acknowledgements are written to the
// store in one atomic batch (default 4096). Batches are synced every 16
// batches, at least every flush interval (WithFlushInterval), at
// Plan.Flush and at Commit; a crash loses at most the accepted changes
// not yet synced, which the next run plans again.
func WithAckBatch(n int) Option {
	return func(c *engineConfig) {
		if n > 0 {
			c.batchSize = n
		}
	}
}

// WithFlushInterval sets how long accepted acknowledgements may wait in
// memory before they are written durably (default 1s), so that a process
// killed in the middle of a long sync re-sends at most that much accepted
// work. The write happens on a timer, also when no further
// acknowledgement arrives.
func WithFlushInterval(d time.Duration) Option {
	return func(c *engineConfig) {
		if d > 0 {
			c.flushInterval = d
		}
	}
}

// Mode says what the absence of a key from the input means.
type Mode int

const (
	// Incremental input lists only some keys: a key absent from it is left
	// as it is. This is the default.
	Incremental Mode = iota
	// FullSnapshot input lists every key: a key tracked in the state but
	// absent from the input has all its tracked attributes removed. Such
	// a plan is guarded by default (see WithMaxRemovals, WithMaxChanges
	// and WithAllowEmptySnapshot), and plans no removal at all when its
	// input ended early or had records it could not attribute to a key.
	FullSnapshot
)

func (m Mode) String() string {
	if m == FullSnapshot {
		return "full-snapshot"
	}
	return "incremental"
}

// PlanOption configures one Plan.
type PlanOption func(*planConfig)

type planConfig struct {
	mode           Mode
	dryRun         bool
	maxRemovals    Limit
	maxChanges     Limit
	maxRemovalsSet bool
	maxChangesSet  bool
	allowEmpty     bool
	resendRejected bool
	part, parts    int // WithPartition
	removeAs       map[string]any
	keep           map[string]bool
	compare        map[string]Comparison
	explain        map[string]bool
}

// WithMode sets whether the input is a full snapshot or incremental
// (default Incremental).
func WithMode(m Mode) PlanOption { return func(c *planConfig) { c.mode = m } }

// WithDryRun makes the plan compute changes and the summary but never write
// the state: Ack only counts, Commit writes nothing. A dry run is never
// held back by the limits (WithMaxRemovals, WithMaxChanges): it yields
// every change, and Err reports the *LimitError the real run would end
// with, so a dry run shows the counts against the limits.
func WithDryRun() PlanOption { return func(c *planConfig) { c.dryRun = true } }

// WithRemoveAs sets the value (any value of the model, or a Value) sent
// when one of the named attributes, sent before, is absent now. The
// default is nil (Braze removes the attribute); audience flags are usually
// removed as false, so segment filters keep working. With removeAs true or false, the state remembers the value sent,
// so a missing flag is sent once, not every run.
func WithRemoveAs(value any, names ...string) PlanOption {
	return func(c *planConfig) {
		if c.removeAs == nil {
			c.removeAs = make(map[string]any)
		}
		for _, n := range names {
			c.removeAs[n] = value
			delete(c.keep, n)
		}
	}
}

// WithResendRejected makes the plan send values the destination rejected
// before (an Ack error implementing Rejection) even when they have not
// changed since. By default such a value is not sent again until the
// input changes it, as Braze asks of its callers, and the key is counted in
// Summary.StillRejected.
func WithResendRejected() PlanOption { return func(c *planConfig) { c.resendRejected = true } }

// WithKeepWhenAbsent makes absence of the named attributes mean "leave as
// is": no removal is planned and the state keeps the last value sent.
func WithKeepWhenAbsent(names ...string) PlanOption {
	return func(c *planConfig) {
		if c.keep == nil {
			c.keep = make(map[string]bool)
		}
		for _, n := range names {
			c.keep[n] = true
			delete(c.removeAs, n)
		}
	}
}

// WithCompare sets how the named attributes are compared (default Exact).
func WithCompare(cmp Comparison, names ...string) PlanOption {
	return func(c *planConfig) {
		if c.compare == nil {
			c.compare = make(map[string]Comparison)
		}
		for _, n := range names {
			c.compare[n] = cmp
		}
	}
}

// WithExplain keeps an Explanation for each named key, for Plan.Explain.
// Only these keys are kept, so a plan of millions stays small.
func WithExplain(keys ...string) PlanOption {
	return func(c *planConfig) {
		if c.explain == nil {
			c.explain = make(map[string]bool)
		}
		for _, k := range keys {
			c.explain[k] = true
		}
	}
}

// Comparison says when a new value counts as changed.
type Comparison struct {
	tolerance float64
	truncate  time.Duration
	kind      int
}

const (
	cmpExact = iota
	cmpTolerance
	cmpTruncate
)

// Exact compares canonical encodings: any difference is a change.
func Exact() Comparison { return Comparison{} }

// Tolerance treats a number within abs of the value last sent as unchanged.
// The state keeps the value last sent (not the latest input), so slow drift
// is sent once it adds up to more than abs. Non-numeric values compare
// exactly.
func Tolerance(abs float64) Comparison {
	if abs < 0 {
		abs = -abs
	}
	return Comparison{kind: cmpTolerance, tolerance: abs}
}

// TruncateTime compares time.Time values truncated to d (for example
// time.Hour), so volatile timestamps do not churn every run. The value
// sent is the caller's, untruncated. Other values compare exactly.
func TruncateTime(d time.Duration) Comparison {
	return Comparison{kind: cmpTruncate, truncate: d}
}
