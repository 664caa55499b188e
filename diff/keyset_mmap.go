//go:build linux || darwin || freebsd

package diff

import (
	"syscall"
	"unsafe"
)

// allocSlots returns n zeroed slots outside the Go heap. The key set is the
// one structure of a plan that grows with the number of keys; kept off the
// heap, it does not also raise the garbage collector's heap goal, which
// would double its cost in resident memory.
func allocSlots(n int) ([]uint64, func()) {
	b, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, n), func() {}
	}
	// Probes land at random in a table of up to hundreds of MiB: with 2 MiB
	// pages (where transparent huge pages are on "madvise") most of them
	// no longer miss the TLB as well. Advice only; failure changes nothing.
	adviseHugePages(b)
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), func() { syscall.Munmap(b) }
}
