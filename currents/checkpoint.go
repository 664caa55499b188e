package currents

import (
	"context"
	"time"
)

// Checkpoint is the set of object keys a job has already processed, so that
// a rerun reads only new files. Source consults it before yielding a file
// and marks a file once all its events were delivered; persisting the set
// is up to the implementation and the caller. objstore.FileCheckpoint is
// one, saved to a local file.
type Checkpoint interface {
	// Done reports whether key was processed.
	Done(ctx context.Context, key string) (bool, error)
	// MarkDone records key as processed.
	MarkDone(ctx context.Context, key string) error
}

// QueuedBefore returns a test for objstore.FileCheckpoint.Prune: it reports
// the Currents keys queued before the given hour (by their date= segment).
// Keys that do not parse as Currents keys are kept. Pass the bucket's
// retention horizon, so that a checkpoint forgets the files the bucket no
// longer holds.
func QueuedBefore(hour time.Time) func(key string) bool {
	return func(key string) bool {
		k, err := ParseKey(key)
		return err == nil && !k.Hour.IsZero() && k.Hour.Before(hour)
	}
}
