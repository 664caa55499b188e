package ampbraze_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ampbraze/ampbraze"
	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze/brazetest"
	"github.com/ampbraze/ampbraze/diff"
)

// The composed sync, end to end: an Amperity export mapped to Braze
// attributes, planned against the delta state, sent to a fake Braze, and
// acknowledged. The second export changes one user: only that goes out.
func ExampleSync() {
	ctx := context.Background()
	fake := brazetest.Start()
	defer fake.Close()
	client := fake.Client()

	// Schema files may list the columns in any order: they are matched by name.
	schema, _ := amperity.ParseSchema(strings.NewReader("aud_vip:Boolean\ncustomer_id:String\nloyalty_tier:String\n"))
	mapper, _ := amperity.NewMapper(schema, amperity.MapColumn("customer_id", "external_id"), amperity.AudienceColumns("aud_vip"))
	engine, _ := diff.NewEngine(ctx, diff.NewMemoryStore()) // pebblestore.OpenEngine(ctx, dir, nil) for a durable state
	defer engine.Close()

	for _, export := range []string{
		"customer_id,loyalty_tier,aud_vip\nC-1,gold,true\nC-2,silver,false\nC-3,gold,oops\n",
		"customer_id,loyalty_tier,aud_vip\nC-1,gold,true\nC-2,gold,false\n",
	} {
		reader, _ := amperity.NewCSVReader(ctx, strings.NewReader(export), amperity.WithSchema(schema))
		plan, _ := engine.Plan(ctx, "braze:users", mapper.Records(reader.Rows(ctx)),
			diff.WithRemoveAs(false, mapper.AudienceAttributes()...))
		report, err := ampbraze.Sync(ctx, client, plan, ampbraze.WithIDField(mapper.IDField()),
			ampbraze.WithOutcomes(func(o ampbraze.Outcome) {
				if o.Kind == ampbraze.OutcomeBadRecord {
					fmt.Println("bad row:", o.Err)
				}
			}))
		fmt.Printf("sent %d users (%d data points), %d rejected, %d bad rows, err=%v\n",
			report.Accepted, report.DataPoints, report.Rejected, report.BadRecords, err)
	}
	u, _ := fake.User("C-2")
	fmt.Println("C-2 in Braze:", u.Attributes["loyalty_tier"])
	// Output:
	// bad row: diff: record 2 (key "C-3"): row 3 (line 4): column "aud_vip": value "oops": invalid value: not a Boolean (true/false, t/f, 1/0, yes/no)
	// sent 2 users (4 data points), 0 rejected, 1 bad rows, err=<nil>
	// sent 1 users (1 data points), 0 rejected, 0 bad rows, err=<nil>
	// C-2 in Braze: gold
}
