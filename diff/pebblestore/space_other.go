//go:build !unix

package pebblestore

// freeBytes cannot tell here: the check is skipped.
func freeBytes(string) (uint64, bool) { return 0, false }
