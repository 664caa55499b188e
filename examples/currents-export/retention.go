package main

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/ampbraze/ampbraze/currents"
)

// The checkpoint holds the key of every file exported (about 80 bytes a
// key in memory: a year of Currents files for 100 event types takes about
// 840 MB), while the bucket's lifecycle rule deletes old files. A run that
// lists the whole input therefore forgets the keys queued before the
// oldest file the listing found: the input no longer holds those files,
// so no later run can read them again.
//
// It forgets nothing on evidence that the listing is not the checkpoint's
// whole input: a listing that failed or was interrupted, one narrowed by
// -types, -from or -to, one that found no file the checkpoint marks done
// (an empty folder, or another integration's: an -input typo), and keys
// outside the listed prefix.

// listingWatch is the checkpoint the Source consults, which leaves the
// marking to the writer (lookupOnly) and notes what the listing showed.
// The Source consults it from the read-ahead's listing goroutine.
type listingWatch struct {
	lookupOnly
	mu      sync.Mutex
	oldest  time.Time // the oldest queue hour of a key listed
	sawDone bool      // a key listed was done already
}

// Done reports whether key is done, and notes its queue hour.
func (w *listingWatch) Done(ctx context.Context, key string) (bool, error) {
	done, err := w.lookupOnly.Done(ctx, key)
	k, perr := currents.ParseKey(key)
	w.mu.Lock()
	defer w.mu.Unlock()
	if perr == nil && !k.Hour.IsZero() && (w.oldest.IsZero() || k.Hour.Before(w.oldest)) {
		w.oldest = k.Hour
	}
	w.sawDone = w.sawDone || done
	return done, err
}

// forgetGone forgets the checkpoint's keys under prefix that were queued
// before the oldest file the listing found, and returns how many it
// forgot, with that hour. The caller has checked that the listing was
// whole: complete, and not narrowed by a filter.
func (w *listingWatch) forgetGone(prefix string) (int, time.Time) {
	w.mu.Lock()
	oldest, sawDone := w.oldest, w.sawDone
	w.mu.Unlock()
	if oldest.IsZero() || !sawDone {
		return 0, time.Time{}
	}
	before := currents.QueuedBefore(oldest)
	return w.Prune(func(key string) bool {
		return strings.HasPrefix(key, prefix) && before(key)
	}), oldest
}

// wholeListing reports whether the run listed the whole input: no filter
// narrowed it.
func wholeListing(c *config) bool {
	return len(c.types) == 0 && c.from.IsZero() && c.to.IsZero()
}
