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
// as mapping on the caller's goroutine, and bad rows never end the stream.
func TestRecordsParallelMatchesSequential(t *testing.T) {
	input := recordsInput(5*mapBatchLen + 17)
	want := renderRecords(t, input, MapWorkers(0))
	if len(want) != 5*mapBatchLen+17 {
		t.Fatalf("sequential: %d items, want one per row", len(want))
	}
	for _, opts := range [][]MapperOption{
		{MapWorkers(1)}, {MapWorkers(3)}, {}, {ReuseRecords()}, {MapWorkers(2), ReuseRecords()},
	} {
		got := renderRecords(t, input, opts...)
		if len(got) != len(want) {
			t.Fatalf("%d options: %d items, want %d", len(opts), len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%d options, item %d: %q, want %q", len(opts), i, got[i], want[i])
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
	m, err := NewMapper(r.Schema(), MapWorkers(2))
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

// TestRegression_Issue13_FatalLast: per-row errors never end the stream;
// a fatal reader error (an unterminated quote) comes last, with a zero
// Record, satisfies the Fatal() contract and errors.Is(err, ErrFatal), and
// nothing is read past it; per-row errors are not fatal. Both paths.
func TestRegression_Issue13_FatalLast(t *testing.T) {
	n := 3*mapBatchLen + 40
	input := recordsInput(n) + "u-last,1,\"open,true\nu-after,2,c,true\n"
	for _, workers := range []int{0, 2} {
		r, err := NewCSVReader(context.Background(), strings.NewReader(input), WithSchema(schemaOf(t, recordsSchema)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMapper(r.Schema(), MapWorkers(workers), AudienceColumns("vip"))
		if err != nil {
			t.Fatal(err)
		}
		items, rowErrs, fatals := 0, 0, 0
		var last error
		var lastRec diff.Record
		for rec, err := range m.Records(r.Rows(context.Background())) {
			items++
			last, lastRec = err, rec
			var f interface{ Fatal() bool }
			switch {
			case err == nil:
			case errors.As(err, &f) && f.Fatal():
				fatals++
			case errors.Is(err, ErrFatal):
				t.Fatalf("workers %d: errors.Is(ErrFatal) without Fatal(): %v", workers, err)
			default:
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("workers %d: per-row error %T %v is not an *InputError", workers, err, err)
				}
				rowErrs++
			}
		}
		if items != n+1 || fatals != 1 || rowErrs != n/97+n/331-n/(97*331) {
			t.Fatalf("workers %d: %d items, %d row errors, %d fatal; want %d items, %d row errors, 1 fatal",
				workers, items, rowErrs, fatals, n+1, n/97+n/331)
		}
		var fe *FatalError
		var ie *InputError
		if !errors.As(last, &fe) || !errors.Is(last, ErrFatal) || !errors.Is(last, ErrUnterminatedQuote) ||
			!errors.As(last, &ie) || ie.Row != int64(n+1) || lastRec.Key != "" || lastRec.Attrs != nil {
			t.Fatalf("workers %d: last item %+v %v, want the fatal unterminated quote of row %d", workers, lastRec, last, n+1)
		}
	}
}

// TestRegression_Issue13_RowErrorsGoOn: an *InputError from a row source
// is yielded in place and the rows after it are mapped; an error that is
// neither an *InputError nor fatal (a custom source's own failure) is made
// fatal and ends the stream, since nothing says the rows after it come.
func TestRegression_Issue13_RowErrorsGoOn(t *testing.T) {
	s := schemaOf(t, "external_id:String")
	boom := errors.New("boom")
	rowsWith := func(bad error, at int) iter.Seq2[Row, error] {
		cells := make([]Cell, 1) // reused for every row, as readers do
		return func(yield func(Row, error) bool) {
			for i := range 3 * mapBatchLen {
				if i == at {
					if !yield(Row{}, bad) {
						return
					}
					continue
				}
				cells[0] = Cell{Text: fmt.Sprint("u", i)}
				if !yield(Row{Number: int64(i + 1), Cells: cells, Schema: s}, nil) {
					return
				}
			}
		}
	}
	for _, workers := range []int{0, 2} {
		m, err := NewMapper(s, MapWorkers(workers))
		if err != nil {
			t.Fatal(err)
		}
		at := mapBatchLen + 5
		i := 0
		for rec, err := range m.Records(rowsWith(&InputError{Row: int64(at + 1), Err: ErrInvalidUTF8}, at)) {
			switch {
			case i == at:
				if !errors.Is(err, ErrInvalidUTF8) || isFatal(err) {
					t.Fatalf("workers %d, item %d: %v, want the row's error, not fatal", workers, i, err)
				}
			case err != nil:
				t.Fatalf("workers %d, item %d: %v", workers, i, err)
			case rec.Key != fmt.Sprint("u", i):
				t.Fatalf("workers %d, item %d: key %q", workers, i, rec.Key)
			}
			i++
		}
		if i != 3*mapBatchLen {
			t.Fatalf("workers %d: %d items", workers, i)
		}

		i = 0
		var last error
		for _, err := range m.Records(rowsWith(boom, at)) {
			i++
			last = err
		}
		if i != at+1 || !errors.Is(last, boom) || !errors.Is(last, ErrFatal) || !isFatal(last) {
			t.Fatalf("workers %d: %d items, last %v; want %d items ending with boom, fatal", workers, i, last, at+1)
		}
	}
}

// Without ReuseRecords, records kept by the consumer stay intact while
// later batches are mapped, and appending to one does not touch another.
func TestRecordsParallelRecordsOutliveBatches(t *testing.T) {
	r, err := NewCSVReader(context.Background(), strings.NewReader(recordsInput(4*mapBatchLen)), WithSchema(schemaOf(t, recordsSchema)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema(), MapWorkers(2))
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
		kept[i].Attrs = append(kept[i].Attrs, diff.Attr{Name: "extra", Value: diff.IntValue(int64(i))})
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
		m, err := NewMapper(r.Schema(), MapWorkers(workers))
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
				if ch.Delta == diff.DeltaRemoved {
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
		// A good row after the bad one: the input did not end on an error.
		removed, errs := sync("external_id,n\nu1,1\nu2,oops\nu4,4\n")
		if !slices.Equal(removed, []string{"u3"}) || errs != 1 {
			t.Fatalf("workers %d: removed %q with %d errors, want u3 removed and u2's error", workers, removed, errs)
		}
	}
}
