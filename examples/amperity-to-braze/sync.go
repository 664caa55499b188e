package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

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
	Summary     diff.Summary
	BadRows     int64 // rows the reader, mapper or plan could not use
	Sent        int64 // users whose change Braze accepted
	Attributes  int64 // attributes in those changes
	Rejected    int64 // objects Braze or validation rejected (resending fails again)
	Failed      int64 // objects whose request failed (planned again next run)
	Interrupted bool
}

// syncFile is one sync of one export: read, map, plan, send, acknowledge,
// commit. Only changes Braze accepted reach the state; a failed or
// unanswered change is planned again by the next run.
func (s *syncer) syncFile(ctx context.Context, name string, r io.Reader, size int64) (*fileResult, error) {
	fmtOf, err := formatOf(s.cfg.format, s.cfg.delimiter, name)
	if err != nil {
		return nil, err
	}
	bar := s.progress(name, size)
	defer bar.done()
	if fmtOf.kind != "parquet" { // Parquet needs the file itself (io.ReaderAt)
		r = bar.reader(r)
	}
	rows, closeRows, err := openRows(ctx, r, name, fmtOf, s.schema, s.cfg.nullTokens)
	if err != nil {
		return nil, err
	}
	defer closeRows()
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
	if s.cfg.dryRun {
		return res, s.preview(ctx, mapper, plan, res)
	}

	// updates runs on the sender's goroutine: it counts into its own
	// variables, read once the results are all in.
	var invalid, badRows int64
	updates := func(yield func(braze.Update) bool) {
		for ch, err := range plan.Changes() {
			if err != nil && ctx.Err() != nil {
				return // interrupted: the reader stopped, not a bad row
			}
			if err != nil { // a bad row: reported, never sent
				badRows++
				s.rejects.write(rowReject(name, err))
				continue
			}
			ua, err := braze.NewUserAttributes(mapper.IDField(), ch.Key, ch.All())
			if err != nil { // a value Braze cannot take
				plan.Ack(ch, err)
				invalid++
				s.rejects.write(objectReject(name, ch, err))
				continue
			}
			if !yield(braze.Update{Attributes: ua, Ref: ch}) {
				return
			}
		}
	}
	for out := range s.client.TrackAll(ctx, updates, s.sendOpts...) {
		ch := out.Ref.(diff.Change)
		if err := plan.Ack(ch, out.Err); err != nil {
			return res, err
		}
		res.count(ch, out)
		if out.Status() == braze.Rejected {
			s.rejects.write(objectReject(name, ch, out.Err))
		}
		bar.update(plan.Progress())
	}

	res.BadRows, res.Rejected = badRows, res.Rejected+invalid

	// Commit what Braze accepted, also after Ctrl-C: the context is
	// cancelled then, but the acknowledgements are still good.
	res.Interrupted = ctx.Err() != nil
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := plan.Commit(cctx); err != nil {
		return res, err
	}
	res.Summary = plan.Summary()
	return res, nil
}

func (r *fileResult) count(ch diff.Change, out braze.Result) {
	switch out.Status() {
	case braze.Accepted:
		r.Sent++
		r.Attributes += int64(len(ch.Attrs))
	case braze.Rejected:
		r.Rejected++
	default:
		r.Failed++
	}
}

func (s *syncer) planOptions(m *amperity.Mapper) []diff.PlanOption {
	opts := []diff.PlanOption{diff.WithRemoveAs(false, m.AudienceAttributes()...)}
	if s.cfg.fullSnapshot {
		opts = append(opts, diff.WithMode(diff.FullSnapshot))
	}
	if s.cfg.dryRun {
		opts = append(opts, diff.WithDryRun())
	}
	return opts
}

// preview runs the plan without sending: the summary, the mapper's plan and
// a sample of the changes as the JSON that would be sent.
func (s *syncer) preview(ctx context.Context, m *amperity.Mapper, plan *diff.Plan, res *fileResult) error {
	fmt.Fprintf(s.stdout, "Dry run of %s: nothing is sent, the state is not changed.\n\nMapping plan:\n%s\n", res.Name, m.Explain())
	fmt.Fprintf(s.stdout, "Changes (first %d):\n", s.cfg.sample)
	defer fmt.Fprintln(s.stdout)
	shown := 0
	for ch, err := range plan.Changes() {
		if err != nil && ctx.Err() != nil {
			break
		}
		if err != nil {
			res.BadRows++
			s.rejects.write(rowReject(res.Name, err))
			continue
		}
		if shown < s.cfg.sample {
			ua, err := braze.NewUserAttributes(m.IDField(), ch.Key, ch.All())
			if err != nil {
				fmt.Fprintf(s.stdout, "  %s (%s): would be rejected: %v\n", ch.Key, ch.Status, err)
			} else if j, err := ua.MarshalJSON(); err != nil {
				fmt.Fprintf(s.stdout, "  %s (%s): would be rejected: %v\n", ch.Key, ch.Status, err)
			} else {
				fmt.Fprintf(s.stdout, "  %-8s %s\n", ch.Status, j)
			}
			shown++
		}
	}
	if err := ctx.Err(); err != nil {
		res.Interrupted = true
	}
	res.Summary = plan.Summary()
	return nil
}
