// Command currents-export turns Braze Currents Avro files into NDJSON or CSV
// files, one set per event type, ready for an Amperity feed or a warehouse
// load.
//
//	currents-export -input s3://acme-currents/currents/ -out ./export \
//	    -types users.messages.email.Send,users.messages.email.Open \
//	    -from 2026-11-01 -to 2026-12-01 -format csv
//
// It reads a local directory or an s3://bucket/prefix/ recursively, in key
// order; keeps the events of the given types whose event time is in
// [-from, -to); drops events already seen (Currents delivers at least once:
// the same event id can arrive twice); and writes <out>/<event_type>/
// part-<run time>.ndjson (or .csv). A checkpoint file lists the Currents
// files done, so a rerun reads only new ones. A corrupt file is reported,
// its events are left out of the output (so that a rerun, which tries it
// again, cannot duplicate them), and the other files go on.
//
// Exit status: 0 when every file was read, 1 when some were corrupt, 2 on a
// fatal error or when interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/examples/internal/objstore"
	"github.com/ampbraze/ampbraze/examples/internal/version"
)

const (
	exitOK      = 0
	exitCorrupt = 1
	exitFatal   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	input, out, format, checkpoint, s3Endpoint string
	types                                      []string
	from, to                                   time.Time
	late                                       time.Duration
	dedupeWindow                               time.Duration
	now                                        func() time.Time
}

// errVersion is parseFlags' answer to -version.
var errVersion = errors.New("-version")

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{now: time.Now}
	fs := flag.NewFlagSet("currents-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.input, "input", "", "Currents files: a local `directory` or s3://bucket/prefix/")
	fs.StringVar(&c.out, "out", "", "output `directory`")
	fs.StringVar(&c.format, "format", "ndjson", "output format: ndjson or csv")
	types := fs.String("types", "", "comma-separated event types to export (default: all)")
	from := fs.String("from", "", "keep events at or after this `time` (YYYY-MM-DD or RFC 3339, UTC)")
	to := fs.String("to", "", "keep events before this `time` (YYYY-MM-DD or RFC 3339, UTC)")
	fs.DurationVar(&c.late, "late", 24*time.Hour, "how long after -to Braze may still queue an event of the range (bounds the files read)")
	fs.DurationVar(&c.dedupeWindow, "dedupe-window", 24*time.Hour, "how far apart in queue time two deliveries of one event may be")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "checkpoint `file` (default: <out>/.currents-checkpoint)")
	fs.StringVar(&c.s3Endpoint, "s3-endpoint", os.Getenv("AWS_ENDPOINT_URL_S3"), "S3-compatible endpoint `URL` (path-style), for MinIO and tests")
	showVersion := fs.Bool("version", false, "print the program's version and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *showVersion {
		return nil, errVersion
	}
	if c.input == "" || c.out == "" {
		return nil, errors.New("-input and -out are required")
	}
	if c.format != "ndjson" && c.format != "csv" {
		return nil, fmt.Errorf("-format %q: use ndjson or csv", c.format)
	}
	if *types != "" {
		c.types = strings.Split(*types, ",")
	}
	var err error
	if c.from, err = parseTime(*from); err != nil {
		return nil, fmt.Errorf("-from: %w", err)
	}
	if c.to, err = parseTime(*to); err != nil {
		return nil, fmt.Errorf("-to: %w", err)
	}
	if !c.from.IsZero() && !c.to.IsZero() && !c.from.Before(c.to) {
		return nil, errors.New("-from must be before -to")
	}
	if c.checkpoint == "" {
		c.checkpoint = filepath.Join(c.out, ".currents-checkpoint")
	}
	return c, nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if errors.Is(err, errVersion) {
			fmt.Fprintln(stdout, version.String("currents-export"))
			return exitOK
		}
		fmt.Fprintln(stderr, "currents-export:", err)
		return exitFatal
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := export(ctx, c, log, newProgress(stderr, log))
	if rep != nil {
		rep.print(stdout)
	}
	switch {
	case err != nil:
		log.Error("fatal", "err", err)
		return exitFatal
	case ctx.Err() != nil:
		return exitFatal
	case len(rep.corrupt) > 0:
		return exitCorrupt
	}
	return exitOK
}

// report is what a run did.
type report struct {
	files, events, written, duplicates, outOfRange int64
	byType                                         map[string]int64
	corrupt                                        []error
	outputs                                        []string
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "Read %d files, %d events: %d written, %d duplicates dropped, %d outside the time range\n",
		r.files, r.events, r.written, r.duplicates, r.outOfRange)
	for _, t := range slices.Sorted(mapsKeys(r.byType)) {
		fmt.Fprintf(w, "  %-40s %d\n", t, r.byType[t])
	}
	for _, o := range r.outputs {
		fmt.Fprintf(w, "Wrote %s\n", o)
	}
	for _, err := range r.corrupt {
		fmt.Fprintf(w, "Corrupt, not exported (retried next run): %v\n", err)
	}
}

func export(ctx context.Context, c *config, log *slog.Logger, progress *progress) (*report, error) {
	loc, err := objstore.Open(ctx, c.input, objstore.S3Options{Endpoint: c.s3Endpoint})
	if err != nil {
		return nil, err
	}
	if !loc.Folder {
		return nil, fmt.Errorf("%s: give a directory or an s3:// prefix ending in /", c.input)
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return nil, err
	}
	cp, err := currents.OpenFileCheckpoint(c.checkpoint)
	if err != nil {
		return nil, err
	}
	opts := []currents.SourceOption{currents.WithCheckpoint(cp), currents.WithSourceLogger(log)}
	if len(c.types) > 0 {
		opts = append(opts, currents.WithEventTypes(c.types...))
	}
	if !c.from.IsZero() || !c.to.IsZero() {
		// Files are named by the hour Braze queued their events, which is
		// at or after the event time, and at most -late after it.
		var from, to time.Time
		if !c.from.IsZero() {
			from = c.from.Truncate(time.Hour)
		}
		if !c.to.IsZero() {
			to = c.to.Add(c.late)
		}
		opts = append(opts, currents.WithHours(from, to))
	}
	src := currents.NewSource(loc.Store, loc.Prefix, opts...)
	// The deduplicator's ids persist beside the checkpoint, so a copy of an
	// event delivered again in a later run is caught too. A crash before the
	// save loses only that protection, never an event.
	dedupe := currents.NewDeduper(c.dedupeWindow)
	dedupePath := c.checkpoint + ".dedupe"
	if err := dedupe.LoadFile(dedupePath); err != nil {
		return nil, err
	}
	defer func() {
		if serr := dedupe.SaveFile(dedupePath); serr != nil {
			log.Error("saving deduplicator state", "err", serr)
		}
	}()
	outs := newOutputs(c.out, c.format, c.now().UTC())
	defer outs.close()

	rep := &report{byType: map[string]int64{}}
	for f, err := range src.Files(ctx) {
		if err != nil {
			var fe *currents.FileError
			if errors.As(err, &fe) {
				rep.corrupt = append(rep.corrupt, err)
				log.Warn("skipping file", "err", err)
				continue
			}
			return rep, err // listing failed
		}
		if ctx.Err() != nil {
			break
		}
		rep.files++
		n, err := exportFile(ctx, src, f, c, dedupe, outs, rep)
		if err != nil {
			var fe *currents.FileError
			if !errors.As(err, &fe) || ctx.Err() != nil {
				return rep, err
			}
			rep.corrupt = append(rep.corrupt, err)
			log.Warn("corrupt file", "err", err)
			continue
		}
		// Outputs first, then the checkpoint: a crash in between exports
		// the file again rather than losing it.
		if err := outs.sync(); err != nil {
			return rep, err
		}
		if err := cp.Save(); err != nil {
			return rep, fmt.Errorf("checkpoint: %w", err)
		}
		progress.file(f.Key.Raw, n, rep)
	}
	progress.done()
	if rep.outputs, err = outs.close(); err != nil {
		return rep, err
	}
	return rep, ctx.Err()
}

// exportFile writes one Currents file's events. On a decoding error the
// events already written for it are removed from the output.
func exportFile(ctx context.Context, src *currents.Source, f currents.File, c *config, dedupe *currents.Deduper, outs *outputs, rep *report) (int64, error) {
	mark, err := outs.mark(f.Key.EventType)
	if err != nil {
		return 0, err
	}
	var written, events, dups, outside int64
	// The ids this file added to the deduplicator: when the file turns out
	// to be corrupt its output is rolled back, and so must they be, or a
	// clean redelivery read later would be dropped as a duplicate.
	var added []string
	for ev, err := range src.Events(ctx, f) {
		if err != nil {
			for _, id := range added {
				dedupe.Forget(id)
			}
			if rerr := outs.rollback(mark); rerr != nil {
				return 0, rerr
			}
			return 0, err
		}
		events++
		t := ev.Time()
		if (!c.from.IsZero() && t.Before(c.from)) || (!c.to.IsZero() && !t.Before(c.to)) {
			outside++
			continue
		}
		if dedupe.SeenEvent(currents.KeyedEvent{Key: f.Key, Event: ev}) {
			dups++
			continue
		}
		added = append(added, ev.EventID())
		if err := outs.write(ev); err != nil {
			return 0, err
		}
		written++
	}
	rep.events += events
	rep.duplicates += dups
	rep.outOfRange += outside
	rep.written += written
	rep.byType[f.Key.EventType] += written
	return written, nil
}

func mapsKeys(m map[string]int64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
