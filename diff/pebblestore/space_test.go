package pebblestore

import (
	"context"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// WithMinFreeSpace refuses writes, without failing the store, while the
// filesystem has less free space than asked; 0 turns the check off.
func TestWithMinFreeSpaceRefusesWritesBelowTheFloor(t *testing.T) {
	ctx := context.Background()
	if _, ok := freeBytes(t.TempDir()); !ok {
		if os.Getenv("CI") != "" {
			t.Fatal("this platform does not report free space (CI is set, and CI runs on Linux, which does)")
		}
		t.Skip("this platform does not report free space: WithMinFreeSpace has no effect here, so nothing to check")
	}
	s, err := Open(ctx, t.TempDir(), WithMinFreeSpace(math.MaxUint64))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ops := []diff.Op{{Key: []byte("\x03k1"), Value: []byte("v")}}
	if err := s.Apply(ctx, ops, true); !errors.Is(err, diff.ErrDiskFull) {
		t.Fatalf("Apply with a floor above the free space = %v, want an error matching diff.ErrDiskFull", err)
	}

	off, err := Open(ctx, t.TempDir(), WithMinFreeSpace(0))
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if err := off.Apply(ctx, ops, true); err != nil {
		t.Fatalf("Apply with the check off = %v", err)
	}
}
