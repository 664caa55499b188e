package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runInfo identifies one run of the program (one pass over the input).
type runInfo struct {
	ID      string
	Started time.Time
}

// newRunID returns a run id that sorts by time and is unique: the start
// time and 4 random bytes.
func newRunID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// runSummary is what -summary-json writes, for schedulers and dashboards.
type runSummary struct {
	RunID           string        `json:"run_id"`
	Started         time.Time     `json:"started"`
	Finished        time.Time     `json:"finished"`
	DurationSeconds float64       `json:"duration_seconds"`
	Exit            int           `json:"exit_code"`
	Status          string        `json:"status"` // ok, rejected, failed, interrupted, nothing_to_sync
	DryRun          bool          `json:"dry_run"`
	Scope           string        `json:"scope"`
	Files           []fileSummary `json:"files"`
	Total           counts        `json:"total"`
}

type fileSummary struct {
	Name string `json:"name"`
	counts
	RowsPerSecond   float64 `json:"rows_per_second"`
	DurationSeconds float64 `json:"duration_seconds"`
	// RemovalsSkipped says why a full snapshot planned no removals.
	RemovalsSkipped string `json:"removals_skipped,omitempty"`
}

// counts are a file's (or the run's) figures: rows read, users by status,
// and the outcomes of what was sent.
type counts struct {
	Rows          int64 `json:"rows"`
	New           int64 `json:"new_users"`
	Changed       int64 `json:"changed_users"`
	Removed       int64 `json:"removed_users"`
	Unchanged     int64 `json:"unchanged_users"`
	BadRows       int64 `json:"bad_rows"`
	Duplicates    int64 `json:"duplicate_ids"`
	StillRejected int64 `json:"still_rejected_users"`
	Sent          int64 `json:"users_accepted"`
	Attributes    int64 `json:"attributes_accepted"`
	Rejected      int64 `json:"users_rejected"`
	Failed        int64 `json:"users_failed"`
	DataPoints    int64 `json:"data_points_estimated"`
}

func (c *counts) add(o counts) {
	c.Rows += o.Rows
	c.New += o.New
	c.Changed += o.Changed
	c.Removed += o.Removed
	c.Unchanged += o.Unchanged
	c.BadRows += o.BadRows
	c.Duplicates += o.Duplicates
	c.StillRejected += o.StillRejected
	c.Sent += o.Sent
	c.Attributes += o.Attributes
	c.Rejected += o.Rejected
	c.Failed += o.Failed
	c.DataPoints += o.DataPoints
}

func (s *syncer) summarize(run runInfo, results []*fileResult, code int, interrupted bool) runSummary {
	now := time.Now()
	sum := runSummary{RunID: run.ID, Started: run.Started.UTC(), Finished: now.UTC(), DurationSeconds: now.Sub(run.Started).Seconds(),
		Exit: code, DryRun: s.cfg.dryRun, Scope: s.cfg.scope, Files: []fileSummary{}}
	for _, r := range results {
		sm, rp := r.Summary, r.Report
		f := fileSummary{Name: r.Name, DurationSeconds: r.Duration.Seconds(), counts: counts{
			Rows: sm.Records, New: sm.New, Changed: sm.Changed, Removed: sm.Removed, Unchanged: sm.Unchanged,
			BadRows: rp.BadRecords, Duplicates: sm.Duplicates, StillRejected: sm.StillRejected,
			Sent: rp.Accepted, Attributes: rp.Attributes, Rejected: rp.Rejected, Failed: rp.Failed, DataPoints: rp.DataPoints,
		}}
		if r.Duration > 0 {
			f.RowsPerSecond = float64(sm.Records) / r.Duration.Seconds()
		}
		if sm.RemovalsSkipped != nil {
			f.RemovalsSkipped = sm.RemovalsSkipped.Error()
		}
		sum.Files = append(sum.Files, f)
		sum.Total.add(f.counts)
	}
	switch {
	case interrupted:
		sum.Status = "interrupted"
	case len(results) == 0 && code == exitOK:
		sum.Status = "nothing_to_sync"
	case code == exitOK:
		sum.Status = "ok"
	case code == exitRejected:
		sum.Status = "rejected"
	default:
		sum.Status = "failed"
	}
	return sum
}

// writeSummaryJSON writes the summary to path atomically (a temporary
// file renamed over it), so a scheduler never reads half a summary.
func writeSummaryJSON(path string, sum runSummary) error {
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// defaultCheckpoint is the checkpoint of processed exports of a scope:
// beside the state directory, not inside it (the directory belongs to the
// state store).
func defaultCheckpoint(statePath, scope string, part, parts int) string {
	dir := filepath.Clean(statePath)
	name := filepath.Base(dir) + "-processed-" + strings.NewReplacer(":", "_", "/", "_").Replace(scope)
	if parts > 0 {
		name += fmt.Sprintf("-part-%d-of-%d", part, parts) // each worker tracks its own files
	}
	return filepath.Join(filepath.Dir(dir), name+".txt")
}

// moveOldCheckpoint moves the checkpoint of processed exports from where
// earlier versions kept it by default, inside the state directory, to its
// place beside it, so an upgrade does not sync every export again.
func (s *syncer) moveOldCheckpoint() error {
	if !s.cfg.checkpointDefault || s.cfg.parts > 0 {
		return nil
	}
	old := filepath.Join(s.cfg.statePath, "processed-"+strings.NewReplacer(":", "_", "/", "_").Replace(s.cfg.scope)+".txt")
	if _, err := os.Stat(s.cfg.checkpoint); err == nil {
		return nil
	}
	if _, err := os.Stat(old); err != nil {
		return nil
	}
	if err := os.Rename(old, s.cfg.checkpoint); err != nil {
		return fmt.Errorf("moving the checkpoint %s beside the state, to %s: %w", old, s.cfg.checkpoint, err)
	}
	s.log.Info("moved the checkpoint of processed exports beside the state directory", "from", old, "to", s.cfg.checkpoint)
	return nil
}
