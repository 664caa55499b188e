package currents

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ampbraze/ampbraze/objstore"
)

// objstore.FileCheckpoint is a Checkpoint, and QueuedBefore prunes it by
// the keys' queue hours, keeping keys that are not Currents keys.
var _ Checkpoint = (*objstore.FileCheckpoint)(nil)

func TestQueuedBefore(t *testing.T) {
	ctx := context.Background()
	cp, err := objstore.OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	if err != nil {
		t.Fatal(err)
	}
	old := srcKey(typSend, "2025-04-01-17", 1)
	edge := srcKey(typSend, "2025-04-02-00", 2)
	other := "not/a/currents/key.avro"
	for _, k := range []string{old, edge, other} {
		cp.MarkDone(ctx, k)
	}
	if n := cp.Prune(QueuedBefore(hour("2025-04-02-00"))); n != 1 {
		t.Errorf("pruned %d keys, want 1", n)
	}
	for k, want := range map[string]bool{old: false, edge: true, other: true} {
		if done, _ := cp.Done(ctx, k); done != want {
			t.Errorf("%s: done = %v, want %v", k, done, want)
		}
	}
}
