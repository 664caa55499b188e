package ampbraze

import (
	"context"
	"errors"
	"fmt"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// The acknowledgement contract depends on braze's errors telling diff
// whether Braze applied an object and whether it refused the values.
var (
	_ diff.NotApplied = (*braze.ItemError)(nil)
	_ diff.NotApplied = (*braze.ValidationError)(nil)
	_ diff.NotApplied = (*braze.APIError)(nil)
	_ diff.NotApplied = (*braze.RateLimitError)(nil)
	_ diff.NotApplied = (*braze.StoppedError)(nil)
	_ diff.NotApplied = (*braze.CircuitOpenError)(nil)
	_ diff.Rejection  = (*braze.ItemError)(nil)
	_ diff.Rejection  = (*braze.ValidationError)(nil)
)

// OutcomeKind classifies an Outcome.
type OutcomeKind uint8

const (
	// OutcomeAccepted: Braze accepted the change.
	OutcomeAccepted OutcomeKind = iota
	// OutcomeRejected: Braze, or the client's validation before sending,
	// refused the change's values (a *braze.ItemError or
	// *braze.ValidationError). The values are not sent again until the
	// input changes them.
	OutcomeRejected
	// OutcomeFailed: the change's request failed as a whole (after
	// retries, a wrong key, the circuit breaker, the context); the change
	// is planned again by the next run.
	OutcomeFailed
	// OutcomeBadRecord: a record of the input could not be planned (a bad
	// row, a duplicate key); Err says which and why. Nothing was sent.
	OutcomeBadRecord
	// OutcomePlanned: a dry run (see DryRun) would send the change.
	OutcomePlanned
)

func (k OutcomeKind) String() string {
	switch k {
	case OutcomeAccepted:
		return "accepted"
	case OutcomeRejected:
		return "rejected"
	case OutcomeFailed:
		return "failed"
	case OutcomeBadRecord:
		return "bad record"
	case OutcomePlanned:
		return "planned"
	}
	return fmt.Sprintf("OutcomeKind(%d)", uint8(k))
}

// Outcome is what happened to one change of a plan, or to one record the
// plan could not use.
type Outcome struct {
	Kind OutcomeKind
	// Change is the change concerned; zero for OutcomeBadRecord.
	Change diff.Change
	// Err is nil for OutcomeAccepted and OutcomePlanned; otherwise the
	// reason: a braze error, or the plan's per-record error.
	Err error
	// DataPoints estimates what the change bills (see
	// braze.UserAttributes.DataPoints); 0 for a bad record.
	DataPoints int
}

// Report counts the outcomes of a Sync or DryRun.
type Report struct {
	Changes    int64 // changes the plan yielded
	Accepted   int64 // changes Braze accepted
	Rejected   int64 // changes Braze or validation refused
	Failed     int64 // changes whose request failed (planned again next run)
	BadRecords int64 // records the plan could not use (bad rows, duplicates)
	Attributes int64 // attributes in the accepted (or, in a dry run, planned) changes
	// DataPoints estimates the data points the accepted (or, in a dry
	// run, planned) changes bill.
	DataPoints int64
}

// SyncOption configures Sync and DryRun.
type SyncOption func(*syncConfig)

type syncConfig struct {
	idField   string
	onOutcome func(Outcome)
	send      []braze.SendOption
}

// WithIDField names the Braze identifier that a change's Key is:
// "external_id" (the default) or "braze_id"; pass amperity's
// Mapper.IDField().
func WithIDField(field string) SyncOption { return func(c *syncConfig) { c.idField = field } }

// WithOutcomes calls fn with every outcome, in the order they are known,
// on the goroutine that called Sync, never concurrently: to report bad
// rows and rejected objects, or to drive a progress display.
func WithOutcomes(fn func(Outcome)) SyncOption { return func(c *syncConfig) { c.onOutcome = fn } }

// WithSendOptions passes options to braze.Client.TrackAll (concurrency,
// batch size, circuit breaker).
func WithSendOptions(opts ...braze.SendOption) SyncOption {
	return func(c *syncConfig) { c.send = append(c.send, opts...) }
}

// Sync sends a plan's changes to Braze and records Braze's answers on the
// plan: it turns each change into a braze.UserAttributes, sends it with
// client.TrackAll, acknowledges every result (accepted, rejected, failed,
// and changes the client's validation refused), then commits the plan,
// also after ctx was cancelled, so that what Braze accepted is never
// forgotten. The caller builds the plan (with its input, mode and limits)
// and closes the engine; Sync owns the plan from the call on.
//
// The error is nil only when the plan ran to its end and was committed.
// Otherwise it is the first of: why Braze stopped the run (a wrong key:
// braze.ErrUnauthorized or braze.ErrForbidden; braze.ErrCircuitOpen), an
// acknowledgement that could not be written, and the plan's own error
// (diff.Plan.Err, as Commit returns it: an input that ended early, a
// limit, an empty snapshot, a store failure, or the context). Rejected
// objects and bad records are not errors: they are in the Report and the
// outcomes.
func Sync(ctx context.Context, client *braze.Client, plan *diff.Plan, opts ...SyncOption) (Report, error) {
	if client == nil {
		plan.Close()
		return Report{}, errors.New("ampbraze: Sync needs a braze client (DryRun plans without one)")
	}
	s := newSyncer(plan, opts)
	var stop, ackErr error
	for res := range client.TrackAll(ctx, s.updates(), s.cfg.send...) {
		r := res.Ref.(ref)
		o := Outcome{Change: r.ch, Err: res.Err, DataPoints: r.dataPoints}
		switch res.Kind() {
		case braze.ResultAccepted:
			o.Kind = OutcomeAccepted
		case braze.ResultRejected:
			o.Kind = OutcomeRejected
		default:
			o.Kind = OutcomeFailed
			if stop == nil {
				stop = stopCause(res.Err)
			}
		}
		if err := plan.Ack(r.ch, res.Err); err != nil && ackErr == nil {
			ackErr = err
		}
		s.outcome(o)
		if ackErr != nil {
			break // the plan can no longer record anything: stop sending
		}
	}
	err := plan.Commit(ctx)
	switch {
	case stop != nil:
		err = fmt.Errorf("ampbraze: Braze stopped the sync: %w", stop)
	case ackErr != nil:
		err = ackErr
	}
	return s.report, err
}

// DryRun plans without sending: it builds and validates what each change
// would send, counts it (with the data points it would bill) and reports
// each as OutcomePlanned, or OutcomeRejected when validation refuses it.
// The plan should be a diff.WithDryRun plan; its error (a limit the real
// run would exceed, an input that ended early) is returned.
func DryRun(ctx context.Context, plan *diff.Plan, opts ...SyncOption) (Report, error) {
	s := newSyncer(plan, opts)
	for u := range s.updates() {
		r := u.Ref.(ref)
		o := Outcome{Kind: OutcomePlanned, Change: r.ch, DataPoints: r.dataPoints}
		if err := u.Attributes.Validate(); err != nil {
			o.Kind, o.Err = OutcomeRejected, err
		}
		s.outcome(o)
		if ctx.Err() != nil {
			break
		}
	}
	return s.report, plan.Commit(ctx)
}

// stopCause returns why TrackAll stopped the run, if err says it did: the
// 401/403 answer itself (the updates of that request carry it), or the
// cause inside a *braze.StoppedError (the other updates it answered).
func stopCause(err error) error {
	var se *braze.StoppedError
	switch {
	case errors.As(err, &se):
		return se.Cause
	case errors.Is(err, braze.ErrUnauthorized), errors.Is(err, braze.ErrForbidden), errors.Is(err, braze.ErrCircuitOpen):
		return err
	}
	return nil
}

// ref travels with an update through TrackAll.
type ref struct {
	ch         diff.Change
	dataPoints int
}

type syncer struct {
	cfg    syncConfig
	plan   *diff.Plan
	report Report
}

func newSyncer(plan *diff.Plan, opts []SyncOption) *syncer {
	cfg := syncConfig{idField: "external_id"}
	for _, o := range opts {
		o(&cfg)
	}
	return &syncer{cfg: cfg, plan: plan}
}

// updates turns the plan's changes into Braze updates; per-record errors
// and changes that cannot be built become outcomes.
func (s *syncer) updates() func(yield func(braze.Update) bool) {
	return func(yield func(braze.Update) bool) {
		for ch, err := range s.plan.Changes() {
			if err != nil {
				s.outcome(Outcome{Kind: OutcomeBadRecord, Err: err})
				continue
			}
			s.report.Changes++
			ua, err := braze.NewUserAttributes(s.cfg.idField, ch.Key, ch.All())
			if err != nil {
				// A value Braze cannot take: refused like a rejected
				// object, and remembered so (the error is a Rejection).
				s.plan.Ack(ch, err)
				s.outcome(Outcome{Kind: OutcomeRejected, Change: ch, Err: err})
				continue
			}
			if !yield(braze.Update{Attributes: ua, Ref: ref{ch: ch, dataPoints: ua.DataPoints()}}) {
				return
			}
		}
	}
}

func (s *syncer) outcome(o Outcome) {
	switch o.Kind {
	case OutcomeAccepted, OutcomePlanned:
		s.report.Accepted += b2i(o.Kind == OutcomeAccepted)
		s.report.Attributes += int64(len(o.Change.Attrs))
		s.report.DataPoints += int64(o.DataPoints)
	case OutcomeRejected:
		s.report.Rejected++
	case OutcomeFailed:
		s.report.Failed++
	case OutcomeBadRecord:
		s.report.BadRecords++
	}
	if s.cfg.onOutcome != nil {
		s.cfg.onOutcome(o)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
