package diff

import "syscall"

// adviseHugePages asks for transparent huge pages for b; advice only.
func adviseHugePages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
