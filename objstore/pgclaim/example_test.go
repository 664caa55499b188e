package pgclaim_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ampbraze/ampbraze/objstore/pgclaim"
	"github.com/jackc/pgx/v5"
)

// A worker claims the objects it listed that no other worker holds,
// processes them and commits them with its own writes in one transaction.
func Example() {
	ctx := context.Background()
	claims, err := pgclaim.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		pgclaim.WithTable("nightly_export_objects"), pgclaim.WithLease(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer claims.Close() // stops the renewal, releases what is not committed

	listed := []string{"2026/12/01/a.avro", "2026/12/01/b.avro", "2026/12/01/c.avro"}
	mine, err := claims.Claim(ctx, listed...)
	if err != nil {
		log.Fatal(err)
	}
	// ... process mine ...
	err = claims.Commit(ctx, "batch-1", mine, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE export_totals SET objects = objects + $1", len(mine))
		return err
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, pgclaim.ErrLeaseLost): another worker took them over
	}
	fmt.Println("committed", len(mine))
}
