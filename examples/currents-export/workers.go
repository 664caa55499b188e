package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/pgdedupe"
	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/pgclaim"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Several workers over one bucket (-workers-db) share the work through
// PostgreSQL: a claim table of the Currents objects (objstore/pgclaim) and
// the deduplicator's ids (currents/pgdedupe). Each worker lists the bucket
// in key order and claims each object it finds not done (SKIP LOCKED, with
// a lease its Claims renew); the others skip it.
//
// Exactly once, across a SIGKILL: a batch's output parts are written under
// <out>/.currents-staging/<batch>/, invisible to a loader. The batch
// commits in one transaction that marks its objects done, records the ids
// it wrote and records the batch's name; only then are its parts renamed
// into <out>/<event_type>/. A worker killed before that transaction left
// nothing visible and nothing done: when its leases run out, the others
// claim its objects and export them again. Killed after it, its batch is
// in the database and its staging folder is published by the next sweep
// (at every worker's start and end). An id another worker committed first
// is dropped before writing (one query per 1,024 events); if one slips in
// between, the transaction finds it and the batch is given up: its parts
// removed, its objects released to be exported again.

// stagingDir holds the output of the batches not yet published.
const stagingDir = ".currents-staging"

// workerFlags are the flags of several workers over one bucket.
type workerFlags struct {
	db, schema, table, id string
	lease                 time.Duration
}

func (w *workerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&w.db, "workers-db", "", "PostgreSQL `URL` shared by several workers over one bucket: objects are claimed and the deduplicator's ids kept there (instead of -checkpoint)")
	fs.StringVar(&w.id, "worker-id", "", "this worker's `name` among the workers: letters, digits, '.' and '-' (default: host name and process id)")
	fs.DurationVar(&w.lease, "worker-lease", time.Minute, "how long the objects of a worker that died wait before other workers take them")
	fs.StringVar(&w.schema, "workers-schema", "public", "PostgreSQL `schema` of the workers' tables")
	fs.StringVar(&w.table, "workers-table", "currents_export", "`prefix` of the workers' tables; every worker of one job (same -input and filters) uses the same")
}

// check validates the flags; checkpoint is -checkpoint as given.
func (w *workerFlags) check(checkpoint string) error {
	if w.db == "" {
		return nil
	}
	if checkpoint != "" {
		return errors.New("-checkpoint and -workers-db: the workers' checkpoint is in the database; give one")
	}
	if w.id == "" {
		w.id = strings.Map(func(r rune) rune {
			if validIDRune(r) {
				return r
			}
			return '-'
		}, pgclaim.DefaultOwner())
	}
	for _, r := range w.id {
		if !validIDRune(r) {
			return fmt.Errorf("-worker-id %q: use letters, digits, '.' and '-'", w.id)
		}
	}
	if w.lease < time.Second {
		return fmt.Errorf("-worker-lease %s: at least 1s", w.lease)
	}
	if w.table == "" || w.schema == "" {
		return errors.New("-workers-table and -workers-schema must not be empty")
	}
	return nil
}

// validIDRune reports a character allowed in a worker id: the id is part
// of file names, and "_" separates it from the rest of a batch's name.
func validIDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-'
}

// worker is one worker's run.
type worker struct {
	c      *config
	log    *slog.Logger
	pool   *pgxpool.Pool
	claims *pgclaim.Claims
	ids    *pgdedupe.IDs
	cp     *pgclaim.Checkpoint
	rep    *report
	// dedupe catches the repeats among this worker's events not yet
	// committed; the committed ones are in the database.
	dedupe *currents.Deduper
	runTag string // tells this run's batches from an earlier run's of the same worker id
	seq    int
	b      *workerBatch // the open batch, or nil

	mu      sync.Mutex
	corrupt map[string]bool // objects found corrupt: held until Close, not read again this run
	// revisit are the objects this worker could not claim (done by
	// another worker since, or held by one) or gave back: it waits for
	// them to be done, and exports those whose worker died.
	revisit []string
	commits int
	givenUp int
}

func newWorker(ctx context.Context, c *config, log *slog.Logger) (*worker, error) {
	pool, err := pgxpool.New(ctx, c.workers.db)
	if err != nil {
		return nil, fmt.Errorf("-workers-db: %w", err)
	}
	w := &worker{c: c, log: log, pool: pool, corrupt: map[string]bool{},
		dedupe: currents.NewDeduper(c.dedupeWindow),
		runTag: strconv.FormatInt(time.Now().UnixMilli(), 36)}
	w.claims, err = pgclaim.New(ctx, pool, pgclaim.WithSchema(c.workers.schema), pgclaim.WithTable(c.workers.table+"_objects"),
		pgclaim.WithOwner(c.workers.id), pgclaim.WithLease(c.workers.lease), pgclaim.WithLogger(log))
	if err == nil {
		w.ids, err = pgdedupe.New(ctx, pool, pgdedupe.WithSchema(c.workers.schema), pgdedupe.WithTable(c.workers.table+"_ids"),
			pgdedupe.WithWindow(c.dedupeWindow), pgdedupe.WithLogger(log))
	}
	if err == nil {
		w.cp, err = w.claims.Checkpoint(ctx)
	}
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// close releases the objects this worker still holds (a batch not
// committed, files decoded ahead, corrupt files) for the other workers or
// the next run.
func (w *worker) close() {
	if w.claims != nil {
		if err := w.claims.Close(); err != nil {
			w.log.Warn("releasing claims", "err", err)
		}
	}
	w.pool.Close()
}

// exportWorkers is export for one of several workers (-workers-db).
func exportWorkers(ctx context.Context, c *config, store objstore.Store, prefix string, log *slog.Logger, progress *progress) (*report, error) {
	w, err := newWorker(ctx, c, log)
	if err != nil {
		return nil, err
	}
	defer w.close()
	w.rep = &report{byType: map[string]int64{}}
	w.sweep(ctx)
	err = w.run(ctx, store, prefix, progress)
	progress.done()
	w.rep.commits = w.commits
	w.rep.interrupted = ctx.Err() != nil
	return w.rep, err
}

// run reads the bucket, then waits for the objects other workers hold and
// reads it again while some of them became claimable (their worker died,
// or gave a batch up).
func (w *worker) run(ctx context.Context, store objstore.Store, prefix string, progress *progress) error {
	for pass := 1; ; pass++ {
		if pass > 1 {
			w.log.Info("reading the input again for objects other workers left", "pass", pass)
			if err := w.cp.Load(ctx); err != nil {
				return err
			}
		}
		opts := append(sourceFilters(w.c), currents.WithCheckpoint(claimOnly{w}), currents.WithSourceLogger(w.log))
		err := w.pass(ctx, currents.NewSource(store, prefix, opts...), progress)
		var oerr *outputError
		if errors.As(err, &oerr) {
			w.abandon(context.WithoutCancel(ctx))
			return err
		}
		// Whatever ended the pass (its end, Ctrl-C, a listing failure),
		// the files exported completely are committed.
		if cerr := w.commit(context.WithoutCancel(ctx)); err != nil || cerr != nil || ctx.Err() != nil {
			return errors.Join(err, cerr)
		}
		w.mu.Lock()
		w.revisit = append(w.revisit, w.cp.Declined()...)
		w.mu.Unlock()
		more, err := w.waitForOthers(ctx)
		if err != nil || ctx.Err() != nil {
			return err
		}
		if !more {
			w.finish(ctx)
			return nil
		}
	}
}

// finish runs once every object this worker listed is done: it prunes
// the deduplicator's ids past the window and sweeps the staging folder.
// Ids are pruned only then, not at each commit: objects taken over from a
// worker that died are older than the ones read meanwhile, and their
// copies must still be found.
func (w *worker) finish(ctx context.Context) {
	if n, err := w.ids.Prune(ctx); err != nil {
		w.log.Warn("pruning the deduplicator's ids", "err", err)
	} else if n > 0 {
		w.log.Info("pruned the deduplicator's ids past the window", "ids", n)
	}
	w.sweep(ctx)
}

// waitForOthers waits until the objects this worker could not claim are
// done, and reports true as soon as some of them are claimable again.
func (w *worker) waitForOthers(ctx context.Context) (more bool, err error) {
	waiting := false
	for {
		w.mu.Lock()
		keys := w.revisit
		w.mu.Unlock()
		if len(keys) == 0 {
			return false, nil
		}
		st, err := w.claims.Status(ctx, keys...)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, err
		}
		// Keys done are forgotten, and so are this worker's own (the
		// corrupt files it holds until it ends).
		w.mu.Lock()
		w.revisit = append(append([]string(nil), st.Held...), st.Claimable...)
		w.mu.Unlock()
		if len(st.Claimable) > 0 {
			return true, nil
		}
		if len(st.Held) == 0 {
			return false, nil
		}
		if !waiting {
			w.log.Info("waiting for the objects other workers hold", "objects", len(st.Held), "first_lease_ends", st.NextExpiry.UTC().Format(time.RFC3339))
			waiting = true
		}
		wait := min(max(time.Until(st.NextExpiry)+100*time.Millisecond, 100*time.Millisecond), time.Second)
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(wait):
		}
	}
}

// claimOnly is the Source's checkpoint in a worker: a file is read when
// this worker claims it; the worker marks it done itself, at the commit of
// its batch.
type claimOnly struct{ w *worker }

// Done claims key unless it is done, held by another worker, or found
// corrupt earlier in this run.
func (c claimOnly) Done(ctx context.Context, key string) (bool, error) {
	c.w.mu.Lock()
	bad := c.w.corrupt[key]
	c.w.mu.Unlock()
	if bad {
		return true, nil
	}
	return c.w.cp.Done(ctx, key)
}

// MarkDone leaves the marking to the batch's commit.
func (claimOnly) MarkDone(context.Context, string) error { return nil }
