package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/objstore"
)

// A run without -workers-db writes each batch's parts in a staging folder
// of its own, <out>/.currents-staging/run-<stamp>-<random>-<n>/, and moves
// them into <out>/<event_type>/ once the batch is committed. So a run
// killed in the middle leaves nothing in the output folder that the next
// run would write again, and no part cut off in the middle of a line (or,
// for Parquet, without its footer).
//
// The commit point is the checkpoint: when a batch opens, a marker key
// naming it is marked done before any of its input files, so the
// checkpoint's save (an append, kept in order, or an atomic rewrite) holds
// the marker whenever it holds any of the batch's files. The next run
// publishes the staged batches whose marker the checkpoint holds (their
// run stopped between the save and the moves) and removes the others: the
// checkpoint holds none of their files, which are read again.
// The deduplicator's ids are saved after the checkpoint (the other order
// would drop the events of a batch the next run removes, as duplicates).
// So that a crash between the two saves does not forget the batch's ids
// (a later redelivery of one of its events would be written again), the
// batch's folder holds them too, written before the checkpoint's save:
// the sweep adds them back and saves them before it moves the parts.

// runBatchPrefix starts the staging folder name of a batch of a run
// without -workers-db; workers' batches are named <worker>_<tag>-<n>.
const runBatchPrefix = "run-"

// batchMarkerPrefix starts the checkpoint key that marks a batch
// committed. An object key starts with no NUL byte.
const batchMarkerPrefix = "\x00currents-export committed batch "

func batchMarker(id string) string { return batchMarkerPrefix + id }

// stagedIDs names the file in a run's batch folder that holds the ids the
// batch added to the deduplicator (currents.Deduper.WriteUnsaved). It is
// not a part: moveStaged leaves it, and publishRun removes it with the
// folder once the ids are saved.
const stagedIDs = ".dedupe-ids"

// stageIDs writes the ids the batch added to the deduplicator into its
// folder, ahead of the commit point. It is not synced: it guards against
// the process dying between the checkpoint's save and the ids' save; after
// a power loss the sweep may find it torn, and says so.
func (b *batch) stageIDs() error {
	if err := os.MkdirAll(b.dir, 0o755); err != nil { // a batch of duplicates has no part
		return err
	}
	f, err := os.Create(filepath.Join(b.dir, stagedIDs))
	if err != nil {
		return err
	}
	_, err = b.dedupe.WriteUnsaved(f)
	return errors.Join(err, f.Close())
}

// newRunTag returns the part of this run's batch names that sets them
// apart from every other run's: its start time and random bytes.
func newRunTag(now time.Time) string {
	var b [4]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// openBatch starts batch n of the run: its staging folder becomes the
// outputs' folder, and its marker is marked done ahead of its files.
func (b *batch) openBatch() {
	b.seq++
	b.id = fmt.Sprintf("%s%s-%06d", runBatchPrefix, b.runTag, b.seq)
	b.dir = filepath.Join(b.out, stagingDir, b.id)
	b.outs.dir = b.dir
	b.cp.MarkDone(context.Background(), batchMarker(b.id)) // in memory: no error
}

// publishRun moves the parts in a committed batch's staging folder dir
// into out, under the same paths, and removes dir. A part whose name is
// taken in out (a run in the same second) gets the next free number.
func publishRun(out, dir string) ([]string, error) {
	paths, err := moveStaged(out, dir, freeName)
	if err != nil {
		return paths, err
	}
	// The moves need no sync of their own: until the staging folder is
	// gone, a crash leaves the parts there, and the checkpoint's marker
	// has the next run move them.
	return paths, os.RemoveAll(dir)
}

// moveStaged moves each part in a batch's staging folder dir to the path
// in out that dest chooses from the part's path relative to dir, joined to
// out, and returns their new paths. A part already moved there (by a sweep
// racing the batch's own worker) counts as moved.
func moveStaged(out, dir string, dest func(path string) (string, error)) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel == stagedIDs {
			return nil // the batch's ids, saved by now (see stageIDs)
		}
		to, err := dest(filepath.Join(out, rel))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.Rename(path, to); err != nil {
			if _, serr := os.Stat(to); !errors.Is(err, fs.ErrNotExist) || serr != nil {
				return err
			}
		}
		paths = append(paths, to)
		return nil
	})
	return paths, err
}

// freeName returns path, or, when a file has that name, the first of
// <name>-2<ext>, <name>-3<ext>, ... that is free.
func freeName(path string) (string, error) {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	for n := 1; ; n++ {
		p := path
		if n > 1 {
			p = stem + "-" + strconv.Itoa(n) + ext
		}
		_, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
	}
}

// sweepRuns finishes what earlier runs that stopped left in the staging
// folder: it adds the ids of the batches the checkpoint marks committed to
// dedupe and saves them to dedupePath, publishes those batches and removes
// the others, then forgets the batch markers once there are more than
// maxMarkers (the next save rewrites the checkpoint without them). It
// returns the parts it published. The caller holds the run lock
// (lockRun), so no other run is writing there.
func sweepRuns(out string, cp *objstore.FileCheckpoint, dedupe *currents.Deduper, dedupePath string, log *slog.Logger) ([]string, error) {
	root := filepath.Join(out, stagingDir)
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("staging folder: %w", err)
	}
	committed := map[string]bool{}
	restored := false
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, runBatchPrefix) {
			continue // a worker's batch (-workers-db): its workers sweep it
		}
		if done, _ := cp.Done(context.Background(), batchMarker(name)); !done {
			continue
		}
		committed[name] = true
		ok, err := restoreIDs(filepath.Join(root, name), dedupe, log)
		if err != nil {
			return nil, fmt.Errorf("batch %s, committed by a run that stopped: %w", name, err)
		}
		restored = restored || ok
	}
	if restored {
		// Before any batch folder, and its ids, goes.
		if err := dedupe.SaveFile(dedupePath); err != nil {
			return nil, err
		}
	}
	var published []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, runBatchPrefix) {
			continue
		}
		dir := filepath.Join(root, name)
		if committed[name] {
			paths, err := publishRun(out, dir)
			published = append(published, paths...)
			if err != nil {
				return published, fmt.Errorf("publishing batch %s, committed by a run that stopped: %w", name, err)
			}
			log.Info("published a batch that a stopped run committed", "batch", name, "parts", len(paths))
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return published, fmt.Errorf("removing batch %s, left uncommitted by a run that stopped: %w", name, err)
		}
		log.Info("removed the uncommitted batch of a run that stopped; its files are read again", "batch", name)
	}
	// A marker left behind is harmless (no batch takes its name again), and
	// forgetting any makes the next save rewrite the whole checkpoint
	// rather than append: they go a thousand at a time.
	markers := 0
	cp.Prune(func(key string) bool { // counts only
		if strings.HasPrefix(key, batchMarkerPrefix) {
			markers++
		}
		return false
	})
	if markers > maxMarkers {
		cp.Prune(func(key string) bool { return strings.HasPrefix(key, batchMarkerPrefix) })
	}
	return published, nil
}

// restoreIDs adds the ids in a committed batch's folder (see stageIDs) to
// dedupe and reports whether it found any. Ids torn by a power loss are
// reported and skipped: the batch's events are in the checkpoint and the
// parts, and only a later redelivery of one of them could be written
// again.
func restoreIDs(dir string, dedupe *currents.Deduper, log *slog.Logger) (bool, error) {
	f, err := os.Open(filepath.Join(dir, stagedIDs))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // a batch staged before the ids were kept there
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, err := dedupe.ReadFrom(f); err != nil {
		if !errors.Is(err, currents.ErrDedupeState) {
			return false, err
		}
		log.Warn("the deduplicator's ids kept with a committed batch are damaged (a power loss before they reached the disk?): those read are kept, the rest are forgotten, so a later redelivery of one of the batch's events may be written again",
			"file", f.Name(), "err", err)
	}
	return true, nil
}

// maxMarkers is the number of batch markers the checkpoint keeps before a
// sweep forgets them.
const maxMarkers = 1000
