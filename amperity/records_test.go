package amperity

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// recordsInput is a CSV of n rows spanning several batches, with a bad
// value every 97th row and a ragged row every 331st.
func recordsInput(n int) string {
	var b strings.Builder
	b.WriteString("external_id,n,city,vip\n")
	for i := 1; i <= n; i++ {
		switch {
		case i%331 == 0:
			fmt.Fprintf(&b, "u%d,%d\n", i, i)
		case i%97 == 0:
			fmt.Fprintf(&b, "u%d,x%d,c%d,true\n", i, i, i)
		case i%11 == 0: // NULL city
			fmt.Fprintf(&b, "u%d,%d,,%t\n", i, i, i%3 == 0)
		case i%5 == 0: // quoted, with the delimiter inside
			fmt.Fprintf(&b, "u%d,%d,\"c, \"\"%d\"\"\",%t\n", i, i, i%7, i%3 == 0)
		default:
			fmt.Fprintf(&b, "u%d,%d,c%d,%t\n", i, i, i%7, i%3 == 0)
		}
	}
	return b.String()
}

const recordsSchema = "external_id:String,n:Integer,city:String,vip:Boolean"

// renderRecords maps input and renders every yielded item at the moment
// it is yielded (so reused memory cannot hide behind a later read).
func renderRecords(t *testing.T, input string, opts ...MapperOption) []string {
	t.Helper()
	r, err := NewCSVReader(context.Background(), strings.NewReader(input), WithSchema(schemaOf(t, recordsSchema)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema(), append(opts, AudienceColumns("vip"))...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rec, err := range m.Records(r.Rows(context.Background())) {
		if err != nil {
			out = append(out, fmt.Sprintf("error (key %q): %v", rec.Key, err))
			continue
		}
		out = append(out, fmt.Sprint(rec.Key, rec.Attrs))
	}
	return out
}

// Every worker count and ReuseRecords yield the same items, in row order,
// as mapping on the caller's goroutine.
func TestRecordsParallelMatchesSequential(t *testing.T) {
	input := recordsInput(5*mapBatchLen + 17)
	for _, mode := range []ErrorMode{SkipOnError, StopOnError} {
		want := renderRecords(t, input, OnError(mode), MapWorkers(0))
		if mode == SkipOnError && len(want) != 5*mapBatchLen+17 {
			t.Fatalf("sequential: %d items, want one per row", len(want))
		}
		if mode == StopOnError && (len(want) != 97 || !strings.HasPrefix(want[96], `error (key "u97"): row 97 `)) {
			t.Fatalf("sequential stop mode: %d items, last %q", len(want), want[len(want)-1])
		}
		for _, opts := range [][]MapperOption{
			{MapWorkers(1)}, {MapWorkers(3)}, {}, {ReuseRecords()}, {MapWorkers(2), ReuseRecords()},
		} {
			got := renderRecords(t, input, append(opts, OnError(mode))...)
			if len(got) != len(want) {
				t.Fatalf("mode %d, %d options: %d items, want %d", mode, len(opts), len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("mode %d, %d options, item %d: %q, want %q", mode, len(opts), i, got[i], want[i])
				}
			}
		}
	}
}

// countingRows wraps a row sequence, counting the rows it hands out and
// recording that it returned.
type countingRows struct {
	rows     iter.Seq2[Row, error]
	read     int
	returned bool
}

func (c *countingRows) seq(yield func(Row, error) bool) {
	defer func() { c.returned = true }()
	for row, err := range c.rows {
		c.read++
		if !yield(row, err) {
			return
		}
	}
}

func newCountingRows(t *testing.T, n int) (*countingRows, *Mapper) {
	t.Helper()
	r, err := NewCSVReader(context.Background(), strings.NewReader(recordsInput(n)), WithSchema(schemaOf(t, recordsSchema)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema(), OnError(SkipOnError), MapWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	return &countingRows{rows: r.Rows(context.Background())}, m
}

// Breaking out of the loop stops the reader and ends every goroutine
// before Records returns; the rows read ahead stay within a few batches.
func TestRecordsParallelBreakStopsReading(t *testing.T) {
	c, m := newCountingRows(t, 100*mapBatchLen)
	n := 0
	for range m.Records(c.seq) {
		if n++; n == 10 {
			break
		}
	}
	if !c.returned {
		t.Fatal("the row sequence was still running after Records returned")
	}
	if limit := 10 * mapBatchLen; c.read > limit {
		t.Fatalf("read %d rows for 10 records, want at most %d", c.read, limit)
	}
}

// A panic in the consumer's loop body still joins the goroutines.
func TestRecordsParallelConsumerPanic(t *testing.T) {
	c, m := newCountingRows(t, 20*mapBatchLen)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		for range m.Records(c.seq) {
			panic("consumer")
		}
	}()
	if !c.returned {
		t.Fatal("the row sequence was still running after the panic")
	}
}

// With StopOnError nothing is read past the first bad row.
func TestRecordsParallelStopReadsNoFurther(t *testing.T) {
	r, err := NewCSVReader(context.Background(), strings.NewReader(recordsInput(40*mapBatchLen)), WithSchema(schemaOf(t, recordsSchema)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema(), MapWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	c := &countingRows{rows: r.Rows(context.Background())}
	var last error
	n := 0
	for rec, err := range m.Records(c.seq) {
		n++
		if err != nil {
			last = err
			continue
		}
		if rec.Key == "" {
			t.Fatal("zero record yielded without an error")
		}
	}
	if n != 97 || !errors.Is(last, ErrInvalidValue) {
		t.Fatalf("%d items, last error %v; want 97 items ending with row 97's error", n, last)
	}
	// The mapping error of row 97 is found by a worker; the reader may
	// have read on, but only until the batches in flight fill up.
	if limit := 10 * mapBatchLen; c.read > limit {
		t.Fatalf("read %d rows, want at most %d", c.read, limit)
	}
}

// A reader error (here from a custom row sequence) is yielded in place,
// and in SkipOnError mode the rows after it are mapped.
func TestRecordsParallelReaderError(t *testing.T) {
	s := schemaOf(t, "external_id:String")
	m, err := NewMapper(s, OnError(SkipOnError), MapWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	cells := make([]Cell, 1) // reused for every row, as readers do
	rows := func(yield func(Row, error) bool) {
		for i := range 3 * mapBatchLen {
			if i == mapBatchLen+5 {
				if !yield(Row{}, boom) {
					return
				}
				continue
			}
			cells[0] = Cell{Text: fmt.Sprint("u", i)}
			if !yield(Row{Number: int64(i + 1), Cells: cells}, nil) {
				return
			}
		}
	}
	i := 0
	for rec, err := range m.Records(rows) {
		switch {
		case i == mapBatchLen+5:
			if !errors.Is(err, boom) {
				t.Fatalf("item %d: %v, want the reader's error", i, err)
			}
		case err != nil:
			t.Fatalf("item %d: %v", i, err)
		case rec.Key != fmt.Sprint("u", i):
			t.Fatalf("item %d: key %q", i, rec.Key)
		}
		i++
	}
	if i != 3*mapBatchLen {
		t.Fatalf("%d items", i)
	}
}

// Without ReuseRecords, records kept by the consumer stay intact while
// later batches are mapped, and appending to one does not touch another.
func TestRecordsParallelRecordsOutliveBatches(t *testing.T) {
	r, err := NewCSVReader(context.Background(), strings.NewReader(recordsInput(4*mapBatchLen)), WithSchema(schemaOf(t, recordsSchema)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema(), OnError(SkipOnError), MapWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	var kept []diff.Record
	var rendered []string
	for rec, err := range m.Records(r.Rows(context.Background())) {
		if err != nil {
			continue
		}
		kept = append(kept, rec)
		rendered = append(rendered, fmt.Sprint(rec.Key, rec.Attrs))
	}
	for i := range kept {
		kept[i].Attrs = append(kept[i].Attrs, diff.Attr{Name: "extra", Value: diff.Int(int64(i))})
	}
	for i, rec := range kept {
		if got := fmt.Sprint(rec.Key, rec.Attrs[:len(rec.Attrs)-1]); got != rendered[i] {
			t.Fatalf("record %d changed after later batches: %q, was %q", i, got, rendered[i])
		}
	}
}

// A row that fails after its identifier was read is yielded with a Record
// holding only the Key (and the Key in the *InputError), so a full
// snapshot still plans removals for the users who really left, and none
// for the user whose row was bad.
func TestRecordsBadRowKeepsKey(t *testing.T) {
	ctx := context.Background()
	const schema = "external_id:String,n:Integer"
	mapped := func(input string, workers int) iter.Seq2[diff.Record, error] {
		r, err := NewCSVReader(ctx, strings.NewReader(input), WithSchema(schemaOf(t, schema)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMapper(r.Schema(), OnError(SkipOnError), MapWorkers(workers))
		if err != nil {
			t.Fatal(err)
		}
		return m.Records(r.Rows(ctx))
	}
	for _, workers := range []int{0, 2} {
		var keys []string
		for rec, err := range mapped("external_id,n\nu1,1\nu2,oops\n,3\n", workers) {
			var ie *InputError
			if err != nil && (!errors.As(err, &ie) || ie.Key != rec.Key || rec.Attrs != nil) {
				t.Fatalf("workers %d: record %+v with error %v", workers, rec, err)
			}
			keys = append(keys, rec.Key)
		}
		if want := []string{"u1", "u2", ""}; !slices.Equal(keys, want) {
			t.Fatalf("workers %d: keys %q, want %q", workers, keys, want)
		}

		e, err := diff.NewEngine(ctx, diff.NewMemoryStore())
		if err != nil {
			t.Fatal(err)
		}
		sync := func(input string) (removed []string, errs int) {
			p, err := e.Plan(ctx, "s", mapped(input, workers), diff.WithMode(diff.FullSnapshot))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for ch, err := range p.Changes() {
				if err != nil {
					if errors.Is(err, diff.ErrIncompleteSnapshot) {
						t.Fatalf("workers %d: %v", workers, err)
					}
					errs++
					continue
				}
				if ch.Status == diff.Removed {
					removed = append(removed, ch.Key)
				}
				p.Ack(ch, nil)
			}
			if err := p.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			return removed, errs
		}
		sync("external_id,n\nu1,1\nu2,2\nu3,3\n")
		removed, errs := sync("external_id,n\nu1,1\nu2,oops\n")
		if !slices.Equal(removed, []string{"u3"}) || errs != 1 {
			t.Fatalf("workers %d: removed %q with %d errors, want u3 removed and u2's error", workers, removed, errs)
		}
	}
}
