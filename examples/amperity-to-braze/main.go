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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ampbraze/ampbraze"
	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/redislimit"
	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/examples/internal/input"
	"github.com/ampbraze/ampbraze/examples/internal/version"
	"github.com/ampbraze/ampbraze/objstore"
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

// errVersion is parseFlags' answer to -version.
var errVersion = errors.New("-version")

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
	allStrings, force, resetState, resendRejected     bool
	updateExistingOnly                                bool
	logFormat, summaryJSON                            string
	checkpointDefault                                 bool // -checkpoint not given
	redisURL                                          string
	part, parts                                       int // -partition i/n; parts 0: none
	maxRemoved, maxChanged                            *diff.Limit

	// httpClient, when set (tests), is used for Braze and S3.
	httpClient *http.Client
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("amperity-to-braze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: amperity-to-braze -input FILE|DIR/|s3://bucket/key|s3://bucket/prefix/ -schema FILE [flags]

Syncs Amperity exports (CSV, TSV, PSV, NDJSON, Parquet; .gz detected) to Braze
user profiles, sending only what changed since the last accepted sync.

Environment:
  BRAZE_API_KEY        the REST API key (users.track); read from here only, never a flag
  BRAZE_INSTANCE       default of -instance;  BRAZE_REST_ENDPOINT  default of -endpoint
  AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL_S3   S3 inputs

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.input, "input", "", "export `file`, s3://bucket/key, gs://bucket/key, an Azure blob URL, or a folder (directory, or such a URL ending in /) of exports")
	fs.StringVar(&c.format, "format", "", "csv, tsv, psv, ndjson or parquet (default: from the file extension; .gz is detected)")
	fs.StringVar(&c.delimiter, "delimiter", "", "field delimiter of delimited text, one ASCII `char`acter (\\t for tab)")
	fs.StringVar(&c.schemaPath, "schema", "", "schema `file` of column:type lines (required for delimited text and NDJSON, unless -all-strings; Parquet carries its own)")
	fs.BoolVar(&c.allStrings, "all-strings", false, "without -schema, send every column as a string (numbers and dates become text attributes in Braze)")
	fs.StringVar(&c.mappingPath, "mapping", "", "mapping overrides JSON `file` (columns, ignore, audiences, precedence, ...)")
	fs.StringVar(&c.idColumn, "id-column", "", "`column` holding the Braze identifier (default: a column named like the -id-field)")
	fs.StringVar(&c.idField, "id-field", "external_id", "Braze identifier of the users: external_id or braze_id")
	nulls := fs.String("null", "", "comma-separated texts meaning NULL in delimited text (default: an empty unquoted field)")
	fs.StringVar(&c.statePath, "state", "ampbraze-state", "`directory` of the delta state (what Braze accepted), or a postgres:// URL for a state in PostgreSQL (several workers, no local disk)")
	fs.StringVar(&c.redisURL, "redis", "", "redis:// `URL`: share the -rate budget with every process using the same API key through Redis")
	partition := fs.String("partition", "", "`i/n`: sync only the users of partition i of n (0 <= i < n), so n workers share one -scope on a postgres:// -state")
	fs.StringVar(&c.scope, "scope", "braze:users", "state `scope`: one per kind of export and Braze workspace")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "`file` listing the processed files of a folder input (default: <state>-processed-<scope>.txt, beside the state directory)")
	fs.BoolVar(&c.fullSnapshot, "full-snapshot", false, "each export lists every user: users absent from it have their attributes removed")
	maxRemoved := fs.String("max-removed", "", "most users one -full-snapshot sync may remove, as a count or a percentage of the users in the state, or none (default 10%, at least 10)")
	maxChanged := fs.String("max-changed", "", "most known users one sync may change or remove, a count or a percentage, or none (default for -full-snapshot 50%, at least 10; none otherwise)")
	fs.BoolVar(&c.force, "force", false, "lift -max-removed and -max-changed and allow an empty -full-snapshot export")
	fs.BoolVar(&c.resetState, "reset-state", false, "accept a state that lost data (see the error that names this flag): what it lost is sent again as new")
	fs.BoolVar(&c.resendRejected, "resend-rejected", false, "send again values Braze rejected before, although they have not changed")
	fs.BoolVar(&c.updateExistingOnly, "update-existing-only", false, "update only users Braze already holds, create none (_update_existing_only). Braze does not say which users it skipped, so each run sends every user of the export in full and records nothing in the state: a user created in Braze later gets its attributes at the next run. Needs a -scope of its own; not with -full-snapshot, -max-removed or -max-changed")
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
	fs.StringVar(&c.logFormat, "log-format", "text", "log lines as `text` or json")
	fs.StringVar(&c.summaryJSON, "summary-json", "", "write the run summary as JSON to `file` after each run (for schedulers)")
	showVersion := fs.Bool("version", false, "print the program's version and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *showVersion {
		return nil, errVersion
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
	var err error
	if c.maxRemoved, err = parseLimit("-max-removed", *maxRemoved); err != nil {
		return nil, err
	}
	if c.maxChanged, err = parseLimit("-max-changed", *maxChanged); err != nil {
		return nil, err
	}
	if err := checkUpdateExistingOnly(c, *maxRemoved, *maxChanged); err != nil {
		return nil, err
	}
	if c.fullSnapshot && c.scope == "braze:users" {
		return nil, errors.New("-full-snapshot needs its own -scope: users absent from this export are removed from what the scope tracks")
	}
	if *partition != "" {
		if _, err := fmt.Sscanf(*partition, "%d/%d", &c.part, &c.parts); err != nil || c.parts < 1 || c.part < 0 || c.part >= c.parts {
			return nil, fmt.Errorf("-partition %q: want i/n with 0 <= i < n, such as 0/4", *partition)
		}
	}
	if c.checkpoint == "" && !isStateURL(c.statePath) {
		c.checkpoint, c.checkpointDefault = defaultCheckpoint(c.statePath, c.scope, c.part, c.parts), true
	}
	if isStateURL(c.statePath) && c.resetState {
		return nil, errors.New("-reset-state applies to a state directory, not to a postgres:// -state")
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return nil, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
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
		if errors.Is(err, errVersion) {
			fmt.Fprintln(stdout, version.String("amperity-to-braze"))
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
	var h slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(h)
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
		where, err := endpointOption(c)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, where)
		if c.httpClient != nil {
			opts = append(opts, braze.WithHTTPClient(c.httpClient))
		}
		if c.redisURL != "" {
			// Braze's budget is the workspace's: every process with the
			// same key shares one, named by a digest of the key (never the
			// key itself).
			lim, err := redislimit.Open(c.redisURL, redislimit.WithBurstLimit(c.rate, c.rateWindow),
				redislimit.WithKeyPrefix("ampbraze:"+keyDigest(key)), redislimit.WithLogger(log))
			if err != nil {
				return nil, nil, fmt.Errorf("-redis: %w", err)
			}
			closers = append(closers, func() { lim.Close() })
			opts = append(opts, braze.WithLimiter(lim))
		}
		if s.client, err = braze.NewClient(key, opts...); err != nil {
			return nil, nil, err
		}
		s.sendOpts = []braze.SendOption{braze.WithConcurrency(c.concurrency), braze.WithBatchSize(c.batchSize)}
	}

	if s.engine, err = openState(ctx, c, log); err != nil {
		return nil, nil, stateError(redactURL(c.statePath), err)
	}
	eng := s.engine // s is nil once setup returns an error
	closers = append(closers, func() { eng.Close() })
	if c.updateExistingOnly {
		if err := checkScopeForUpdateOnly(ctx, s.engine, c.scope); err != nil {
			return nil, nil, err
		}
		s.mapOpts = append(s.mapOpts, amperity.UpdateExistingOnly())
	}

	if c.rejectsPath != "" && !c.dryRun { // a dry run writes nothing but what it prints
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
	run := runInfo{ID: newRunID(), Started: time.Now()}
	s.rejects.setRun(run.ID)
	s.log.Info("run started", "run_id", run.ID, "input", input.Redact(c.input), "scope", c.scope, "dry_run", c.dryRun)
	loc, err := input.Open(ctx, c.input, input.Options{S3Endpoint: c.s3Endpoint, HTTPClient: c.httpClient})
	if err != nil {
		return s.fatal(err)
	}
	defer loc.Close()
	var cp *objstore.FileCheckpoint
	if loc.Folder && !c.dryRun {
		if cp, err = s.openCheckpoint(ctx); err != nil {
			return s.fatal(err)
		}
	}

	var results []*fileResult
	code := exitOK
	for obj, err := range loc.Objects(ctx) {
		if err != nil {
			if ctx.Err() == nil {
				s.fatal(fmt.Errorf("listing %s: %w", c.input, err))
			}
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
			// Not checkpointed: later exports must not be applied before
			// this one, and the next run starts with it again.
			if ctx.Err() == nil {
				s.fatal(explain(name, err))
			}
			code = exitFatal
			break
		}
		if res.Report.Failed > 0 || res.Interrupted {
			code = exitFatal
			break // not checkpointed: the next run sends the rest
		}
		if res.Report.BadRecords > 0 || res.Report.Rejected > 0 {
			code = max(code, exitRejected)
		}
		if cp != nil {
			err := cp.MarkDone(ctx, obj.Key)
			if err == nil {
				err = cp.Save()
			}
			if err != nil {
				s.fatal(fmt.Errorf("checkpoint %s: %w", c.checkpoint, err))
				code = exitFatal
				break
			}
		}
	}
	if ctx.Err() != nil {
		code = exitFatal
	}
	s.printSummary(results, code, ctx.Err() != nil)
	sum := s.summarize(run, results, code, ctx.Err() != nil)
	s.log.Info("run finished", "run_id", sum.RunID, "status", sum.Status, "exit", sum.Exit, "files", len(sum.Files),
		"duration", time.Duration(sum.DurationSeconds*float64(time.Second)).Round(time.Millisecond), "rows", sum.Total.Rows,
		"sent", sum.Total.Sent, "rejected", sum.Total.Rejected, "failed", sum.Total.Failed, "data_points", sum.Total.DataPoints)
	if c.summaryJSON != "" {
		if err := writeSummaryJSON(c.summaryJSON, sum); err != nil {
			s.log.Error("fatal", "err", fmt.Errorf("-summary-json: %w", err))
			code = exitFatal
		}
	}
	return code
}

// fatal logs err as the one line that ends the run.
func (s *syncer) fatal(err error) int {
	s.log.Error("fatal", "err", err)
	return exitFatal
}

// openCheckpoint opens the list of processed exports. A list that cannot
// be read, or that holds a line no save writes or a torn one, is an error
// naming the line: an export read again after later ones would be applied
// over them. A missing or empty list while the state holds users is said
// out loud, since that is what happens next.
func (s *syncer) openCheckpoint(ctx context.Context) (*objstore.FileCheckpoint, error) {
	path := s.cfg.checkpoint
	if path == "" {
		return nil, errors.New("a folder input with a postgres:// -state needs -checkpoint FILE (the list of processed exports; one per -partition)")
	}
	if err := s.moveOldCheckpoint(); err != nil {
		return nil, err
	}
	cp, err := objstore.OpenFileCheckpoint(path, objstore.RefuseTornLines())
	var ce *objstore.CheckpointError
	switch {
	case errors.As(err, &ce) && ce.Line > 0:
		return nil, fmt.Errorf("checkpoint %s is damaged at line %d (%v): fix it, or delete it to sync every export of the folder again", path, ce.Line, ce.Err)
	case err != nil:
		return nil, fmt.Errorf("checkpoint %s cannot be read: %w", path, err)
	}
	if cp.Len() == 0 {
		if n, err := s.engine.ScopeKeys(ctx, s.cfg.scope); err == nil && n > 0 {
			s.log.Warn("no checkpoint of processed exports: every export in the folder is synced again, oldest first (the state makes that correct, but it resends what changed between them); if the checkpoint was deleted by mistake, stop and restore it",
				"checkpoint", path, "scope", s.cfg.scope, "users_in_state", n)
		}
	}
	return cp, nil
}

// explain turns the error that ended a file into one line in the
// program's terms: flags, not Go options.
func explain(file string, err error) error {
	var le *diff.LimitError
	switch {
	case errors.Is(err, braze.ErrUnauthorized):
		return fmt.Errorf("%s: Braze refused the API key (HTTP 401): check BRAZE_API_KEY and that -instance (or -endpoint) is the key's cluster; nothing more was sent", file)
	case errors.Is(err, braze.ErrForbidden):
		return fmt.Errorf("%s: Braze refused the API key (HTTP 403): it needs the users.track permission (and the IP allowlist, if set); nothing more was sent", file)
	case errors.Is(err, braze.ErrCircuitOpen):
		return fmt.Errorf("%s: Braze is not answering, the sync stopped: %v; what was not accepted is sent by the next run", file, err)
	case errors.As(err, &le):
		flag, verb := "-max-changed", "change or remove"
		if le.What == "removals" {
			flag, verb = "-max-removed", "remove"
		}
		if !le.Final {
			verb += " at least" // it stopped counting there
		}
		return fmt.Errorf("%s: nothing was sent: the sync would %s %d of the %d users in the state (%.1f%%), over %s %s; check the export (a -dry-run shows the full count), then rerun with a higher %s (or -force) if it is right",
			file, verb, le.Count, le.Stored, 100*float64(le.Count)/float64(max(le.Stored, 1)), flag, le.Limit, flag)
	case errors.Is(err, diff.ErrEmptySnapshot):
		return fmt.Errorf("%s: nothing was sent: the -full-snapshot export has no rows, which would remove every user; rerun with -force if it is right", file)
	case errors.Is(err, diff.ErrInputEnded):
		return fmt.Errorf("%s: the export could not be read to its end, so the file is not marked processed and no removal was planned: %w", file, err)
	}
	return fmt.Errorf("%s: %w", file, err)
}

// stateError names what to do about a state that cannot be opened.
func stateError(dir string, err error) error {
	switch {
	case errors.Is(err, diff.ErrStateLost):
		return fmt.Errorf("state %s: %w; if the loss is accepted, rerun with -reset-state (what was lost is sent again as new)", dir, err)
	case errors.Is(err, diff.ErrScopeLocked):
		return fmt.Errorf("state %s: another amperity-to-braze is using it: %w", dir, err)
	}
	return fmt.Errorf("state %s: %w", dir, err)
}

func isLimit(err error) bool {
	return errors.Is(err, diff.ErrLimitExceeded) || errors.Is(err, diff.ErrEmptySnapshot)
}

func (s *syncer) syncObject(ctx context.Context, loc *input.Location, obj objstore.Object, name string) (*fileResult, error) {
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

func (s *syncer) printSummary(results []*fileResult, code int, interrupted bool) {
	w := s.stdout
	if len(results) == 0 {
		if !interrupted && code == exitOK {
			fmt.Fprintln(w, "Nothing to sync: no new export files.")
		}
		return
	}
	var t ampbraze.Report
	for _, r := range results {
		sm, rp := r.Summary, r.Report
		fmt.Fprintf(w, "%s: %d rows, %d new, %d changed, %d removed, %d unchanged users; %d bad rows (%d duplicate ids)",
			r.Name, sm.Records, sm.New, sm.Changed, sm.Removed, sm.Unchanged, rp.BadRecords, sm.Duplicates)
		if sm.StillRejected > 0 {
			fmt.Fprintf(w, "; %d still rejected (not sent again)", sm.StillRejected)
		}
		fmt.Fprintln(w)
		if sm.RemovalsSkipped != nil {
			fmt.Fprintf(w, "  no removals planned: %v\n", sm.RemovalsSkipped)
		}
		if s.cfg.dryRun {
			fmt.Fprintf(w, "  would send %d users, %d attributes, about %d data points; %d would be rejected\n", rp.Changes-rp.Rejected, rp.Attributes, rp.DataPoints, rp.Rejected)
			if s.cfg.fullSnapshot || sm.MaxChanges >= 0 {
				fmt.Fprintf(w, "  limits: %d of %d users removed (-max-removed: %s), %d changed or removed (-max-changed: %s)\n",
					sm.Removed, sm.Stored, limitText(sm.MaxRemovals), sm.Changed+sm.Removed, limitText(sm.MaxChanges))
			}
			if r.LimitErr != nil {
				fmt.Fprintf(w, "  the real run would send nothing: %v\n", explain(r.Name, r.LimitErr))
			}
		} else {
			fmt.Fprintf(w, "  sent %d users (%d attributes, about %d data points); %d rejected, %d failed%s\n",
				rp.Accepted, rp.Attributes, rp.DataPoints, rp.Rejected, rp.Failed, map[bool]string{true: "; interrupted", false: ""}[r.Interrupted])
		}
		t.Accepted += rp.Accepted
		t.Rejected += rp.Rejected + rp.BadRecords
		t.Failed += rp.Failed
		t.DataPoints += rp.DataPoints
	}
	status := map[int]string{exitOK: "all accepted", exitRejected: "some rows or objects rejected", exitFatal: "incomplete"}[code]
	if interrupted {
		status = "interrupted; what Braze accepted is recorded, the rest is sent by the next run"
	}
	if s.cfg.dryRun {
		status = "dry run, nothing sent"
	}
	fmt.Fprintf(w, "Total: %d files, %d users sent, %d rejected, %d failed, about %d data points: %s\n", len(results), t.Accepted, t.Rejected, t.Failed, t.DataPoints, status)
	if t.Rejected > 0 && s.cfg.rejectsPath != "" && !s.cfg.dryRun {
		fmt.Fprintf(w, "Rejected rows and objects are listed in %s\n", s.cfg.rejectsPath)
	}
}

func limitText(n int64) string {
	if n < 0 {
		return "none"
	}
	return strconv.FormatInt(n, 10)
}

// parseLimit reads a -max-removed or -max-changed value: "" (the default),
// "none", a count ("500") or a percentage ("10%").
func parseLimit(flag, v string) (*diff.Limit, error) {
	v = strings.TrimSpace(v)
	var l diff.Limit
	switch {
	case v == "":
		return nil, nil
	case v == "none":
		l = diff.NoLimit
	case strings.HasSuffix(v, "%"):
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || f < 0 || f > 100 {
			return nil, fmt.Errorf("%s %q: want a count, a percentage from 0%% to 100%%, or none", flag, v)
		}
		l = diff.MaxFraction(f / 100)
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s %q: want a count, a percentage from 0%% to 100%%, or none", flag, v)
		}
		l = diff.MaxCount(n)
	}
	return &l, nil
}
