package amperity

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestConcat(t *testing.T) {
	ctx := context.Background()
	schema := schemaOf(t, "external_id:String,n:Integer")
	open := func(name, text string) RowSource {
		r, err := NewCSVReader(ctx, strings.NewReader(text), WithSchema(schema), WithSource(name))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	_, err := Concat(open("part-1.csv", "external_id,n\nu1,1\n"), open("part-2.csv", "n,external_id\n2,u2\nx\n"))
	if err == nil {
		t.Fatal("parts with different column order were accepted")
	}
	src, err := Concat(open("part-1.csv", "external_id,n\nu1,1\n"), open("part-2.csv", "external_id,n\nu2,2\nu3\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for row, err := range src.Rows(ctx) {
		if err != nil {
			got = append(got, err.Error())
			continue
		}
		got = append(got, row.Source+":"+row.Cells[0].Text)
	}
	want := "part-1.csv:u1|part-2.csv:u2|part-2.csv: row 2 (line 3): wrong number of fields: 1 field, the header has 2"
	if strings.Join(got, "|") != want {
		t.Errorf("got %q", got)
	}
	if _, err := Concat(); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("empty Concat: %v", err)
	}
}
