package amperity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// TestRegression_Issue13_ColumnsByName: a schema file that lists the
// columns in another order than the file's header, with the setup the
// README shows (the mapper built from the schema file, the reader given
// the mapper's schema), puts every value in its own attribute, on both
// mapping paths, and so does a reader given no schema at all.
func TestRegression_Issue13_ColumnsByName(t *testing.T) {
	ctx := context.Background()
	// The schema file's order: last_name before first_name, n before id.
	schema := schemaOf(t, "last_name:String,first_name:String,n:Integer,external_id:String,city:String")
	const input = "external_id,first_name,last_name,city,n\n" +
		"u1,Ann,Smith,Paris,1\n" +
		"u2,Bob,Jones,,2\n"
	want := []string{
		"u1 [last_name=Smith first_name=Ann n=1 home_city=Paris]",
		"u2 [last_name=Jones first_name=Bob n=2 home_city=<nil>]",
	}
	for _, readerOpts := range [][]ReaderOption{{WithSchema(schema)}, nil} {
		for _, workers := range []int{0, 2} {
			m, err := NewMapper(schema, MapWorkers(workers))
			if err != nil {
				t.Fatal(err)
			}
			if readerOpts != nil {
				readerOpts = []ReaderOption{WithSchema(m.Schema())}
			}
			r, err := NewCSVReader(ctx, strings.NewReader(input), readerOpts...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rec, err := range m.Records(r.Rows(ctx)) {
				if err != nil {
					t.Fatalf("workers %d: %v", workers, err)
				}
				got = append(got, renderRecord(rec))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("reader schema %t, workers %d:\n%s\nwant\n%s", readerOpts != nil, workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
	// A row built by hand without a Schema is in the mapper's order.
	m, _ := NewMapper(schema)
	rec, err := m.Map(Row{Number: 1, Cells: []Cell{{Text: "Smith"}, {Text: "Ann"}, {Text: "1"}, {Text: "u1"}, {Text: "Paris"}}})
	if err != nil || renderRecord(rec) != want[0] {
		t.Errorf("row without a Schema: %s %v", renderRecord(rec), err)
	}
}

// TestRegression_Issue13_ColumnsByNameMismatch: rows whose columns are not
// exactly the mapper's (one more, or one missing) cannot be mapped at all:
// the first one yields a fatal error naming the file and the column, and
// the stream ends.
func TestRegression_Issue13_ColumnsByNameMismatch(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		header, msg string
	}{
		{"external_id,first_name,n,extra", `customers.csv: row 1 (line 2): header does not match the schema: the rows have a column "extra" that the mapper's schema does not list`},
		{"external_id,first_name", `customers.csv: row 1 (line 2): header does not match the schema: the mapper's column "n" is not among the rows' columns (external_id, first_name)`},
	}
	schema := schemaOf(t, "n:Integer,first_name:String,external_id:String")
	for _, tt := range tests {
		for _, workers := range []int{0, 2} {
			m, err := NewMapper(schema, MapWorkers(workers))
			if err != nil {
				t.Fatal(err)
			}
			cells := strings.Repeat("x,", strings.Count(tt.header, ",")) + "x\n"
			r, err := NewCSVReader(ctx, strings.NewReader(tt.header+"\n"+cells+cells), WithSource("customers.csv"))
			if err != nil {
				t.Fatal(err)
			}
			var items []error
			for rec, err := range m.Records(r.Rows(ctx)) {
				if rec.Key != "" || err == nil {
					t.Fatalf("%s: record %v, %v", tt.header, rec, err)
				}
				items = append(items, err)
			}
			if len(items) != 1 || !errors.Is(items[0], ErrFatal) || !errors.Is(items[0], ErrHeaderMismatch) ||
				!strings.HasPrefix(items[0].Error(), tt.msg) {
				t.Errorf("%s, workers %d: %v, want one fatal error %q", tt.header, workers, items, tt.msg)
			}
		}
	}
}

// renderRecord prints a record as "key [name=value ...]".
func renderRecord(rec diff.Record) string {
	parts := make([]string, len(rec.Attrs))
	for i, a := range rec.Attrs {
		parts[i] = fmt.Sprintf("%s=%v", a.Name, a.Value.Any())
	}
	return rec.Key + " [" + strings.Join(parts, " ") + "]"
}
