// Command amperity-to-braze syncs Amperity exports to Braze user profiles,
// sending only what changed since the last accepted sync.
//
// The input is a file, an s3://bucket/key object, or a folder (a local
// directory or an s3://bucket/prefix/ URL ending in "/") where Amperity drops
// its exports: then every file not processed yet is synced, in key order
// (name your exports with a sortable timestamp), and recorded in a checkpoint.
//
//	BRAZE_API_KEY=... amperity-to-braze -instance US-03 \
//	    -input s3://acme-amperity/braze/ -schema customers.schema \
//	    -mapping mapping.json -state /var/lib/ampbraze -every 1h
//
// The API key is read from BRAZE_API_KEY only, never from a flag. AWS
// credentials come from the SDK's default chain.
//
// Exit status: 0 when every row and object was accepted, 1 when some were
// rejected (see -rejects), 2 on a fatal error, when some requests failed
// (their changes are sent again by the next run), or when interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/examples/internal/objstore"
)

// Exit statuses.
const (
	exitOK       = 0
	exitRejected = 1
	exitFatal    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	input, format, delimiter, schemaPath, mappingPath string
	idColumn, idField                                 string
	nullTokens                                        []string
	statePath, scope, checkpoint                      string
	fullSnapshot                                      bool
	instance, endpoint                                string
	dryRun                                            bool
	sample                                            int
	concurrency, batchSize, rate                      int
	rateWindow                                        time.Duration
	rejectsPath                                       string
	every, logEvery                                   time.Duration
	s3Endpoint                                        string
	verbose                                           bool

	// httpClient, when set (tests), is used for Braze and S3.
	httpClient *http.Client
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("amperity-to-braze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.input, "input", "", "export `file`, s3://bucket/key, or a folder (directory or s3://bucket/prefix/) of exports")
	fs.StringVar(&c.format, "format", "", "csv, tsv, psv or ndjson (default: from the file extension; .gz is detected)")
	fs.StringVar(&c.delimiter, "delimiter", "", "field delimiter of delimited text, one ASCII `char`acter (\\t for tab)")
	fs.StringVar(&c.schemaPath, "schema", "", "schema `file` of column:type lines (default: every column a String)")
	fs.StringVar(&c.mappingPath, "mapping", "", "mapping overrides JSON `file` (columns, ignore, audiences, precedence, ...)")
	fs.StringVar(&c.idColumn, "id-column", "", "`column` holding the Braze identifier (default: a column named like the -id-field)")
	fs.StringVar(&c.idField, "id-field", "external_id", "Braze identifier of the users: external_id or braze_id")
	nulls := fs.String("null", "", "comma-separated texts meaning NULL in delimited text (default: an empty unquoted field)")
	fs.StringVar(&c.statePath, "state", "ampbraze-state", "`directory` of the delta state (what Braze accepted)")
	fs.StringVar(&c.scope, "scope", "braze:users", "state `scope`: one per kind of export and Braze workspace")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "`file` listing the processed files of a folder input (default: <state>/processed-<scope>.txt)")
	fs.BoolVar(&c.fullSnapshot, "full-snapshot", false, "each export lists every user: users absent from it have their attributes removed")
	fs.StringVar(&c.instance, "instance", os.Getenv("BRAZE_INSTANCE"), "Braze `instance` (US-03, EU-01, ...; default $BRAZE_INSTANCE)")
	fs.StringVar(&c.endpoint, "endpoint", os.Getenv("BRAZE_REST_ENDPOINT"), "Braze REST endpoint `URL` (default $BRAZE_REST_ENDPOINT)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the plan summary and a sample of changes; send and record nothing")
	fs.IntVar(&c.sample, "sample", 10, "changes shown by -dry-run")
	fs.IntVar(&c.concurrency, "concurrency", braze.DefaultConcurrency, "requests in flight")
	fs.IntVar(&c.batchSize, "batch-size", braze.DefaultBatchSize, "objects per request (50 on older contracts)")
	fs.IntVar(&c.rate, "rate", braze.DefaultRequestsPerWindow, "requests per -rate-window (share the workspace's budget with other senders)")
	fs.DurationVar(&c.rateWindow, "rate-window", braze.DefaultRateWindow, "window of -rate")
	fs.StringVar(&c.rejectsPath, "rejects", "", "NDJSON `file` to append rejected rows and objects to (file, row, key, reason)")
	fs.DurationVar(&c.every, "every", 0, "keep running and sync at this interval (e.g. 1h), one run at a time")
	fs.DurationVar(&c.logEvery, "log-every", 10*time.Second, "progress log interval when stderr is not a terminal")
	fs.StringVar(&c.s3Endpoint, "s3-endpoint", os.Getenv("AWS_ENDPOINT_URL_S3"), "S3-compatible endpoint `URL` (path-style), for MinIO and tests")
	fs.BoolVar(&c.verbose, "v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.input == "" && fs.NArg() == 1 {
		c.input = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.input == "" {
		return nil, errors.New("-input is required")
	}
	if *nulls != "" {
		c.nullTokens = strings.Split(*nulls, ",")
	}
	if c.fullSnapshot && c.scope == "braze:users" {
		return nil, errors.New("-full-snapshot needs its own -scope: users absent from this export are removed from what the scope tracks")
	}
	if c.checkpoint == "" {
		c.checkpoint = filepath.Join(c.statePath, "processed-"+strings.NewReplacer(":", "_", "/", "_").Replace(c.scope)+".txt")
	}
	if !c.dryRun && c.instance == "" && c.endpoint == "" {
		return nil, errors.New("give -instance or -endpoint (or set BRAZE_INSTANCE or BRAZE_REST_ENDPOINT)")
	}
	if c.every < 0 || c.concurrency < 1 || c.batchSize < 1 || c.rate < 1 || c.rateWindow <= 0 {
		return nil, errors.New("-every, -concurrency, -batch-size, -rate and -rate-window must be positive")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "amperity-to-braze:", err)
		return exitFatal
	}
	return runConfig(ctx, c, stdout, stderr)
}

func runConfig(ctx context.Context, c *config, stdout, stderr io.Writer) int {
	level := slog.LevelInfo
	if c.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fatal := func(err error) int {
		log.Error("fatal", "err", err)
		return exitFatal
	}

	s, closeAll, err := setup(ctx, c, log, stdout, stderr)
	if err != nil {
		return fatal(err)
	}
	defer closeAll()

	for {
		code := s.runOnce(ctx)
		if c.every == 0 || ctx.Err() != nil {
			return code
		}
		log.Info("next sync", "in", c.every)
		select {
		case <-ctx.Done():
			log.Info("stopped")
			return code
		case <-time.After(c.every):
		}
	}
}

// setup opens everything a run needs; closeAll releases it.
func setup(ctx context.Context, c *config, log *slog.Logger, stdout, stderr io.Writer) (s *syncer, closeAll func(), err error) {
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	s = &syncer{cfg: c, log: log, stdout: stdout, progress: newProgress(stderr, log, c.logEvery)}

	if c.schemaPath != "" {
		f, err := os.Open(c.schemaPath)
		if err != nil {
			return nil, nil, err
		}
		schema, err := amperity.ParseSchema(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.schemaPath, err)
		}
		s.schema = &schema
	}
	if s.mapOpts, err = loadMapping(c.mappingPath); err != nil {
		return nil, nil, err
	}
	// ReuseRecords: the diff plan copies each record's Attrs slice, so the
	// mapper may reuse its memory.
	s.mapOpts = append(s.mapOpts, amperity.IdentifyBy(c.idField), amperity.ReuseRecords())
	if c.idColumn != "" {
		s.mapOpts = append(s.mapOpts, amperity.MapColumn(c.idColumn, c.idField))
	}

	if !c.dryRun {
		key := os.Getenv("BRAZE_API_KEY")
		if key == "" {
			return nil, nil, errors.New("BRAZE_API_KEY is not set (the key is read from the environment only)")
		}
		opts := []braze.Option{braze.WithLogger(log), braze.WithRateLimit(c.rate, c.rateWindow)}
		if c.endpoint != "" {
			opts = append(opts, braze.WithBaseURL(c.endpoint))
		} else {
			opts = append(opts, braze.WithInstance(c.instance))
		}
		if c.httpClient != nil {
			opts = append(opts, braze.WithHTTPClient(c.httpClient))
		}
		if s.client, err = braze.NewClient(key, opts...); err != nil {
			return nil, nil, err
		}
		s.sendOpts = []braze.SendOption{braze.WithConcurrency(c.concurrency), braze.WithBatchSize(c.batchSize)}
	}

	if s.engine, err = diff.Open(ctx, c.statePath, diff.WithLogger(log)); err != nil {
		return nil, nil, fmt.Errorf("state %s: %w", c.statePath, err)
	}
	closers = append(closers, func() { s.engine.Close() })

	if c.rejectsPath != "" {
		f, err := os.OpenFile(c.rejectsPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { f.Close() })
		s.rejects = newRejectsFile(f)
	}
	return s, cleanup, nil
}

// runOnce syncs the input once: one file, or every file of a folder not
// processed yet, oldest (first in key order) first.
func (s *syncer) runOnce(ctx context.Context) int {
	c := s.cfg
	loc, err := objstore.Open(ctx, c.input, objstore.S3Options{Endpoint: c.s3Endpoint, HTTPClient: c.httpClient})
	if err != nil {
		s.log.Error("fatal", "err", err)
		return exitFatal
	}
	var cp *currents.FileCheckpoint
	if loc.Folder && !c.dryRun {
		if cp, err = currents.OpenFileCheckpoint(c.checkpoint); err != nil {
			s.log.Error("fatal", "err", err)
			return exitFatal
		}
	}

	var results []*fileResult
	code := exitOK
	for obj, err := range loc.Objects(ctx) {
		if err != nil {
			s.log.Error("listing failed", "input", c.input, "err", err)
			code = exitFatal
			break
		}
		if loc.Folder && skipObject(obj.Key) {
			s.log.Debug("skipping", "key", obj.Key)
			continue
		}
		if cp != nil {
			if done, _ := cp.Done(ctx, obj.Key); done {
				continue
			}
		}
		name := loc.Name(obj.Key)
		s.log.Info("sync", "file", name, "scope", c.scope, "dry_run", c.dryRun)
		res, err := s.syncObject(ctx, loc, obj, name)
		if res != nil {
			results = append(results, res)
		}
		if err != nil {
			s.log.Error("file failed", "file", name, "err", err)
			code = exitFatal
			break // later exports must not be applied before this one
		}
		if res.Failed > 0 || res.Interrupted {
			code = exitFatal
			break // not checkpointed: the next run sends the rest
		}
		if res.BadRows > 0 || res.Rejected > 0 {
			code = max(code, exitRejected)
		}
		if cp != nil {
			err := cp.MarkDone(ctx, obj.Key)
			if err == nil {
				err = cp.Save()
			}
			if err != nil {
				s.log.Error("checkpoint", "file", c.checkpoint, "err", err)
				code = exitFatal
				break
			}
		}
	}
	if ctx.Err() != nil {
		code = exitFatal
	}
	s.printSummary(results, code)
	return code
}

func (s *syncer) syncObject(ctx context.Context, loc *objstore.Location, obj currents.Object, name string) (*fileResult, error) {
	rc, err := loc.Open(ctx, obj.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return s.syncFile(ctx, name, rc, obj.Size)
}

// skipObject reports objects of a folder that are not exports: folder
// markers and the _SUCCESS-style and hidden files of data pipelines.
func skipObject(key string) bool {
	base := path.Base(key)
	return strings.HasSuffix(key, "/") || strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".")
}

func (s *syncer) printSummary(results []*fileResult, code int) {
	w := s.stdout
	if len(results) == 0 {
		fmt.Fprintln(w, "Nothing to sync: no new export files.")
		return
	}
	var t fileResult
	for _, r := range results {
		sm := r.Summary
		fmt.Fprintf(w, "%s: %d rows, %d new, %d changed, %d removed, %d unchanged users; %d bad rows\n",
			r.Name, sm.Records, sm.New, sm.Changed, sm.Removed, sm.Unchanged, r.BadRows)
		if !s.cfg.dryRun {
			fmt.Fprintf(w, "  sent %d users (%d attributes); %d rejected, %d failed%s\n",
				r.Sent, r.Attributes, r.Rejected, r.Failed, map[bool]string{true: "; interrupted", false: ""}[r.Interrupted])
		}
		t.Sent += r.Sent
		t.Rejected += r.Rejected + r.BadRows
		t.Failed += r.Failed
	}
	status := map[int]string{exitOK: "all accepted", exitRejected: "some rows or objects rejected", exitFatal: "incomplete"}[code]
	if s.cfg.dryRun {
		status = "dry run, nothing sent"
	}
	fmt.Fprintf(w, "Total: %d files, %d users sent, %d rejected, %d failed: %s\n", len(results), t.Sent, t.Rejected, t.Failed, status)
	if t.Rejected > 0 && s.cfg.rejectsPath != "" {
		fmt.Fprintf(w, "Rejected rows and objects are listed in %s\n", s.cfg.rejectsPath)
	}
}
