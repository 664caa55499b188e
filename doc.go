// Package ampbraze is an embeddable Go SDK that moves customer data from
// Amperity into Braze and reads Braze's Currents event stream back out.
//
// The work is done by four packages that the caller composes; this root
// package holds the one function that ties them together, Sync:
//
//   - [github.com/ampbraze/ampbraze/braze]: a typed client for Braze's
//     POST /users/track with batching inside Braze's limits, a shared rate
//     limiter, retries, a stop at the first 401/403 and a circuit breaker,
//     and an outcome for every object sent.
//     [github.com/ampbraze/ampbraze/braze/brazetest] is an in-process fake
//     Braze for unit tests.
//   - [github.com/ampbraze/ampbraze/amperity]: streaming readers for Amperity
//     exports (delimited text, NDJSON, Parquet), strict typing of Amperity's
//     data types, and a mapper from columns (matched by name) to Braze
//     standard profile fields and custom attributes (birthdate, birthday
//     and friends fold into dob).
//   - [github.com/ampbraze/ampbraze/diff]: the delta engine. It plans only the
//     attributes that changed since the last sync that Braze acknowledged,
//     guards full snapshots against mass removals, and keeps that state in
//     a diff.Store: [github.com/ampbraze/ampbraze/diff/pebblestore] is the
//     embedded default (kept apart, so importing diff links no storage
//     engine), and [github.com/ampbraze/ampbraze/diff/storetest] the
//     conformance suite of any other store.
//   - [github.com/ampbraze/ampbraze/currents]: a decoder for the Avro files
//     that Braze Currents writes to S3, with a typed Go event for every event
//     type.
//
// # A sync from Amperity to Braze
//
// Read the export, map each row to Braze attributes, let the delta engine
// keep only what changed, then Sync: it sends, acknowledges every answer on
// the plan (accepted, rejected, failed) and commits what Braze accepted.
//
//	engine, _ := pebblestore.OpenEngine(ctx, "/var/lib/ampbraze/state", nil)
//	mapper, _ := amperity.NewMapper(schema, amperity.MapColumn("customer_id", "external_id"))
//	reader, _ := amperity.NewCSVReader(ctx, file, amperity.WithSchema(schema))
//	plan, _ := engine.Plan(ctx, "braze:customer-attributes", mapper.Records(reader.Rows(ctx)),
//		diff.WithMode(diff.FullSnapshot)) // guarded: a truncated export removes nobody
//	report, err := ampbraze.Sync(ctx, client, plan, ampbraze.WithIDField(mapper.IDField()),
//		ampbraze.WithOutcomes(func(o ampbraze.Outcome) {
//			// o.Kind: OutcomeAccepted, OutcomeRejected, OutcomeFailed or
//			// OutcomeBadRecord (a bad row, with its row and column)
//		}))
//	// err: a wrong key, Braze down, a limit exceeded, an export that ended early
//
// examples/quickstart runs the whole story in-process against the fake Braze:
//
//	go run ./examples/quickstart
//
// # Reading Currents
//
//	store := objstore.NewFSStore(os.DirFS(dir)) // or s3store.New(s3Client, bucket)
//	src := currents.NewSource(store, "currents/")
//	for ke, err := range src.All(ctx) {
//		if err != nil {
//			continue // one corrupt file does not stop the others
//		}
//		// ke.Key.EventType, ke.Event.UserID(), ke.Event.Time() ...
//	}
package ampbraze
