package diff

import (
	"fmt"
	"math"
)

// Limit bounds how many stored keys one plan may change or remove, as a
// count or as a fraction of the keys the scope held when the plan began.
// The zero Limit is no limit.
type Limit struct {
	set   bool
	count int64
	frac  float64
	floor int64 // a fraction never resolves below this (defaults only)
}

// NoLimit lifts a limit, including a default one.
var NoLimit = Limit{}

// MaxCount limits to n keys.
func MaxCount(n int64) Limit { return Limit{set: true, count: max(n, 0)} }

// MaxFraction limits to the fraction f (0 to 1) of the keys the scope
// held when the plan began, rounded up.
func MaxFraction(f float64) Limit {
	if math.IsNaN(f) || f < 0 {
		f = 0
	}
	return Limit{set: true, frac: min(f, 1), count: -1}
}

// Defaults of a FullSnapshot plan, what a careful operator would pick: a
// full snapshot that removes more than a tenth of the users, or changes or
// removes more than half of them, is far more often a broken export (a
// truncated file, a wrong filter, a renamed column) than a real change.
// Small scopes may always change up to ten keys.
var (
	DefaultMaxRemovals = Limit{set: true, frac: 0.10, count: -1, floor: 10}
	DefaultMaxChanges  = Limit{set: true, frac: 0.50, count: -1, floor: 10}
)

// IsSet reports whether l limits anything.
func (l Limit) IsSet() bool { return l.set }

// resolve returns the limit as a count of keys for a scope of stored keys;
// -1 means no limit.
func (l Limit) resolve(stored int64) int64 {
	if !l.set {
		return -1
	}
	if l.count >= 0 {
		return l.count
	}
	return max(int64(math.Ceil(l.frac*float64(stored))), l.floor)
}

// String describes the limit as given: "10%", "500 keys" or "none".
func (l Limit) String() string {
	switch {
	case !l.set:
		return "none"
	case l.count >= 0:
		return fmt.Sprintf("%d keys", l.count)
	case l.floor > 0:
		return fmt.Sprintf("%g%% (at least %d keys)", 100*l.frac, l.floor)
	}
	return fmt.Sprintf("%g%%", 100*l.frac)
}

// WithMaxRemovals limits the keys a FullSnapshot plan may remove because
// they vanished from the input (default DefaultMaxRemovals; NoLimit lifts
// it). A plan with a limit holds its changes back until the whole input
// has been read, so that it can end with a *LimitError before anything is
// yielded, and so before anything is sent. Holding costs memory for each
// change (about 300 bytes for a change of 10 attributes), at most as many
// changes as the limits allow.
func WithMaxRemovals(l Limit) PlanOption {
	return func(c *planConfig) { c.maxRemovals, c.maxRemovalsSet = l, true }
}

// WithMaxChanges limits the stored keys a plan may change or remove (keys
// new to the state are not counted: they overwrite nothing). It is on by
// default for FullSnapshot plans (DefaultMaxChanges) and off for
// incremental ones; see WithMaxRemovals for what a limit costs.
func WithMaxChanges(l Limit) PlanOption {
	return func(c *planConfig) { c.maxChanges, c.maxChangesSet = l, true }
}

// WithAllowEmptySnapshot lets a FullSnapshot plan whose input has no
// record at all remove every stored key (within the other limits). By
// default such a plan ends with ErrEmptySnapshot before yielding anything:
// an empty export is almost always a failed export.
func WithAllowEmptySnapshot() PlanOption { return func(c *planConfig) { c.allowEmpty = true } }

// limits returns the plan's limits as counts of keys (-1: none) for a
// scope of stored keys.
func (c *planConfig) limits(stored int64) (removals, changes int64) {
	r, ch := c.limitsOf()
	return r.resolve(stored), ch.resolve(stored)
}

// limitsOf returns the limits in force: those given, or a FullSnapshot
// plan's defaults.
func (c *planConfig) limitsOf() (removals, changes Limit) {
	removals, changes = c.maxRemovals, c.maxChanges
	if c.mode == FullSnapshot {
		if !c.maxRemovalsSet {
			removals = DefaultMaxRemovals
		}
		if !c.maxChangesSet {
			changes = DefaultMaxChanges
		}
	}
	return removals, changes
}
