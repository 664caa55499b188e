package pgclaim

import (
	"slices"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/internal/pgtest"
)

var _ currents.Checkpoint = (*Checkpoint)(nil)

func TestCheckpoint(t *testing.T) {
	schema := pgtest.Schema(t, "pgclaim_")
	a, b := openTest(t, schema, "a"), openTest(t, schema, "b")
	ctx := ctxT(t)
	pa, err := a.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := pa.Done(ctx, "k1"); err != nil || done {
		t.Fatalf("a's Done(k1) = %v, %v; want false: a claims it", done, err)
	}
	if done, err := pb.Done(ctx, "k1"); err != nil || !done {
		t.Fatalf("b's Done(k1) = %v, %v; want true: a holds it", done, err)
	}
	if d := pb.Declined(); !slices.Equal(d, []string{"k1"}) {
		t.Errorf("b declined %v", d)
	}
	if d := pb.Declined(); len(d) != 0 {
		t.Errorf("Declined did not forget: %v", d)
	}
	if err := pa.MarkDone(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if err := pb.MarkDone(ctx, "k9"); err == nil {
		t.Error("b marked done a key it never claimed")
	}
	// A fresh checkpoint knows k1 is done without claiming: nothing is
	// declined.
	pc, err := b.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := pc.Done(ctx, "k1"); err != nil || !done || len(pc.Declined()) != 0 {
		t.Errorf("loaded Done(k1) = %v, %v, declined %v", done, err, pc.Declined())
	}
}
