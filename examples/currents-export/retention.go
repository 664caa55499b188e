package main

import (
	"context"
	"strings"
	"sync"
	"time"
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
	oldest  string // the oldest date= folder of a key listed (dateLayout), or ""
	sawDone bool   // a key listed was done already
}

// Done reports whether key is done, and notes the hour of its date=
// folder. It reads the folder without parsing the whole key, which takes
// about 0.7 µs (a second per million keys listed): a Currents key has one
// date= folder, and an hour noted for a key that is not a Currents key can
// only lower the oldest hour, which forgets less.
func (w *listingWatch) Done(ctx context.Context, key string) (bool, error) {
	done, err := w.lookupOnly.Done(ctx, key)
	date := dateFolder(key)
	w.mu.Lock()
	defer w.mu.Unlock()
	if date != "" && (w.oldest == "" || date < w.oldest) {
		w.oldest = date
	}
	w.sawDone = w.sawDone || done
	return done, err
}

// dateFolder returns the hour of the first date= folder of key that reads
// as one, in dateLayout, or "" when none does. Hours in that layout sort
// as strings.
func dateFolder(key string) string {
	for rest := key; ; {
		i := strings.Index(rest, "date=")
		if i < 0 {
			return ""
		}
		if i == 0 || rest[i-1] == '/' {
			v := rest[i+len("date="):]
			if end := strings.IndexByte(v, '/'); end >= 0 {
				if _, err := time.Parse(dateLayout, v[:end]); err == nil {
					return v[:end]
				}
			}
		}
		rest = rest[i+len("date="):]
	}
}

// forgetGone forgets the checkpoint's keys under prefix that were queued
// before the oldest file the listing found, and returns how many it
// forgot, with that hour. The caller has checked that the listing was
// whole: complete, and not narrowed by a filter.
func (w *listingWatch) forgetGone(prefix string) (int, time.Time) {
	w.mu.Lock()
	date, sawDone := w.oldest, w.sawDone
	w.mu.Unlock()
	oldest, err := time.Parse(dateLayout, date)
	if err != nil || !sawDone {
		return 0, time.Time{} // no file with an hour was listed
	}
	return w.PruneFolders(func(folder string) bool {
		return strings.HasPrefix(folder, prefix) && folderQueuedBefore(folder, oldest)
	}), oldest
}

// folderQueuedBefore reports whether folder is a Currents folder (with an
// event_type= and a date= segment) whose queue hour is before hour. The
// keys the checkpoint holds in such a folder are Currents keys of that
// hour: a key there that is not is never marked done (the Source reports
// it). Deciding by folder, not by key, makes forgetting quick: on a
// million keys, about 56 ms against 2.3 s for building and parsing each
// key (BenchmarkForgetGone).
func folderQueuedBefore(folder string, hour time.Time) bool {
	var typed bool
	var queued time.Time
	for seg := range strings.SplitSeq(folder, "/") {
		switch {
		case strings.HasPrefix(seg, "event_type="):
			typed = true
		case strings.HasPrefix(seg, "date="):
			t, err := time.Parse(dateLayout, seg[len("date="):])
			if err != nil || !queued.IsZero() {
				return false // not a Currents folder
			}
			queued = t
		}
	}
	return typed && !queued.IsZero() && queued.Before(hour)
}

// dateLayout is the queue hour in a Currents key's date= folder.
const dateLayout = "2006-01-02-15"

// wholeListing reports whether the run listed the whole input: no filter
// narrowed it.
func wholeListing(c *config) bool {
	return len(c.types) == 0 && c.from.IsZero() && c.to.IsZero()
}
