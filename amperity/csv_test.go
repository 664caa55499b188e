package amperity

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type readResult struct {
	rows [][]Cell
	nums []int64
	errs []error
}

func readAllCSV(t testing.TB, input string, opts ...ReaderOption) (*CSVReader, readResult, error) {
	t.Helper()
	r, err := NewCSVReader(context.Background(), strings.NewReader(input), opts...)
	if err != nil {
		return nil, readResult{}, err
	}
	var res readResult
	for row, err := range r.Rows(context.Background()) {
		if err != nil {
			res.errs = append(res.errs, err)
			continue
		}
		res.rows = append(res.rows, append([]Cell(nil), row.Cells...))
		res.nums = append(res.nums, row.Number)
	}
	return r, res, nil
}

func texts(cells []Cell) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		if c.Null {
			out[i] = "<NULL>"
		} else {
			out[i] = c.Text
		}
	}
	return out
}

func TestCSVDialects(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  []ReaderOption
		want  [][]string
	}{
		{"csv", "a,b,c\n1,two,3\n", nil, [][]string{{"1", "two", "3"}}},
		{"crlf", "a,b\r\n1,2\r\n3,4\r\n", nil, [][]string{{"1", "2"}, {"3", "4"}}},
		{"no final newline", "a,b\n1,2", nil, [][]string{{"1", "2"}}},
		{"bom", "\xEF\xBB\xBFa,b\n1,2\n", nil, [][]string{{"1", "2"}}},
		{"quoted", "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", nil, [][]string{{"x,y", `say "hi"`}}},
		{"quoted newline", "a,b\n\"line1\r\nline2\",z\n", nil, [][]string{{"line1\nline2", "z"}}},
		{"null vs empty", "a,b\n,\"\"\n", nil, [][]string{{"<NULL>", ""}}},
		{"null tokens", "a,b,c\nNULL,\\N,\n", []ReaderOption{WithNullTokens("NULL", `\N`)}, [][]string{{"<NULL>", "<NULL>", ""}}},
		{"quoted nulls", "a,b\n\"\",\"x\"\n", []ReaderOption{WithQuotedNulls()}, [][]string{{"<NULL>", "x"}}},
		{"tsv", "a\tb\n1\t2,3\n", []ReaderOption{WithDelimiter('\t')}, [][]string{{"1", "2,3"}}},
		{"psv", "a|b\n1|2\n", []ReaderOption{WithDelimiter('|')}, [][]string{{"1", "2"}}},
		{"custom", "a;b\n1;2\n", []ReaderOption{WithDelimiter(';')}, [][]string{{"1", "2"}}},
		{"backslash escape", "a,b\n\"x\\\"y\",p\\,q\n", []ReaderOption{WithEscape('\\')}, [][]string{{`x"y`, "p,q"}}},
		{"no quoting", "a,b\nsay \"hi\",2\n", []ReaderOption{WithQuote(0)}, [][]string{{`say "hi"`, "2"}}},
		{"no header", "1,2\n", []ReaderOption{WithoutHeader(), WithSchema(mustSchema(t, "a:Integer\nb:Integer"))}, [][]string{{"1", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res, err := readAllCSV(t, tt.input, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.errs) > 0 {
				t.Fatalf("errors: %v", res.errs)
			}
			if len(res.rows) != len(tt.want) {
				t.Fatalf("got %d rows, want %d", len(res.rows), len(tt.want))
			}
			for i := range tt.want {
				if got := texts(res.rows[i]); strings.Join(got, "\x00") != strings.Join(tt.want[i], "\x00") {
					t.Errorf("row %d = %q, want %q", i+1, got, tt.want[i])
				}
			}
		})
	}
}

func mustSchema(t testing.TB, text string) Schema {
	t.Helper()
	s, err := ParseSchema(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCSVGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("a,b\n1,2\n"))
	zw.Close()
	r, err := NewCSVReader(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for row, err := range r.Rows(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(row.Cells); got[0] != "1" || got[1] != "2" {
			t.Fatalf("row = %q", got)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d rows", n)
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	schema := mustSchema(t, "external_id:String\ndob:Date")
	tests := []struct {
		name  string
		input string
		opts  []ReaderOption
		want  error
		msg   string
	}{
		{"empty file", "", nil, ErrNoHeader, "input is empty"},
		{"duplicate", "a,b,a\n", nil, ErrDuplicateColumn, `"a" is header column 1 and 3`},
		{"empty name", "a,,c\n", nil, ErrEmptyColumn, "header column 2"},
		{"differs", "external_id,birthdate\n", []ReaderOption{WithSchema(schema)}, ErrHeaderMismatch, `header column 2 "birthdate" is not in the schema`},
		{"missing", "external_id\n", []ReaderOption{WithSchema(schema)}, ErrHeaderMismatch, `schema column "dob" is missing`},
		{"data as header with schema", "u1,1980-01-02\n", []ReaderOption{WithSchema(schema)}, ErrNoHeader, "looks like data"},
		{"data as header", "u1,jo@example.com,42\n", nil, ErrNoHeader, "looks like data"},
		{"utf16", "\xFF\xFEa\x00", nil, ErrInvalidUTF8, "UTF-16"},
		{"unterminated in header", "a,\"b\n", nil, ErrUnterminatedQuote, "never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAllCSV(t, tt.input, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.msg)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("err is %T, want *InputError", err)
			}
		})
	}
}

func TestCSVRowErrors(t *testing.T) {
	input := "a,b\n" + // line 1
		"1,2\n" + // row 1, line 2
		"1,2,3\n" + // row 2: ragged
		"1\n" + // row 3: ragged
		"\"x\"y,2\n" + // row 4: text after quote
		"x\"y,2\n" + // row 5: bare quote
		"\xff,2\n" + // row 6: invalid UTF-8
		"\n" + // row 7: blank line
		"5,6\n" + // row 8
		"\"open,7\n" // row 9: unterminated (fatal)
	_, res, err := readAllCSV(t, input, WithSource("in.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.rows) != 2 || res.nums[0] != 1 || res.nums[1] != 8 {
		t.Fatalf("rows %v numbered %v, want rows 1 and 8", res.rows, res.nums)
	}
	want := []struct {
		err  error
		text string
	}{
		{ErrRaggedRow, "in.csv: row 2 (line 3): wrong number of fields: 3 fields, the header has 2"},
		{ErrRaggedRow, "in.csv: row 3 (line 4): wrong number of fields: 1 field, the header has 2"},
		{ErrBareQuote, "in.csv: row 4 (line 5): misplaced quote character: text after the closing quote of field 1"},
		{ErrBareQuote, "in.csv: row 5 (line 6): misplaced quote character: a quote inside unquoted field 1"},
		{ErrInvalidUTF8, "in.csv: row 6 (line 7): column \"a\": value \"\uFFFD\": invalid UTF-8"},
		{ErrRaggedRow, "in.csv: row 7 (line 8): wrong number of fields: blank line, the header has 2 fields"},
		{ErrUnterminatedQuote, "in.csv: row 9 (line 10): unterminated quoted field: the quote opened in field 1 on line 10 is never closed"},
	}
	if len(res.errs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(res.errs), res.errs, len(want))
	}
	for i, w := range want {
		if !errors.Is(res.errs[i], w.err) || res.errs[i].Error() != w.text {
			t.Errorf("error %d = %q, want %q (%v)", i, res.errs[i], w.text, w.err)
		}
	}
}

func TestCSVRecordTooLarge(t *testing.T) {
	input := "a\n\"" + strings.Repeat("x\n", 5000)
	_, res, err := readAllCSV(t, input, WithMaxRecordBytes(1000))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.errs) != 1 || !errors.Is(res.errs[0], ErrRecordTooLarge) {
		t.Fatalf("errs = %v", res.errs)
	}
}

func TestCSVOptionErrors(t *testing.T) {
	for _, opts := range [][]ReaderOption{
		{WithDelimiter('é')},
		{WithDelimiter('"')},
		{WithoutHeader()},
		{WithEscape('\n')},
		{WithMaxRecordBytes(0)},
	} {
		if _, err := NewCSVReader(context.Background(), strings.NewReader("a\n"), opts...); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("err = %v, want ErrInvalidOption", err)
		}
	}
}

func TestCSVCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := NewCSVReader(ctx, strings.NewReader("a\n1\n2\n"))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for _, err := range r.Rows(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		return
	}
	t.Fatal("no error after cancel")
}

// TestRegression_Issue13_CROnlyLineEndings: a file whose lines end in CR
// only (classic Mac OS) is read line by line, with or without a schema, as
// delimited text and as NDJSON; it used to be one header line and no rows.
func TestRegression_Issue13_CROnlyLineEndings(t *testing.T) {
	ctx := context.Background()
	const input = "external_id,first_name,n\r" + "u1,Ann,1\r" + "u2,\"Bob\rBobby\",2\r" + "u3,Cy,3"
	schema := schemaOf(t, "n:Integer,external_id:String,first_name:String")
	for _, opts := range [][]ReaderOption{nil, {WithSchema(schema)}} {
		_, res, err := readAllCSV(t, input, opts...)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(res.rows, res.nums, res.errs)
		if want := "[[{u1 false false} {Ann false false} {1 false false}] [{u2 false false} {Bob\nBobby false false} {2 false false}] [{u3 false false} {Cy false false} {3 false false}]] [1 2 3] []"; got != want {
			t.Errorf("schema %t: %s\nwant %s", opts != nil, got, want)
		}
	}
	// CR endings after a first buffer of them, and a CRLF among them.
	long := "a,b\r" + strings.Repeat("x,y\r", 30000) + "z,w\r\n" + "v,u\r"
	_, res, err := readAllCSV(t, long)
	if err != nil || len(res.rows) != 30002 || len(res.errs) != 0 || res.rows[30001][0].Text != "v" {
		t.Fatalf("long CR file: %d rows, errors %v, %v", len(res.rows), res.errs, err)
	}
	nr, err := NewNDJSONReader(ctx, strings.NewReader("{\"external_id\":\"u1\"}\r{\"external_id\":\"u2\"}\r"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range nr.Rows(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("NDJSON with CR endings: %d rows, want 2", n)
	}
}
