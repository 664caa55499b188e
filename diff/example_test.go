package diff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log"
	"time"

	"github.com/ampbraze/ampbraze/diff"
)

func snapshot(rs ...diff.Record) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// sync plans records, "sends" each change by printing it, acknowledges it
// as accepted and commits.
func sync(ctx context.Context, eng *diff.Engine, records iter.Seq2[diff.Record, error]) diff.Summary {
	plan, err := eng.Plan(ctx, "braze:customer-attributes", records,
		diff.WithMode(diff.FullSnapshot),
		diff.WithRemoveAs(false, "aud_vip"))
	if err != nil {
		log.Fatal(err)
	}
	defer plan.Close()
	for ch, err := range plan.Changes() {
		if err != nil {
			log.Print(err) // a bad record: reported, the others go on
			continue
		}
		fmt.Print(ch.Key, ":")
		for name, value := range ch.All() {
			fmt.Printf(" %s=%v", name, value)
		}
		fmt.Println()
		plan.Ack(ch, nil) // nil: the destination accepted it
	}
	if err := plan.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	return plan.Summary()
}

func Example() {
	ctx := context.Background()
	eng, err := diff.NewEngine(ctx, diff.NewMemoryStore()) // pebblestore.OpenEngine(ctx, dir, nil) for the persistent store
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	fmt.Println("-- first sync")
	sync(ctx, eng, snapshot(
		diff.Record{Key: "u1", Attrs: []diff.Attr{{Name: "ltv", Value: diff.AnyValue(json.Number("10.50"))}, {Name: "aud_vip", Value: diff.AnyValue(true)}}},
		diff.Record{Key: "u2", Attrs: []diff.Attr{{Name: "ltv", Value: diff.AnyValue(json.Number("3"))}}},
	))
	fmt.Println("-- second sync")
	s := sync(ctx, eng, snapshot(
		diff.Record{Key: "u1", Attrs: []diff.Attr{{Name: "ltv", Value: diff.AnyValue(json.Number("10.5"))}}},
	))
	fmt.Printf("new %d, changed %d, removed %d, unchanged %d\n", s.New, s.Changed, s.Removed, s.Unchanged)
	// Output:
	// -- first sync
	// u1: ltv=10.50 aud_vip=true
	// u2: ltv=3
	// -- second sync
	// u1: aud_vip=false
	// u2: ltv=<nil>
	// new 0, changed 1, removed 1, unchanged 0
}

// A dry run computes and explains a plan without touching the state.
func ExamplePlan_Explain() {
	ctx := context.Background()
	eng, _ := diff.NewEngine(ctx, diff.NewMemoryStore())
	defer eng.Close()
	plan, _ := eng.Plan(ctx, "braze:customer-attributes", snapshot(
		diff.Record{Key: "u1", Attrs: []diff.Attr{{Name: "city", Value: diff.AnyValue("Lyon")}}},
	), diff.WithDryRun(), diff.WithExplain("u1"))
	defer plan.Close()
	for range plan.Changes() {
	}
	ex, _ := plan.Explain("u1")
	for _, a := range ex.Attrs {
		fmt.Printf("%s %s: %s (%v)\n", ex.Key, a.Name, a.Delta, a.Reason)
	}
	// Output:
	// u1 city: new (not in state)
}

// A Value holds the common scalars unboxed; AnyValue takes any value of the
// model, and Any gives it back as a plain Go value, as a Braze client
// takes it. Values compare as Braze would hold them.
func ExampleValue() {
	price := diff.NumberValue("10.50")
	fmt.Println(price.Kind(), price.Any(), price.Equal(diff.FloatValue(10.5)))

	when := diff.AnyValue(time.Date(2024, 3, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600)))
	fmt.Println(when.Kind(), when.Equal(diff.TimeValue(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC))))

	fmt.Println(diff.AnyValue([]string{"vip"}).Kind(), diff.Value{}.IsNull())
	// Output:
	// number 10.50 true
	// time true
	// other true
}
