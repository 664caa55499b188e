package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze"
	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/pebblestore"
)

const scope = "braze:customer-attributes"

// killMode is how a run ends early.
type killMode uint8

const (
	// noKill: the run goes to the end and commits.
	noKill killMode = iota
	// killGraceful: the context is cancelled (a SIGTERM); the run drains
	// the results, acknowledges them and commits what was accepted.
	killGraceful
	// killCancelAbandon: the context is cancelled and the process dies at
	// once: no drain, no commit; the engine is closed with the plan open.
	killCancelAbandon
	// killStop: the consumer stops iterating (TrackAll cancels the requests
	// in flight and discards their results); no commit.
	killStop
)

func (k killMode) String() string {
	return [...]string{"none", "graceful", "cancel+abandon", "stop"}[k]
}

// report is one line of the rejects report: a row the sync could not
// deliver, with where it came from and why.
type report struct {
	Run    int    `json:"run"`
	Stage  string `json:"stage"` // "input" (row unreadable), "plan", "client" (Set/validation), "braze" (rejected)
	Row    int64  `json:"row,omitempty"`
	Key    string `json:"key,omitempty"`
	Reason string `json:"reason"`
}

// harness is one "machine": the fake Braze, a state directory that
// survives restarts, and what every run reported.
type harness struct {
	t        *testing.T
	seed     uint64
	apiKey   string
	fake     *fakeBraze
	client   *braze.Client
	logs     *logBuffer
	logger   *slog.Logger
	stateDir string
	reports  *os.File // NDJSON rejects report, appended by every run
	enc      *json.Encoder
	errTexts map[string]bool // every distinct error text seen, for the key check
	runs     int
	ledger   ledger
}

func newHarness(t *testing.T, seed uint64) *harness {
	h := &harness{
		t:        t,
		seed:     seed,
		apiKey:   fmt.Sprintf("e2e-secret-%016x", seed*0x9e3779b97f4a7c15+1),
		logs:     &logBuffer{},
		stateDir: t.TempDir(),
		errTexts: map[string]bool{},
		ledger:   ledger{},
	}
	h.logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.fake = newFakeBraze(t, seed, h.apiKey)
	c, err := braze.NewClient(h.apiKey,
		braze.WithBaseURL(h.fake.url),
		braze.WithLogger(h.logger),
		braze.WithRetryPolicy(braze.RetryPolicy{
			MaxRetries: 3,
			MinBackoff: time.Millisecond,
			MaxBackoff: 20 * time.Millisecond,
			MaxWait:    200 * time.Millisecond,
		}))
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	f, err := os.Create(t.TempDir() + "/rejects.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	h.reports, h.enc = f, json.NewEncoder(f)
	return h
}

func (h *harness) report(r report) {
	r.Run = h.runs
	if err := h.enc.Encode(r); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) noteErr(err error) {
	if len(h.errTexts) < 10000 {
		h.errTexts[err.Error()] = true
		h.errTexts[fmt.Sprintf("%+v", err)] = true
		h.errTexts[fmt.Sprintf("%#v", err)] = true
	}
}

// readReports returns every line of the rejects report.
func (h *harness) readReports() []report {
	h.t.Helper()
	b, err := os.ReadFile(h.reports.Name())
	if err != nil {
		h.t.Fatal(err)
	}
	var out []report
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var r report
		if err := dec.Decode(&r); err != nil {
			h.t.Fatalf("rejects report: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// pipeline is one export going through the reader and the mapper.
type pipeline struct {
	schema    amperity.Schema
	mapper    *amperity.Mapper
	audiences []string
}

func newPipeline(s *snapshot) (*pipeline, error) {
	schema, err := s.schema()
	if err != nil {
		return nil, err
	}
	aud := s.audienceAttrs()
	m, err := amperity.NewMapper(schema, amperity.AudienceColumns(aud...))
	if err != nil {
		return nil, err
	}
	return &pipeline{schema: schema, mapper: m, audiences: aud}, nil
}

// rowIndex maps keys to their data row. The delta engine may read its
// input on a goroutine of its own, so the index is shared under a lock.
type rowIndex struct {
	mu   sync.Mutex
	rows map[string]int64
}

func (ri *rowIndex) set(key string, row int64) {
	ri.mu.Lock()
	ri.rows[key] = row
	ri.mu.Unlock()
}

func (ri *rowIndex) get(key string) int64 {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.rows[key]
}

// records reads the export at path. rowOf, when not nil, receives the row
// number of each record's key.
func (p *pipeline) records(ctx context.Context, path string, rowOf *rowIndex) (iter.Seq2[diff.Record, error], func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	rd, err := amperity.NewCSVReader(ctx, f, amperity.WithSchema(p.schema), amperity.WithSource("customers.csv"))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	// The mapper yields one item (a record or an error) per data row, in
	// row order, so the n-th item is row n (the rows may be read ahead of
	// the records).
	recs := func(yield func(diff.Record, error) bool) {
		var row int64
		for rec, err := range p.mapper.Records(rd.Rows(ctx)) {
			row++
			if err == nil && rowOf != nil {
				rowOf.set(rec.Key, row)
			}
			if !yield(rec, err) {
				return
			}
		}
	}
	return recs, f.Close, nil
}

func (p *pipeline) planOptions(extra ...diff.PlanOption) []diff.PlanOption {
	return append([]diff.PlanOption{diff.WithMode(diff.FullSnapshot), diff.WithRemoveAs(false, p.audiences...)}, extra...)
}

// runPlan is what one run did.
type runPlan struct {
	kill      killMode
	killAfter int // results consumed before the kill
	ackBatch  int
}

type runStats struct {
	emitted, accepted, rejected, failed, planErrors int
	killed                                          bool
	commitErr                                       error
	results                                         int // outcomes of changes
}

// sync is one process lifetime: open the state store, plan the export,
// send with TrackAll, acknowledge, and commit (or die as rp says).
func (h *harness) sync(p *pipeline, path string, rp runPlan) runStats {
	t := h.t
	t.Helper()
	h.runs++
	ctx := context.Background()
	st := runStats{}

	eng, err := pebblestore.OpenEngine(ctx, h.stateDir,
		[]pebblestore.Option{pebblestore.WithLogger(h.logger), pebblestore.WithCacheSize(8 << 20)},
		diff.WithAckBatch(rp.ackBatch), diff.WithLogger(h.logger))
	if err != nil {
		t.Fatalf("run %d: reopening the state store: %v", h.runs, err)
	}
	engClosed := false
	defer func() {
		if !engClosed {
			eng.Close()
		}
	}()
	rowOf := &rowIndex{rows: map[string]int64{}}
	recs, closeFile, err := p.records(ctx, path, rowOf)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFile()
	plan, err := eng.Plan(ctx, scope, recs, p.planOptions()...)
	if err != nil {
		t.Fatalf("run %d: plan: %v", h.runs, err)
	}

	// The composition is ampbraze.Sync, as in the programs. A kill that
	// is not graceful is a panic out of the outcome callback: it unwinds
	// Sync and TrackAll (which abandon their requests) with nothing
	// acknowledged or committed after it, as a process death would.
	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	onOutcome := func(o ampbraze.Outcome) {
		if o.Kind == ampbraze.OutcomeBadRecord {
			st.planErrors++
			h.noteErr(o.Err)
			var ie *amperity.InputError
			if errors.As(o.Err, &ie) {
				h.report(report{Stage: "input", Row: ie.Row, Reason: o.Err.Error()})
			} else {
				h.report(report{Stage: "plan", Reason: o.Err.Error()})
			}
			return
		}
		ch := o.Change
		switch o.Kind {
		case ampbraze.OutcomeAccepted:
			st.accepted++
			h.ledger.accept(ch)
		case ampbraze.OutcomeRejected:
			st.rejected++
			h.noteErr(o.Err)
			stage := "braze"
			var ve *braze.ValidationError
			if errors.As(o.Err, &ve) {
				stage = "client"
			}
			h.report(report{Stage: stage, Row: rowOf.get(ch.Key), Key: ch.Key, Reason: o.Err.Error()})
		case ampbraze.OutcomeFailed:
			h.noteErr(o.Err)
			st.failed++
		}
		n++
		if rp.kill != noKill && n == rp.killAfter && !st.killed {
			st.killed = true
			if rp.kill == killGraceful {
				cancel() // drain: every pulled update still gets its result
				return
			}
			if rp.kill == killCancelAbandon {
				cancel()
			}
			panic(processDeath{})
		}
	}
	rep, err := func() (rep ampbraze.Report, err error) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(processDeath); !ok {
					panic(r)
				}
				err = errDied
			}
		}()
		return ampbraze.Sync(sendCtx, h.client, plan, ampbraze.WithOutcomes(onOutcome), ampbraze.WithSendOptions(braze.WithConcurrency(8)))
	}()
	st.emitted, st.results = int(rep.Changes), n
	if errors.Is(err, errDied) {
		// The process dies: the plan is never committed or closed.
		engClosed = true
		if err := eng.Close(); err != nil {
			t.Errorf("run %d: closing the engine with a plan open: %v", h.runs, err)
		}
		return st
	}
	// Every change has exactly one outcome.
	if int64(n) != rep.Accepted+rep.Rejected+rep.Failed || rep.Accepted+rep.Rejected+rep.Failed != rep.Changes {
		t.Errorf("run %d: %d outcomes for %d changes (report %+v)", h.runs, n, rep.Changes, rep)
	}
	if err != nil && !(st.killed && errors.Is(err, context.Canceled)) {
		st.commitErr = err
		h.noteErr(err)
	}
	return st
}

// processDeath is the panic that stands for a process killed mid-sync.
type processDeath struct{}

var errDied = errors.New("process died")

// dryRun plans records against the state without sending, and returns
// the changes by key (attribute names and values) and the plan's errors.
func (h *harness) dryRun(p *pipeline, recs iter.Seq2[diff.Record, error]) (map[string]diff.Change, []error) {
	t := h.t
	t.Helper()
	ctx := context.Background()
	eng, err := pebblestore.OpenEngine(ctx, h.stateDir, []pebblestore.Option{pebblestore.WithLogger(h.logger)}, diff.WithLogger(h.logger))
	if err != nil {
		t.Fatalf("dry run: opening the state store: %v", err)
	}
	defer eng.Close()
	plan, err := eng.Plan(ctx, scope, recs, p.planOptions(diff.WithDryRun())...)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	defer plan.Close()
	changes := map[string]diff.Change{}
	var errs []error
	for ch, err := range plan.Changes() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := changes[ch.Key]; dup {
			t.Errorf("dry run: key %s planned twice", ch.Key)
		}
		changes[ch.Key] = ch
	}
	return changes, errs
}

// ledger records, per key, the attribute values of every change Braze
// accepted during one day's runs: "no update lost" means every attribute
// the day had to send is in it with the value wanted.
type ledger map[string]map[string]any

func (l ledger) accept(ch diff.Change) {
	m := l[ch.Key]
	if m == nil {
		m = make(map[string]any, len(ch.Attrs))
		l[ch.Key] = m
	}
	for _, a := range ch.Attrs {
		m[a.Name] = a.Value.Any()
	}
}
