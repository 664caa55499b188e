package amperity

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func readAllNDJSON(t testing.TB, input string, opts ...ReaderOption) (*NDJSONReader, readResult, error) {
	t.Helper()
	r, err := NewNDJSONReader(context.Background(), strings.NewReader(input), opts...)
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

func TestNDJSONInferredColumns(t *testing.T) {
	input := `{"external_id":"u1","n":1.50,"ok":true,"tags":["a","b"],"x":null}` + "\n\n" +
		`{"n":2,"external_id":"u2","ok":false,"x":"NULL"}` + "\r\n"
	r, res, err := readAllNDJSON(t, input, WithNullTokens("", "NULL"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Schema().Names(), ","); got != "external_id,n,ok,tags,x" {
		t.Fatalf("columns = %s", got)
	}
	if len(res.errs) > 0 {
		t.Fatal(res.errs)
	}
	want := [][]string{{"u1", "1.50", "true", `["a","b"]`, "<NULL>"}, {"u2", "2", "false", "<NULL>", "<NULL>"}}
	for i, w := range want {
		if got := texts(res.rows[i]); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("row %d = %q, want %q", i+1, got, w)
		}
	}
	if !res.rows[0][3].JSON {
		t.Error("array cell not marked JSON")
	}
}

func TestNDJSONErrors(t *testing.T) {
	schema := mustSchema(t, "id:String\nn:Integer")
	input := `{"id":"a","n":1}` + "\n" + // row 1
		`[1,2]` + "\n" + // row 2
		`{"id":"b","zzz":1}` + "\n" + // row 3
		`{"id":"c","id":"d"}` + "\n" + // row 4
		`{"id":"e"` + "\n" + // row 5
		`{"id":"f"} {}` + "\n" + // row 6
		"{\"id\":\"\xff\"}\n" + // row 7
		`{"id":"g","n":2}` + "\n" // row 8
	_, res, err := readAllNDJSON(t, input, WithSchema(schema), WithSource("x.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.rows) != 2 || res.nums[1] != 8 {
		t.Fatalf("rows %v %v", res.rows, res.nums)
	}
	want := []struct {
		err  error
		text string
	}{
		{ErrNotObject, "x.ndjson: row 2 (line 2): not a JSON object: a line must hold one JSON object"},
		{ErrUnknownColumn, `x.ndjson: row 3 (line 3): unknown column: key "zzz" is not a column of the schema`},
		{ErrDuplicateColumn, `x.ndjson: row 4 (line 4): duplicate column name: key "id" appears twice`},
		{ErrNotObject, "x.ndjson: row 5 (line 5): not a JSON object: the object is not closed"},
		{ErrNotObject, "x.ndjson: row 6 (line 6): not a JSON object: text after the object"},
		{ErrInvalidUTF8, "x.ndjson: row 7 (line 7): invalid UTF-8"},
	}
	if len(res.errs) != len(want) {
		t.Fatalf("errors: %v", res.errs)
	}
	for i, w := range want {
		if !errors.Is(res.errs[i], w.err) || res.errs[i].Error() != w.text {
			t.Errorf("error %d = %q, want %q", i, res.errs[i], w.text)
		}
	}
}

func TestNDJSONRejectsDelimitedOptions(t *testing.T) {
	_, err := NewNDJSONReader(context.Background(), strings.NewReader("{}"), WithDelimiter('|'))
	if !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("err = %v", err)
	}
	_, err = NewNDJSONReader(context.Background(), strings.NewReader(""))
	if !errors.Is(err, ErrNoHeader) {
		t.Fatalf("err = %v", err)
	}
}
