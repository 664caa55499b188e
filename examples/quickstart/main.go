// Command quickstart runs the whole ampbraze story on bundled synthetic
// data, with no flags, network or credentials: it maps an Amperity export
// to Braze fields, plans the delta against an embedded state store, sends
// it to an in-process fake Braze, syncs the next day's export (only the
// changes go out), and decodes synthetic Braze Currents files.
//
//	go run ./examples/quickstart
//
// With -live and BRAZE_API_KEY plus BRAZE_REST_ENDPOINT (or BRAZE_INSTANCE,
// such as "US-03") in the environment, the same run targets a real Braze
// workspace: it creates or updates the ten synthetic users C-1001..C-1010.
package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze"
	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/pebblestore"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
	"github.com/ampbraze/ampbraze/examples/internal/version"
	"github.com/ampbraze/ampbraze/objstore"
)

//go:embed data/schema.txt data/day1.csv data/day2.csv
var data embed.FS

// scope names the synced data set in the state store: one scope per
// destination and export.
const scope = "braze:quickstart-customers"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	live := fs.Bool("live", false, "send to the real Braze workspace named by BRAZE_API_KEY and BRAZE_REST_ENDPOINT or BRAZE_INSTANCE")
	showVersion := fs.Bool("version", false, "print the program's version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // -h, like the other programs
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.String("quickstart"))
		return 0
	}
	if err := quickstart(ctx, *live, stdout); err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	return 0
}

func quickstart(ctx context.Context, live bool, out io.Writer) error {
	// 1. Braze: the in-process fake, or the real thing with -live.
	var (
		client *braze.Client
		fake   *brazetest.Server
		err    error
	)
	if live {
		client, err = liveClient()
	} else {
		fake = brazetest.Start()
		defer fake.Close()
		client, err = fake.NewClient()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Braze: %s\n\n", describe(client, fake))

	// 2. The mapper: which column becomes which Braze field, decided (and
	// checked) before any row is read.
	schemaFile, err := data.Open("data/schema.txt")
	if err != nil {
		return err
	}
	defer schemaFile.Close()
	schema, err := amperity.ParseSchema(schemaFile)
	if err != nil {
		return err
	}
	mapper, err := amperity.NewMapper(schema,
		amperity.MapColumn("customer_id", "external_id"),
		amperity.AudienceColumns("aud_high_value", "aud_winback"),
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Mapping plan:\n%s\n", indent(mapper.Explain()))

	// 3. The delta engine's state: an embedded store in a temporary
	// directory (a real deployment keeps it between runs).
	dir, err := os.MkdirTemp("", "ampbraze-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	eng, err := pebblestore.OpenEngine(ctx, dir+"/state", nil)
	if err != nil {
		return err
	}
	defer eng.Close()

	// 4. Day 1 sends everyone; day 2 sends only what changed.
	for _, day := range []string{"day1.csv", "day2.csv"} {
		rep, err := syncFile(ctx, client, eng, mapper, day)
		if err != nil {
			return err
		}
		rep.print(out, day == "day2.csv")
	}
	if fake != nil {
		st := fake.Stats()
		u, _ := fake.User("C-1002")
		fmt.Fprintf(out, "Fake Braze: %d requests, %d attribute objects; C-1002 now has aud_high_value=%v\n\n",
			st.Requests, st.AttributesProcessed, u.Attributes["aud_high_value"])
	}

	// 5. Currents: decode synthetic event files laid out as Braze writes them.
	return countCurrents(ctx, out, dir+"/currents")
}

// formattingOnly names, for the two users whose day-2 rows differ from day 1
// only in formatting (310.250 for 310.25, spaces around an email), the
// attribute concerned, to show the delta engine's verdict on it.
var formattingOnly = map[string]string{"C-1003": "lifetime_value", "C-1005": "email"}

// report is what one sync did.
type report struct {
	file       string
	summary    diff.Summary
	sent       []diff.Change // accepted by Braze, in answer order
	attrs      int
	badRows    []error // rows the mapper or the plan could not use
	rejections []string
	explained  []string // verdicts on formattingOnly attributes
}

// syncFile is the core loop: read, map, plan, send, acknowledge, commit.
func syncFile(ctx context.Context, client *braze.Client, eng *diff.Engine, mapper *amperity.Mapper, name string) (*report, error) {
	f, err := data.Open("data/" + name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	reader, err := amperity.NewCSVReader(ctx, f, amperity.WithSchema(mapper.Schema()), amperity.WithSource(name))
	if err != nil {
		return nil, err
	}
	plan, err := eng.Plan(ctx, scope, mapper.Records(reader.Rows(ctx)),
		diff.WithRemoveAs(false, mapper.AudienceAttributes()...),
		diff.WithExplain(slices.Collect(maps.Keys(formattingOnly))...))
	if err != nil {
		return nil, err
	}
	defer plan.Close()

	// ampbraze.Sync sends each change, acknowledges every answer on the
	// plan and commits: only what Braze accepted reaches the state.
	rep := &report{file: name}
	_, err = ampbraze.Sync(ctx, client, plan, ampbraze.WithIDField(mapper.IDField()),
		ampbraze.WithOutcomes(func(o ampbraze.Outcome) {
			switch o.Kind {
			case ampbraze.OutcomeAccepted:
				rep.sent = append(rep.sent, o.Change)
				rep.attrs += len(o.Change.Attrs)
			case ampbraze.OutcomeBadRecord:
				rep.badRows = append(rep.badRows, o.Err) // a row that did not map: reported, not sent
			default:
				rep.rejections = append(rep.rejections, fmt.Sprintf("%s: %v", o.Change.Key, o.Err))
			}
		}))
	if err != nil {
		return nil, err // what was not accepted is planned again next run
	}
	rep.summary = plan.Summary()
	for _, key := range slices.Sorted(maps.Keys(formattingOnly)) {
		if ex, ok := plan.Explain(key); ok {
			for _, a := range ex.Attrs {
				if a.Name == formattingOnly[key] {
					rep.explained = append(rep.explained, fmt.Sprintf("%s  %s=%s %s (%s)", key, a.Name, jsonText(a.Value), strings.ToLower(a.Delta.String()), a.Reason))
				}
			}
		}
	}
	return rep, nil
}

func (r *report) print(out io.Writer, details bool) {
	s := r.summary
	fmt.Fprintf(out, "Sync %s: %d rows -> %d new, %d changed, %d unchanged, %d skipped\n",
		r.file, s.Records, s.New, s.Changed, s.Unchanged, len(r.badRows))
	fmt.Fprintf(out, "  sent %d users, %d attributes set, %d objects rejected\n", len(r.sent), r.attrs, len(r.rejections))
	if details {
		fmt.Fprintln(out, "  sent to Braze:")
		slices.SortFunc(r.sent, func(a, b diff.Change) int { return strings.Compare(a.Key, b.Key) })
		for _, ch := range r.sent {
			if ch.Delta == diff.DeltaNew {
				fmt.Fprintf(out, "    %s  new user, %d attributes\n", ch.Key, len(ch.Attrs))
				continue
			}
			var b strings.Builder
			for name, v := range ch.All() {
				fmt.Fprintf(&b, " %s=%s", name, jsonText(v))
			}
			fmt.Fprintf(out, "    %s %s\n", ch.Key, b.String())
		}
		fmt.Fprintln(out, "  not sent, formatting only:")
		for _, e := range r.explained {
			fmt.Fprintf(out, "    %s\n", e)
		}
	}
	if len(r.badRows) > 0 {
		fmt.Fprintln(out, "  skipped rows:")
	}
	for _, err := range r.badRows {
		var ie *amperity.InputError
		if errors.As(err, &ie) {
			fmt.Fprintf(out, "    row %d (line %d), column %q, value %q: %v\n", ie.Row, ie.Line, ie.Column, ie.Value, ie.Err)
		} else {
			fmt.Fprintf(out, "    %v\n", err)
		}
	}
	if len(r.rejections) > 0 {
		fmt.Fprintln(out, "  rejected objects:")
	}
	for _, r := range r.rejections {
		fmt.Fprintf(out, "    %s\n", r)
	}
	fmt.Fprintln(out)
}

// countCurrents writes the synthetic Currents files to dir and reads them
// back the way a consumer of a bucket would: a Source over the store,
// deduplicating redelivered events by id.
func countCurrents(ctx context.Context, out io.Writer, dir string) error {
	if _, err := currentsdemo.WriteDir(dir, "currents"); err != nil {
		return err
	}
	src := currents.NewSource(objstore.NewFSStore(os.DirFS(dir)), "currents/")
	dedupe := currents.NewDeduper(24 * time.Hour)
	counts := map[string]int{}
	files := map[string]bool{}
	for ke, err := range src.All(ctx) {
		if err != nil {
			return err
		}
		files[ke.Key.Raw] = true
		if dedupe.SeenEvent(ke) {
			continue
		}
		counts[ke.Event.EventType()]++
	}
	fmt.Fprintf(out, "Currents: %d synthetic files decoded, duplicates dropped: %d\n", len(files), dedupe.Stats().Duplicates)
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(out, "  %-32s %d\n", t, counts[t])
	}
	return nil
}

// liveClient builds a client for the workspace named in the environment.
// The key is read from the environment only, never from a flag, so that it
// stays out of shell history and process listings.
func liveClient() (*braze.Client, error) {
	key := os.Getenv("BRAZE_API_KEY")
	if key == "" {
		return nil, errors.New("-live needs BRAZE_API_KEY")
	}
	switch endpoint, instance := os.Getenv("BRAZE_REST_ENDPOINT"), os.Getenv("BRAZE_INSTANCE"); {
	case endpoint != "":
		return braze.NewClient(key, braze.WithBaseURL(endpoint))
	case instance != "":
		return braze.NewClient(key, braze.WithInstance(instance))
	}
	return nil, errors.New("-live needs BRAZE_REST_ENDPOINT or BRAZE_INSTANCE")
}

func describe(c *braze.Client, fake *brazetest.Server) string {
	if fake != nil {
		return "in-process fake (brazetest); run with -live for a real workspace"
	}
	return c.String()
}

// jsonText renders a value as it travels to Braze.
func jsonText(v any) string {
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(j)
}

func indent(s string) string {
	var b bytes.Buffer
	for line := range strings.Lines(s) {
		b.WriteString("  " + line)
	}
	return b.String()
}
