//go:build darwin || freebsd

package diff

// adviseHugePages does nothing where Linux's transparent huge pages do not
// exist.
func adviseHugePages([]byte) {}
