package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback starts writing the n bytes of f at off to the disk and
// returns without waiting for them (sync_file_range with
// SYNC_FILE_RANGE_WRITE, as pebble's and RocksDB's bytes-per-sync do). It
// makes nothing durable: that is the fsync at close. A failure is ignored
// for the same reason; the fsync reports any that matters.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
