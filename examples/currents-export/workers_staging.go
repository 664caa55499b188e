package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// publishedName is the name a part of batch takes in <out>/<event_type>/:
// the batch's name makes it unique among the workers writing there.
func publishedName(batch, base string) string {
	return "part-" + batch + "-" + strings.TrimPrefix(base, "part-")
}

// publish moves the parts of a committed batch from its staging folder,
// dir, into out, and removes the folder. A part already moved (by a sweep
// racing the batch's own worker) is not an error.
func publish(out, dir, batch string) ([]string, error) {
	paths, err := moveStaged(out, dir, func(path string) (string, error) {
		return filepath.Join(filepath.Dir(path), publishedName(batch, filepath.Base(path))), nil
	})
	if err != nil {
		return paths, err
	}
	// The renames must survive a crash before the staging folder is gone.
	dirs := map[string]struct{}{}
	for _, p := range paths {
		dirs[filepath.Dir(p)] = struct{}{}
	}
	for d := range dirs {
		if f, err := os.Open(d); err == nil {
			f.Sync()
			f.Close()
		}
	}
	return paths, os.RemoveAll(dir)
}

// batchOwner returns the worker id in a batch's name.
func batchOwner(batch string) string {
	i := strings.LastIndexByte(batch, '_')
	if i <= 0 {
		return ""
	}
	return batch[:i]
}

// sweep finishes what stopped workers left in the staging folder: it
// publishes the batches the database holds as committed (the worker died
// between its commit and the renames) and removes the others once their
// worker holds no claim (died, and the other workers took its objects
// over: they export them again). Failures are logged: the next sweep
// tries again.
func (w *worker) sweep(ctx context.Context) {
	root := filepath.Join(w.c.out, stagingDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.log.Warn("sweeping the staging folder", "err", err)
		}
		return
	}
	mine := w.c.workers.id + "_" + w.runTag + "-"
	for _, e := range entries {
		name := e.Name()
		owner := batchOwner(name)
		if !e.IsDir() || owner == "" || strings.HasPrefix(name, mine) {
			continue
		}
		// Holding first, then committed: a worker that holds no claim now
		// has committed (visible below) or given up everything it wrote.
		holds := false
		if owner != w.c.workers.id { // an earlier run of this worker id holds nothing
			if holds, err = w.claims.Holding(ctx, owner); err != nil {
				w.log.Warn("sweeping the staging folder", "err", err)
				return
			}
		}
		if holds {
			continue
		}
		committed, err := w.claims.Committed(ctx, name)
		if err != nil {
			w.log.Warn("sweeping the staging folder", "err", err)
			return
		}
		dir := filepath.Join(root, name)
		if committed[name] {
			paths, err := publish(w.c.out, dir, name)
			w.log.Info("published a batch its worker committed but stopped before publishing", "batch", name, "parts", len(paths), "err", err)
			w.rep.outputs = append(w.rep.outputs, paths...)
			continue
		}
		err = os.RemoveAll(dir)
		w.log.Info("removed the uncommitted batch of a stopped worker; its objects are exported again", "batch", name, "err", err)
	}
}
