package ampbraze_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"

	"github.com/ampbraze/ampbraze"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
	"github.com/ampbraze/ampbraze/diff"
)

func records(n int, tier string) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		for i := range n {
			r := diff.Record{Key: fmt.Sprintf("C-%03d", i), Attrs: []diff.Attr{
				{Name: "first_name", Value: diff.StringValue("Ada")},
				{Name: "loyalty_tier", Value: diff.StringValue(tier)},
			}}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func newEngine(t *testing.T) *diff.Engine {
	t.Helper()
	e, err := diff.NewEngine(context.Background(), diff.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func sync(t *testing.T, e *diff.Engine, c *braze.Client, input iter.Seq2[diff.Record, error], opts ...diff.PlanOption) (ampbraze.Report, []ampbraze.Outcome, error) {
	t.Helper()
	ctx := context.Background()
	plan, err := e.Plan(ctx, "braze:users", input, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var outs []ampbraze.Outcome
	rep, err := ampbraze.Sync(ctx, c, plan, ampbraze.WithOutcomes(func(o ampbraze.Outcome) { outs = append(outs, o) }),
		ampbraze.WithSendOptions(braze.WithConcurrency(1), braze.WithBatchSize(10)))
	return rep, outs, err
}

func TestSyncSendsAcknowledgesAndCommits(t *testing.T) {
	srv := brazetest.NewServer(t)
	e := newEngine(t)
	rep, _, err := sync(t, e, srv.Client(), records(25, "gold"))
	if err != nil || rep.Changes != 25 || rep.Accepted != 25 || rep.Attributes != 50 || rep.DataPoints != 50 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if u, ok := srv.User("C-007"); !ok || u.Attributes["loyalty_tier"] != "gold" {
		t.Fatalf("Braze holds %+v", u)
	}
	rep, _, err = sync(t, e, srv.Client(), records(25, "gold"))
	if err != nil || rep.Changes != 0 {
		t.Fatalf("second run: report %+v, err %v", rep, err)
	}
}

// A value the client's validation refuses is acknowledged as rejected and
// not sent again; a bad record is an outcome, not an error.
func TestSyncRejectionsAndBadRecords(t *testing.T) {
	srv := brazetest.NewServer(t)
	e := newEngine(t)
	input := func(yield func(diff.Record, error) bool) {
		if !yield(diff.Record{Key: "C-1", Attrs: []diff.Attr{{Name: "email", Value: diff.StringValue("not an email")}}}, nil) {
			return
		}
		if !yield(diff.Record{Key: "C-2"}, errors.New(`row 3, column "order_count": not an Integer`)) {
			return
		}
		yield(diff.Record{Key: "C-3", Attrs: []diff.Attr{{Name: "email", Value: diff.StringValue("c3@example.com")}}}, nil)
	}
	rep, outs, err := sync(t, e, srv.Client(), input)
	if err != nil || rep.Accepted != 1 || rep.Rejected != 1 || rep.BadRecords != 1 || len(outs) != 3 {
		t.Fatalf("report %+v, outcomes %+v, err %v", rep, outs, err)
	}
	kinds := []ampbraze.OutcomeKind{}
	for _, o := range outs {
		kinds = append(kinds, o.Kind)
	}
	if !slices.Contains(kinds, ampbraze.OutcomeBadRecord) || !slices.Contains(kinds, ampbraze.OutcomeRejected) {
		t.Errorf("kinds %v", kinds)
	}
	before := srv.Stats().Requests
	rep, _, err = sync(t, e, srv.Client(), input)
	if err != nil || rep.Changes != 0 || srv.Stats().Requests != before {
		t.Errorf("second run: report %+v, err %v, requests %d -> %d", rep, err, before, srv.Stats().Requests)
	}
}

// Issue 13, item 6: a wrong key was answered 401 for every batch of the
// file. Sync stops at the first 401, says so, and records nothing.
func TestRegression_Issue13_WrongKeyStopsSync(t *testing.T) {
	srv := brazetest.NewServer(t, brazetest.WithAPIKey("the-right-key"))
	e := newEngine(t)
	c, err := braze.NewClient("a-wrong-key", braze.WithBaseURL(srv.URL), braze.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := sync(t, e, c, records(200, "gold"))
	if !errors.Is(err, braze.ErrUnauthorized) || rep.Accepted != 0 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if n := srv.Stats().Requests; n > 2 {
		t.Errorf("%d requests after a 401", n)
	}
	// Nothing was recorded as sent: with the right key, everything goes.
	rep, _, err = sync(t, e, srv.Client(), records(200, "gold"))
	if err != nil || rep.Accepted != 200 {
		t.Fatalf("with the right key: report %+v, err %v", rep, err)
	}
}

// A plan that ends with an error (here a limit) makes Sync return it, and
// nothing is sent.
func TestSyncReturnsPlanError(t *testing.T) {
	srv := brazetest.NewServer(t)
	e := newEngine(t)
	if _, _, err := sync(t, e, srv.Client(), records(100, "gold")); err != nil {
		t.Fatal(err)
	}
	before := srv.Stats().Requests
	_, _, err := sync(t, e, srv.Client(), records(10, "gold"), diff.WithMode(diff.FullSnapshot))
	if !errors.Is(err, diff.ErrLimitExceeded) || srv.Stats().Requests != before {
		t.Fatalf("err %v, requests %d -> %d", err, before, srv.Stats().Requests)
	}
}

func TestDryRunEstimates(t *testing.T) {
	e := newEngine(t)
	plan, err := e.Plan(context.Background(), "braze:users", records(4, "gold"), diff.WithDryRun())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ampbraze.DryRun(context.Background(), plan)
	if err != nil || rep.Changes != 4 || rep.DataPoints != 8 || rep.Accepted != 0 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
}
