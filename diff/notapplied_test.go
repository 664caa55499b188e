package diff

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type rejection struct{ applied bool }

func (r rejection) Error() string    { return "rejected" }
func (r rejection) NotApplied() bool { return !r.applied }

// A change the destination certainly did not apply leaves the state as it
// was: a user it rejected and never held is not tracked, so leaving a full
// snapshot later plans no removal for it. An ambiguous failure still marks
// what the change carried as unknown.
func TestAckNotAppliedKeepsState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		err         error
		wantRemoval bool
	}{
		{"rejected", fmt.Errorf("send: %w", rejection{}), false},
		{"ambiguous", errors.New("timeout after the request was written"), true},
		{"claims applied", rejection{applied: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := NewEngine(ctx, NewMemoryStore())
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			sync := func(recs []Record, ack func(Change) error) []Change {
				t.Helper()
				plan, err := eng.Plan(ctx, "s", func(yield func(Record, error) bool) {
					for _, r := range recs {
						if !yield(r, nil) {
							return
						}
					}
				}, WithMode(FullSnapshot))
				if err != nil {
					t.Fatal(err)
				}
				var got []Change
				for ch, err := range plan.Changes() {
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, ch)
					if err := plan.Ack(ch, ack(ch)); err != nil {
						t.Fatal(err)
					}
				}
				if err := plan.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				return got
			}
			x := Record{Key: "x", Attrs: []Attr{{Name: "tier", Value: AnyValue("platinum+")}}}
			y := Record{Key: "y", Attrs: []Attr{{Name: "tier", Value: AnyValue("gold")}}}
			sync([]Record{x, y}, func(ch Change) error {
				if ch.Key == "x" {
					return tc.err
				}
				return nil
			})
			// x is still in the input: planned again, in full.
			again := sync([]Record{x, y}, func(ch Change) error {
				if ch.Key == "x" {
					return tc.err
				}
				return nil
			})
			if len(again) != 1 || again[0].Key != "x" || len(again[0].Attrs) != 1 {
				t.Fatalf("second run planned %+v, want x's tier again", again)
			}
			// x leaves the snapshot.
			gone := sync([]Record{y}, func(Change) error { return nil })
			removal := len(gone) == 1 && gone[0].Key == "x" && gone[0].Delta == DeltaRemoved
			if removal != tc.wantRemoval || (!tc.wantRemoval && len(gone) != 0) {
				t.Errorf("after x left: planned %+v, want removal of x: %v", gone, tc.wantRemoval)
			}
		})
	}
}
