// Command currents-export turns Braze Currents Avro files into NDJSON, CSV or Parquet
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
// part-<run time>[-<n>].ndjson (or .csv, .parquet). A checkpoint file lists the
// Currents files done, so a rerun reads only new ones. A corrupt file is
// reported, its events are left out of the output (so that a rerun, which
// tries it again, cannot duplicate them), and the other files go on.
//
// Files outside Braze's key layout (a flat folder of .avro files) are read
// too: the writer schema names their event type. Symbolic links to files
// are followed; a link to a directory, or a dangling one, is reported.
// -types accepts the event types the currents package knows, those Braze
// has announced without a schema (Currents v11's landing page, survey and
// Content Optimizer types, exported from their own fields), and any other
// users.* type the input has files of; anything else is an error that
// lists the known ones.
//
// Work is committed in batches (-commit-events, -commit-interval). A
// batch's parts are written in <out>/.currents-staging/; a commit closes
// them, each synced once, saves the checkpoint and then the deduplicator's
// ids, and moves the parts into <out>/<event_type>/. A crash exports again
// at most the files of the uncommitted batch, whose staged parts the next
// run removes first, so the output never holds a part cut short, nor the
// events the next run exports again; a batch committed but not yet moved is
// moved by the next run (see staging.go, also for the one window, between
// the checkpoint's save and the ids', that forgets the batch's ids). A
// second run on the same checkpoint or into the same output folder is
// refused (<checkpoint>.lock, <out>/.currents-staging.lock). Ctrl-C commits
// the files done and ends with "interrupted" and the counts.
//
// Several workers share one bucket with -workers-db postgres://...: the
// objects are claimed and the deduplicator's ids kept in PostgreSQL, and a
// batch's parts are published (renamed into <out>/<event_type>/) only once
// its transaction committed, so every event is written exactly once, also
// when a worker is killed (see workers.go).
//
// CSV and Parquet parts of an event type share one column set (for
// Parquet, one schema): the type's current Currents fields, so every older
// writer schema fits; a newer schema's extra fields start one wider part.
// -columns pins the columns. Parquet columns are typed (timestamps, INT64,
// DOUBLE, BOOLEAN, lists) and optional; see parquet.go.
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
	"github.com/ampbraze/ampbraze/examples/internal/input"
	"github.com/ampbraze/ampbraze/examples/internal/version"
	"github.com/ampbraze/ampbraze/objstore"
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
	unlisted                                   []string // -types to look for in the input (findTypes)
	columns                                    []string
	from, to                                   time.Time
	late                                       time.Duration
	dedupeWindow                               time.Duration
	commitEvents                               int64
	commitInterval                             time.Duration
	now                                        func() time.Time
	// syncFile, when set, replaces (*os.File).Sync for the output parts:
	// the benchmark counts the syncs with it.
	syncFile func(*os.File) error
	// saveIDs, when set, replaces (*currents.Deduper).SaveFile at a
	// commit: a test fails it.
	saveIDs func(*currents.Deduper, string) error
	// decoders, when set, replaces decoders(): tests set more than the
	// machine's cores to check that the order holds.
	decoders int
	workers  workerFlags // -workers-db and its companions (workers.go)
}

// decoderCount is the number of read-ahead decoders to use.
func (c *config) decoderCount() int {
	if c.decoders > 0 {
		return c.decoders
	}
	return decoders()
}

// errVersion is parseFlags' answer to -version.
var errVersion = errors.New("-version")

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{now: time.Now}
	fs := flag.NewFlagSet("currents-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.input, "input", "", "Currents files: a local `directory`, s3://bucket/prefix/, gs://bucket/prefix/ or an Azure folder (https://<account>.blob.core.windows.net/<container>/prefix/, azure://<container>/prefix/)")
	fs.StringVar(&c.out, "out", "", "output `directory`")
	fs.StringVar(&c.format, "format", "ndjson", "output format: ndjson, csv or parquet")
	types := fs.String("types", "", "comma-separated event types to export (default: all)")
	columns := fs.String("columns", "", "comma-separated CSV or Parquet `fields`, the same for every event type (default: each type's current fields, plus any newer ones its files carry)")
	from := fs.String("from", "", "keep events at or after this `time` (YYYY-MM-DD or RFC 3339, UTC)")
	to := fs.String("to", "", "keep events before this `time` (YYYY-MM-DD or RFC 3339, UTC)")
	fs.DurationVar(&c.late, "late", 24*time.Hour, "how long after -to Braze may still queue an event of the range (bounds the files read)")
	fs.DurationVar(&c.dedupeWindow, "dedupe-window", 24*time.Hour, "how far apart in queue time two deliveries of one event may be")
	fs.Int64Var(&c.commitEvents, "commit-events", 1_000_000, "commit (sync the output, save the checkpoint) after this many events written")
	fs.DurationVar(&c.commitInterval, "commit-interval", time.Minute, "commit at least this often; a crash exports again at most what was not committed")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "checkpoint `file` (default: <out>/.currents-checkpoint)")
	fs.StringVar(&c.s3Endpoint, "s3-endpoint", os.Getenv("AWS_ENDPOINT_URL_S3"), "S3-compatible endpoint `URL` (path-style), for MinIO and tests")
	showVersion := fs.Bool("version", false, "print the program's version and exit")
	c.workers.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *showVersion {
		return nil, errVersion
	}
	if c.input == "" || c.out == "" {
		return nil, errors.New("-input and -out are required")
	}
	if c.format != "ndjson" && c.format != "csv" && c.format != "parquet" {
		return nil, fmt.Errorf("-format %q: use ndjson, csv or parquet", c.format)
	}
	if *types != "" {
		c.types = strings.Split(*types, ",")
		unlisted, err := checkTypes(c.types)
		if err != nil {
			return nil, err
		}
		c.unlisted = unlisted
	}
	if *columns != "" {
		if c.format == "ndjson" {
			return nil, errors.New("-columns applies to -format csv and parquet")
		}
		c.columns = strings.Split(*columns, ",")
		if slices.Contains(c.columns, "") {
			return nil, fmt.Errorf("-columns %q: empty column name", *columns)
		}
	}
	if c.commitEvents < 1 || c.commitInterval <= 0 {
		return nil, errors.New("-commit-events and -commit-interval must be positive")
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
	if err := c.workers.check(c.checkpoint); err != nil {
		return nil, err
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
	if err := findTypes(ctx, c); err != nil {
		fmt.Fprintln(stderr, "currents-export:", err)
		return exitFatal
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := export(ctx, c, log, newProgress(stderr, log))
	if rep != nil {
		rep.print(stdout)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// A failure caused by the interruption (a listing cut short) is
		// the interruption.
		fmt.Fprintln(stderr, "currents-export: interrupted; the files counted above are done, the others are read next run")
		return exitFatal
	case err != nil:
		log.Error("fatal", "err", err)
		return exitFatal
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "currents-export: interrupted; the files counted above are done, the others are read next run")
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
	interrupted                                    bool
	commits                                        int // batches committed
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
	if r.interrupted {
		fmt.Fprintln(w, "Interrupted: the files not counted above are read next run")
	}
}

func export(ctx context.Context, c *config, log *slog.Logger, progress *progress) (*report, error) {
	loc, err := input.Open(ctx, c.input, input.Options{S3Endpoint: c.s3Endpoint})
	if err != nil {
		return nil, err
	}
	defer loc.Close()
	if !loc.Folder {
		return nil, fmt.Errorf("%s: give a directory or an s3:// prefix ending in /", c.input)
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return nil, err
	}
	if c.workers.db != "" {
		return exportWorkers(ctx, c, loc.Store, loc.Prefix, log, progress)
	}
	for _, l := range []struct{ path, what string }{
		{c.checkpoint + ".lock", "checkpoint"},
		{filepath.Join(c.out, stagingDir+".lock"), "output folder"},
	} {
		unlock, err := lockRun(l.path, l.what)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	cp, err := objstore.OpenFileCheckpoint(c.checkpoint, objstore.WithCheckpointLogger(log))
	if err != nil {
		return nil, err
	}
	// The deduplicator's ids persist beside the checkpoint and commit with
	// it, so a copy of an event delivered again in a later run is caught
	// too.
	dedupe := currents.NewDeduper(c.dedupeWindow)
	dedupePath := c.checkpoint + ".dedupe"
	if err := dedupe.LoadFile(dedupePath); err != nil {
		return nil, err
	}
	if n := dedupe.Stats().TornTail; n > 0 {
		log.Warn("the deduplicator's last save was cut short by a crash; its batch is still staged, and the sweep adds its ids back from there", "file", dedupePath, "bytes ignored", n)
	}
	rep := &report{byType: map[string]int64{}}
	if rep.outputs, err = sweepRuns(c.out, cp, dedupe, dedupePath, log); err != nil {
		return rep, err
	}
	watch := &listingWatch{lookupOnly: lookupOnly{cp}}
	opts := append(sourceFilters(c), currents.WithCheckpoint(watch), currents.WithSourceLogger(log))
	src := currents.NewSource(loc.Store, loc.Prefix, opts...)
	outs := newOutputs(c.out, c.format, c.now().UTC())
	if c.syncFile != nil {
		outs.syncFile = c.syncFile
	}
	outs.columns = c.columns
	b := &batch{outs: outs, dedupe: dedupe, dedupePath: dedupePath, cp: cp, limit: c.commitEvents, interval: c.commitInterval, last: time.Now(),
		out: c.out, runTag: newRunTag(c.now()), saveIDs: (*currents.Deduper).SaveFile}
	if c.saveIDs != nil {
		b.saveIDs = c.saveIDs
	}
	b.openBatch()

	err = exportFiles(ctx, src, c, b, rep, log, progress)
	progress.done()
	var oerr *outputError
	if errors.As(err, &oerr) {
		// The batch's output is incomplete: commit nothing of it.
		outs.abandon()
		rep.outputs = append(rep.outputs, b.published...)
		return rep, errors.Join(err, os.RemoveAll(b.dir))
	}
	// The keys of files the input no longer holds go with the next save
	// (see retention.go).
	forgot := 0
	if err == nil && ctx.Err() == nil && wholeListing(c) {
		var before time.Time
		if forgot, before = watch.forgetGone(loc.Prefix); forgot > 0 {
			log.Info("the checkpoint forgets the files queued before the oldest one the input holds", "files", forgot, "before", before)
		}
	}
	// Whatever ended the run (its end, Ctrl-C, a listing failure), the
	// files exported completely are committed.
	saves := b.files > 0
	cerr := b.commit()
	if cerr == nil && b.files == 0 {
		cerr = os.RemoveAll(b.dir) // the open batch holds nothing
	}
	if cerr == nil && forgot > 0 && !saves {
		// The open batch's marker goes too; its folder is gone.
		cerr = cp.Save()
	}
	rep.outputs = append(rep.outputs, b.published...)
	rep.commits = b.commits
	rep.interrupted = ctx.Err() != nil
	return rep, errors.Join(err, cerr)
}

// sourceFilters returns the Source options of -types, -from, -to and
// -late.
func sourceFilters(c *config) []currents.SourceOption {
	var opts []currents.SourceOption
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
	return opts
}

// outputError is a failure to write the output: the batch cannot be
// committed.
type outputError struct{ err error }

func (e *outputError) Error() string { return e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

// batch commits the work of a run in batches. A batch's parts are written
// in its staging folder (see staging.go). Committing closes them (each
// synced once), writes the ids the batch added to the deduplicator beside
// them, then saves the checkpoint, which holds the batch's marker ahead of
// its files and is the commit point, then the deduplicator's ids, then
// moves the parts into the output folder. A crash before the
// checkpoint's save leaves the batch's files out of it and its parts in the
// staging folder, which the next run removes before it exports the files
// again: at most one batch is read twice, and nothing of the first reading
// reaches the output. A crash after it leaves the parts for the next run to
// move.
type batch struct {
	outs       *outputs
	dedupe     *currents.Deduper
	dedupePath string
	cp         *objstore.FileCheckpoint
	limit      int64         // events per batch
	interval   time.Duration // longest time between commits
	last       time.Time
	events     int64 // events read since the last commit
	files      int   // files done since the last commit
	commits    int
	// The staging of the open batch (staging.go).
	out, runTag string
	seq         int
	id, dir     string
	published   []string // the parts moved into out
	// saveIDs is (*currents.Deduper).SaveFile, or a test's failing one.
	saveIDs func(*currents.Deduper, string) error
}

// fileDone counts a file exported completely and commits when the batch is
// full or old enough.
func (b *batch) fileDone(events int64) error {
	b.files++
	b.events += events
	if b.events >= b.limit || time.Since(b.last) >= b.interval {
		return b.commit()
	}
	return nil
}

func (b *batch) commit() error {
	// Parts left empty by a rolled-back file are removed even when no file
	// was done.
	if err := b.outs.commit(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if b.files == 0 {
		return nil // the batch stays open, its marker not saved
	}
	if err := b.stageIDs(); err != nil {
		return fmt.Errorf("keeping the deduplicator's ids with the batch: %w", err)
	}
	if err := b.cp.Save(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// Committed: from here on, a failure leaves the batch's staging folder
	// for the next run to move, and the run's cleanup removes only the
	// next batch's.
	id, dir := b.id, b.dir
	b.openBatch()
	b.files, b.events, b.last = 0, 0, time.Now()
	b.commits++
	if err := b.saveIDs(b.dedupe, b.dedupePath); err != nil {
		return fmt.Errorf("saving the deduplicator's ids (batch %s is committed; the next run moves its parts): %w", id, err)
	}
	paths, err := publishRun(b.out, dir)
	b.published = append(b.published, paths...)
	if err != nil {
		return fmt.Errorf("moving the parts of batch %s into %s (the next run moves what is left): %w", id, b.out, err)
	}
	return nil
}

// exportFiles exports the files of src, decoded ahead by the read-ahead's
// decoders; it returns nil when interrupted.
func exportFiles(ctx context.Context, src *currents.Source, c *config, b *batch, rep *report, log *slog.Logger, progress *progress) error {
	ahead := startReadAhead(ctx, src, prepareFor(c), c.decoderCount())
	defer ahead.stop()
	var cur *fileExport
	for ch := range ahead.chunks() {
		if ctx.Err() != nil {
			if cur != nil {
				return cur.abort()
			}
			return nil
		}
		if ch.file.Key.Raw == "" { // a listing or key failure
			var fe *currents.FileError
			if errors.As(ch.err, &fe) {
				rep.corrupt = append(rep.corrupt, ch.err)
				log.Warn("skipping file", "err", ch.err)
				continue
			}
			return ch.err // listing failed
		}
		if ch.first {
			var err error
			if cur, err = startFile(ch.file, b.dedupe, b.outs); err != nil {
				return &outputError{err}
			}
		}
		if err := cur.write(ch); err != nil {
			return &outputError{err}
		}
		ahead.release(ch)
		if ch.err != nil {
			if err := cur.abort(); err != nil {
				return &outputError{err}
			}
			cur = nil
			if ctx.Err() != nil {
				return nil // the file is read again next run
			}
			rep.files++
			rep.corrupt = append(rep.corrupt, ch.err)
			log.Warn("corrupt file", "err", ch.err)
			continue
		}
		if !ch.done {
			continue
		}
		n := cur.finish(rep)
		cur = nil
		rep.files++
		if err := b.cp.MarkDone(ctx, ch.file.Key.Raw); err != nil {
			return &outputError{err}
		}
		if err := b.fileDone(n); err != nil {
			return &outputError{err}
		}
		progress.file(ch.file.Key.Raw, n, rep)
	}
	if cur != nil { // cut short by the interruption
		return cur.abort()
	}
	return nil
}

// fileExport writes one Currents file's events. On a decoding error (or
// an interruption) the events already written for it are removed from the
// output.
type fileExport struct {
	f                              currents.File
	dedupe                         *currents.Deduper
	outs                           *outputs
	mark                           mark
	written, events, dups, outside int64
	// The ids this file added to the deduplicator: when the file turns out
	// to be corrupt its output is rolled back, and so must they be, or a
	// clean redelivery read later would be dropped as a duplicate.
	added []string
}

func startFile(f currents.File, dedupe *currents.Deduper, outs *outputs) (*fileExport, error) {
	m, err := outs.mark(f.Key.EventType)
	if err != nil {
		return nil, err
	}
	return &fileExport{f: f, dedupe: dedupe, outs: outs, mark: m}, nil
}

// write writes the chunk's events that are not duplicates, from their
// NDJSON lines when the read-ahead encoded them.
func (x *fileExport) write(ch *chunk) error {
	x.events += ch.read
	x.outside += ch.outside
	dups := x.outs.seen.duplicates(x.dedupe, x.f, ch.events)
	if ch.encoded {
		return x.writeLines(ch, dups)
	}
	for i, dup := range dups {
		if dup {
			x.dups++
			continue
		}
		ev := ch.events[i]
		x.added = append(x.added, ev.EventID())
		if err := x.outs.write(ev); err != nil {
			return err
		}
		x.written++
	}
	return nil
}

// writeLines writes the NDJSON lines of the chunk's events that are not
// duplicates: each run of consecutive ones of one event type in one write.
func (x *fileExport) writeLines(ch *chunk, dups []bool) error {
	var (
		runType        string
		runStart, rows int // the run's first byte in ch.lines, and its events
		off            int // the current event's first byte
	)
	flush := func() error {
		if rows == 0 {
			return nil
		}
		err := x.outs.writeLines(runType, ch.lines[runStart:off], rows)
		rows = 0
		return err
	}
	for i, ev := range ch.events {
		line, ok := ch.line(i)
		if !ok {
			return errors.Join(flush(), ch.encodeErr)
		}
		if dups[i] {
			x.dups++
			if err := flush(); err != nil {
				return err
			}
		} else {
			if t := ev.EventType(); rows == 0 || t != runType {
				if err := flush(); err != nil {
					return err
				}
				runType, runStart = t, off
			}
			rows++
			x.added = append(x.added, ev.EventID())
			x.written++
		}
		off += len(line)
	}
	return flush()
}

// abort rolls the file back: its output and its ids.
func (x *fileExport) abort() error {
	for _, id := range x.added {
		x.dedupe.Forget(id)
	}
	return x.outs.rollback(x.mark)
}

// finish adds the file's counts to the report and returns the events
// written.
func (x *fileExport) finish(rep *report) int64 {
	rep.events += x.events
	rep.duplicates += x.dups
	rep.outOfRange += x.outside
	rep.written += x.written
	rep.byType[x.f.Key.EventType] += x.written
	return x.written
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
