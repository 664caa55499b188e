package pgdedupe_test

import (
	"context"
	"log"
	"time"

	"github.com/ampbraze/ampbraze/currents/pgdedupe"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A worker drops the events other workers committed, writes the rest, and
// records their ids in the transaction that commits its output.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	ids, err := pgdedupe.New(ctx, pool, pgdedupe.WithWindow(24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	const send = "users.messages.email.Send"
	hour := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	batch := []string{"0b5f0a5e-4c61-4a6f-9d0e-2f1b7a0c9e11", "3c8d2e44-9a1b-4f0e-8c3d-5e6f7a8b9c0d"}
	seen, err := ids.Seen(ctx, send, batch) // one query for the whole run of events
	if err != nil {
		log.Fatal(err)
	}
	var record []pgdedupe.ID
	for i, id := range batch {
		if !seen[i] {
			// ... write the event ...
			record = append(record, pgdedupe.ID{EventType: send, ID: id, Hour: hour})
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		dups, err := ids.Record(ctx, tx, record)
		if err == nil && len(dups) > 0 {
			log.Printf("%d events were committed by another worker meanwhile: give the output up", len(dups))
		}
		return err // ... commit the output with the ids ...
	})
	if err != nil {
		log.Fatal(err)
	}
}
