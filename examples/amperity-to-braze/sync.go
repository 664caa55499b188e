package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze"
	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// syncer holds what every file of a run shares.
type syncer struct {
	cfg      *config
	engine   *diff.Engine
	client   *braze.Client // nil in dry-run
	mapOpts  []amperity.MapperOption
	schema   *amperity.Schema
	sendOpts []braze.SendOption
	rejects  *rejectsFile
	log      *slog.Logger
	stdout   io.Writer
	progress progressFunc
}

// fileResult counts what happened to one export file.
type fileResult struct {
	Name        string
	Duration    time.Duration
	Summary     diff.Summary
	Report      ampbraze.Report
	Interrupted bool
	// LimitErr is the limit a dry run found exceeded (the real run would
	// stop there and send nothing).
	LimitErr error
}

// syncFile is one sync of one export: read, map, plan, send, acknowledge,
// commit (ampbraze.Sync). Only changes Braze accepted reach the state; a
// failed or unanswered change is planned again by the next run. The error
// is what ended the file early: the file is then not marked processed.
func (s *syncer) syncFile(ctx context.Context, name string, r io.Reader, size int64) (*fileResult, error) {
	fmtOf, err := formatOf(s.cfg.format, s.cfg.delimiter, name)
	if err != nil {
		return nil, err
	}
	bar := s.progress(name, size)
	var last diff.Progress
	complete := false
	defer func() { bar.done(last, complete) }()
	start := time.Now()
	if fmtOf.kind != "parquet" { // Parquet needs the file itself (io.ReaderAt)
		r = bar.reader(r)
	}
	rows, closeRows, err := openRows(ctx, r, name, fmtOf, s.schema, s.cfg.nullTokens, s.cfg.allStrings)
	if err != nil {
		return nil, err
	}
	defer closeRows()
	if col := s.cfg.idColumn; col != "" {
		if _, ok := rows.Schema().Lookup(col); !ok {
			return nil, fmt.Errorf("-id-column %q: the export has no such column; its columns are %s", col, strings.Join(rows.Schema().Names(), ", "))
		}
	}
	mapper, err := amperity.NewMapper(rows.Schema(), s.mapOpts...)
	if err != nil {
		return nil, err
	}
	plan, err := s.engine.Plan(ctx, s.cfg.scope, mapper.Records(rows.Rows(ctx)), s.planOptions(mapper)...)
	if err != nil {
		return nil, err
	}
	defer plan.Close()
	res := &fileResult{Name: name}

	shown := 0
	if s.cfg.dryRun {
		fmt.Fprintf(s.stdout, "Dry run of %s: nothing is sent, the state is not changed.\n\nMapping plan:\n%s\n", name, mapper.Explain())
		fmt.Fprintf(s.stdout, "Changes (first %d):\n", s.cfg.sample)
	}
	// Outcomes arrive on this goroutine, one at a time.
	onOutcome := func(o ampbraze.Outcome) {
		switch o.Kind {
		case ampbraze.OutcomeBadRecord:
			s.rejects.write(rowReject(name, o.Err))
		case ampbraze.OutcomeRejected:
			s.rejects.write(objectReject(name, o.Change, o.Err))
		case ampbraze.OutcomePlanned:
			if shown < s.cfg.sample {
				shown++
				s.printSample(o)
			}
		}
		bar.update(plan.Progress())
	}
	opts := []ampbraze.SyncOption{ampbraze.WithIDField(mapper.IDField()), ampbraze.WithOutcomes(onOutcome), ampbraze.WithSendOptions(s.sendOpts...)}
	if s.cfg.dryRun {
		res.Report, err = ampbraze.DryRun(ctx, plan, opts...)
		fmt.Fprintln(s.stdout)
		if isLimit(err) {
			res.LimitErr, err = err, nil // reported by the summary
		}
	} else {
		res.Report, err = ampbraze.Sync(ctx, s.client, plan, opts...)
	}
	res.Summary = plan.Summary()
	res.Interrupted = ctx.Err() != nil
	last, complete = plan.Progress(), err == nil && !res.Interrupted
	res.Duration = time.Since(start)
	if werr := s.rejects.flush(); werr != nil {
		return res, fmt.Errorf("writing the rejects file %s: %w", s.cfg.rejectsPath, werr)
	}
	return res, err
}

func (s *syncer) printSample(o ampbraze.Outcome) {
	ua, err := braze.NewUserAttributes(s.idField(), o.Change.Key, o.Change.All())
	if err == nil {
		var j []byte
		if j, err = ua.MarshalJSON(); err == nil {
			fmt.Fprintf(s.stdout, "  %-8s %s\n", o.Change.Delta, j)
			return
		}
	}
	fmt.Fprintf(s.stdout, "  %s (%s): would be rejected: %v\n", o.Change.Key, o.Change.Delta, err)
}

func (s *syncer) idField() string { return s.cfg.idField }

func (s *syncer) planOptions(m *amperity.Mapper) []diff.PlanOption {
	opts := []diff.PlanOption{diff.WithRemoveAs(false, m.AudienceAttributes()...)}
	if s.cfg.fullSnapshot {
		opts = append(opts, diff.WithMode(diff.FullSnapshot))
	}
	if s.cfg.dryRun || s.cfg.updateExistingOnly {
		// -update-existing-only: a plan that records nothing, so that
		// every run sends every user in full (see updateonly.go).
		opts = append(opts, diff.WithDryRun())
	}
	if s.cfg.maxRemoved != nil {
		opts = append(opts, diff.WithMaxRemovals(*s.cfg.maxRemoved))
	}
	if s.cfg.maxChanged != nil {
		opts = append(opts, diff.WithMaxChanges(*s.cfg.maxChanged))
	}
	if s.cfg.force {
		opts = append(opts, diff.WithMaxRemovals(diff.NoLimit), diff.WithMaxChanges(diff.NoLimit), diff.WithAllowEmptySnapshot())
	}
	if s.cfg.resendRejected {
		opts = append(opts, diff.WithResendRejected())
	}
	if s.cfg.parts > 0 {
		opts = append(opts, diff.WithPartition(s.cfg.part, s.cfg.parts))
	}
	return opts
}
