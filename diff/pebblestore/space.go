package pebblestore

import (
	"fmt"

	"github.com/ampbraze/ampbraze/diff"
)

// DefaultMinFreeBytes is the free space below which writes are refused
// (see WithMinFreeSpace): two memtables, which is what pebble may need to
// rotate its write-ahead log and flush.
const DefaultMinFreeBytes = 2 * memTableBytes

// WithMinFreeSpace sets the free space of the state's filesystem below
// which a write fails with an error matching diff.ErrDiskFull before it
// reaches pebble (default DefaultMinFreeBytes; 0 turns the check off).
// pebble cannot fail every write on a full disk gracefully: a failed
// rotation of its write-ahead log ends the process (a Go fatal error, not a
// panic that can be recovered), so the store stops writing while there is
// still room.
func WithMinFreeSpace(bytes uint64) Option {
	return func(c *config) { c.minFree, c.minFreeSet = bytes, true }
}

// checkSpace refuses a write when the filesystem is nearly full.
func (s *Store) checkSpace() error {
	if s.minFree == 0 {
		return nil
	}
	free, ok := freeBytes(s.dir)
	if !ok || free >= s.minFree {
		return nil
	}
	return &diff.StoreError{Op: "write", Path: s.dir, Kind: diff.ErrDiskFull,
		Err:  fmt.Errorf("no space left on device: %d bytes free, below the %d this store keeps free (pebblestore.WithMinFreeSpace)", free, s.minFree),
		Hint: hintFull}
}
