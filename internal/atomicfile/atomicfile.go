// Package atomicfile replaces a file in one step, for the small state files
// the SDK keeps (objstore's checkpoint, currents' deduplicator ids).
package atomicfile

import (
	"bufio"
	"os"
	"path/filepath"
)

// Write writes path through a temporary file beside it, synced, then
// renamed over path, so that a crash leaves either the old or the new
// file, never a mix. write fills the file; an error from it (or from
// any step) removes the temporary file and leaves path as it was.
func Write(path string, write func(*bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	if err = write(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Sync the directory so the rename itself survives a crash; not every
	// platform allows it, and the data is already safe, so ignore failure.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
