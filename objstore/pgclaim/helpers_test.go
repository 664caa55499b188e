package pgclaim

import (
	"context"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/pgtest"
)

// openTest opens Claims for owner in schema, closed when the test ends.
func openTest(t *testing.T, schema, owner string, opts ...Option) *Claims {
	t.Helper()
	opts = append([]Option{WithSchema(schema), WithOwner(owner), WithRenewInterval(0)}, opts...)
	c, err := Open(context.Background(), pgtest.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
