package amperity

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"testing"
	"testing/iotest"
)

// drain ranges over a stream of rows and checks the convention of
// FatalError: per-row errors are *InputErrors that are not fatal, and a
// fatal error is the last item. It returns the number of rows, of per-row
// errors, and the fatal error (nil when the stream ended cleanly).
func drain(t *testing.T, rows iter.Seq2[Row, error]) (n, rowErrs int, fatalErr error) {
	t.Helper()
	for row, err := range rows {
		if fatalErr != nil {
			t.Fatalf("an item after the fatal error %v: %v %v", fatalErr, row, err)
		}
		if err == nil {
			n++
			continue
		}
		if checkFatalContract(t, err) {
			fatalErr = err
			continue
		}
		rowErrs++
	}
	return n, rowErrs, fatalErr
}

// bigCSV is a CSV export larger than the readers' first buffer, so that a
// failure at its end happens while rows are read, not in the constructor.
func bigCSV(rows int) string {
	var b strings.Builder
	b.WriteString("external_id,n\n")
	for i := range rows {
		fmt.Fprintf(&b, "user-%07d,%d\n", i, i)
	}
	return b.String()
}

// TestRegression_Issue13_FatalReaderErrors: every error after which a
// reader cannot go on (unterminated quote, oversized record, gzip
// corruption, read failure, cancelled context) is fatal for the CSV and
// NDJSON readers and for Concat, comes last, and keeps its reason and place.
func TestRegression_Issue13_FatalReaderErrors(t *testing.T) {
	const rows = 20000
	text := bigCSV(rows)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	truncated := gz.Bytes()[:gz.Len()*9/10]

	var nd strings.Builder
	for i := range rows {
		fmt.Fprintf(&nd, "{\"external_id\":\"user-%07d\",\"n\":%d}\n", i, i)
	}
	ndjson := nd.String()

	cancelled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	diskErr := errors.New("disk on fire")
	csvReader := func(r io.Reader, opts ...ReaderOption) RowSource {
		cr, err := NewCSVReader(context.Background(), r, append(opts, WithSource("x.csv"))...)
		if err != nil {
			t.Fatal(err)
		}
		return cr
	}
	ndReader := func(r io.Reader, opts ...ReaderOption) RowSource {
		nr, err := NewNDJSONReader(context.Background(), r, append(opts, WithSource("x.ndjson"))...)
		if err != nil {
			t.Fatal(err)
		}
		return nr
	}
	tests := []struct {
		name string
		src  func() RowSource
		ctx  context.Context
		want error
	}{
		{"csv unterminated quote", func() RowSource { return csvReader(strings.NewReader(text + "u,\"1\nu2,2\n")) }, nil, ErrUnterminatedQuote},
		{"csv record too large", func() RowSource {
			return csvReader(strings.NewReader(text+"u,\""+strings.Repeat("x\n", 2000)), WithMaxRecordBytes(1000))
		}, nil, ErrRecordTooLarge},
		{"csv truncated gzip", func() RowSource { return csvReader(bytes.NewReader(truncated)) }, nil, ErrRead},
		{"csv read failure", func() RowSource {
			return csvReader(io.MultiReader(strings.NewReader(text), iotest.ErrReader(diskErr)))
		}, nil, ErrRead},
		{"csv cancelled", func() RowSource { return csvReader(strings.NewReader(text)) }, cancelled(), context.Canceled},
		{"ndjson line too large", func() RowSource {
			return ndReader(strings.NewReader(ndjson+`{"external_id":"`+strings.Repeat("x", 70000)+"\"}\n"), WithMaxRecordBytes(1000))
		}, nil, ErrRecordTooLarge},
		{"ndjson read failure", func() RowSource {
			return ndReader(io.MultiReader(strings.NewReader(ndjson), iotest.ErrReader(diskErr)))
		}, nil, ErrRead},
		{"ndjson cancelled", func() RowSource { return ndReader(strings.NewReader(ndjson)) }, cancelled(), context.Canceled},
		{"concat: first part fatal, second not read", func() RowSource {
			src, err := Concat(csvReader(strings.NewReader(text+"u,\"1\n")), csvReader(strings.NewReader(text)))
			if err != nil {
				t.Fatal(err)
			}
			return src
		}, nil, ErrUnterminatedQuote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, _, fatalErr := drain(t, tt.src().Rows(ctx))
			var ie *InputError
			if !errors.Is(fatalErr, tt.want) || !errors.Is(fatalErr, ErrFatal) || !errors.As(fatalErr, &ie) || ie.Source == "" {
				t.Fatalf("fatal error %v, want %v with its place", fatalErr, tt.want)
			}
		})
	}
	// A clean file ends with no error, and its per-row errors are not fatal.
	n, rowErrs, fatalErr := drain(t, csvReader(strings.NewReader(text+"u,1,2\n\xff,1\nu3,3\n")).Rows(context.Background()))
	if n != rows+1 || rowErrs != 2 || fatalErr != nil {
		t.Fatalf("%d rows, %d row errors, fatal %v", n, rowErrs, fatalErr)
	}
}

// failingSource is a RowSource of another kind than this module's readers,
// whose Rows fails with an error of its own after one row.
type failingSource struct {
	schema Schema
	err    error
}

func (f failingSource) Schema() Schema { return f.schema }

func (f failingSource) Rows(context.Context) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		if yield(Row{Number: 1, Cells: []Cell{{Text: "u1"}}, Schema: f.schema}, nil) {
			yield(Row{}, f.err)
		}
	}
}

// TestRegression_Issue13_ConcatCustomError: an error of a custom part that
// is not an *InputError is made fatal by Concat and ends the whole stream.
func TestRegression_Issue13_ConcatCustomError(t *testing.T) {
	s := schemaOf(t, "external_id:String")
	boom := errors.New("boom")
	src, err := Concat(failingSource{s, boom}, failingSource{s, nil})
	if err != nil {
		t.Fatal(err)
	}
	n, _, fatalErr := drain(t, src.Rows(context.Background()))
	if n != 1 || !errors.Is(fatalErr, boom) || !errors.Is(fatalErr, ErrFatal) {
		t.Fatalf("%d rows, fatal %v; want 1 row and boom, fatal", n, fatalErr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, fatalErr := drain(t, src.Rows(ctx)); !errors.Is(fatalErr, context.Canceled) {
		t.Fatalf("cancelled: %v", fatalErr)
	}
}

// TestFatalErrorForms: the three ways to recognise a fatal error agree,
// and the message is the wrapped error's.
func TestFatalErrorForms(t *testing.T) {
	inner := &InputError{Source: "a.csv", Row: 3, Err: ErrUnterminatedQuote}
	var err error = fmt.Errorf("reading: %w", &FatalError{Err: inner})
	var fe *FatalError
	var f interface{ Fatal() bool }
	if !errors.Is(err, ErrFatal) || !errors.As(err, &fe) || !errors.As(err, &f) || !f.Fatal() || !errors.Is(err, ErrUnterminatedQuote) {
		t.Fatalf("%v is not recognised as fatal", err)
	}
	if fe.Error() != inner.Error() {
		t.Errorf("message %q, want %q", fe.Error(), inner.Error())
	}
	if errors.Is(inner, ErrFatal) || errors.As(error(inner), &f) {
		t.Errorf("a per-row InputError looks fatal")
	}
}
