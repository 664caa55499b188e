package amperity

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// formatRecord shows each value with its Go type, so the golden files pin
// the value model, not just the text.
func formatRecord(r diff.Record) string {
	var b strings.Builder
	b.WriteString(r.Key)
	for _, a := range r.Attrs {
		fmt.Fprintf(&b, "\n  %s = ", a.Name)
		switch v := a.Value.Any().(type) {
		case nil:
			b.WriteString("null")
		case time.Time:
			fmt.Fprintf(&b, "time.Time %s", v.Format(time.RFC3339Nano))
		case braze.Date:
			fmt.Fprintf(&b, "braze.Date %s", v)
		case json.Number:
			fmt.Fprintf(&b, "json.Number %s", v)
		default:
			fmt.Fprintf(&b, "%T %#v", v, v)
		}
	}
	return b.String()
}

func openFixture(t *testing.T) *CSVReader {
	t.Helper()
	sf, err := os.Open("testdata/customers.schema")
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	schema, err := ParseSchema(sf)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := NewCSVReader(context.Background(), f, WithSchema(schema), WithSource("customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMapperGolden(t *testing.T) {
	r := openFixture(t)
	m, err := NewMapper(r.Schema(), AudienceColumns("vip"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "customers.plan.golden", m.Explain())
	var out []string
	for rec, err := range m.Records(r.Rows(context.Background())) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, formatRecord(rec))
	}
	golden(t, "customers.records.golden", strings.Join(out, "\n")+"\n")
	if got := m.AudienceAttributes(); len(got) != 1 || got[0] != "vip" {
		t.Errorf("AudienceAttributes = %q", got)
	}
	if m.IDField() != "external_id" {
		t.Errorf("IDField = %q", m.IDField())
	}
}

func schemaOf(t *testing.T, spec string) Schema {
	t.Helper()
	return mustSchema(t, strings.ReplaceAll(spec, ",", "\n"))
}

func TestMapperConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		opts   []MapperOption
		want   error
		msg    string
	}{
		{"dob twice", "external_id:String,birthdate:Date,dob:Date", nil, ErrDuplicateTarget,
			`field "dob": two columns map to the same Braze attribute: columns "birthdate" (alias of the standard field dob) and "dob" (standard field); drop one with IgnoreColumns or order them with Precedence`},
		{"no identifier", "amperity_id:String,email:String", nil, ErrNoIdentifier, `MapColumn("amperity_id", "external_id")`},
		{"braze_id missing", "external_id:String", []MapperOption{IdentifyBy("braze_id")}, ErrNoIdentifier, "no column is named braze_id"},
		{"bad identifier option", "external_id:String", []MapperOption{IdentifyBy("email")}, ErrInvalidOption, "external_id or braze_id"},
		{"option names missing column", "external_id:String", []MapperOption{IgnoreColumns("nope")}, ErrNoSuchColumn, `column "nope"`},
		{"dollar name", "external_id:String,$price:Float", nil, ErrInvalidName, "'$' starts Braze operators"},
		{"object from integer", "external_id:String,current_location:Integer", nil, ErrUnsupportedField, "a Integer column cannot feed a location field"},
		{"audience from date", "external_id:String,vip:Date", []MapperOption{AudienceColumns("vip")}, ErrUnsupportedField, "audience column must be Boolean"},
		{"precedence incomplete", "external_id:String,birthdate:Date,dob:Date,birthday:Date", []MapperOption{Precedence("dob", "dob", "birthdate")}, ErrInvalidOption, "lists 2 of the 3 columns"},
		{"precedence wrong column", "external_id:String,birthdate:Date,city:String", []MapperOption{Precedence("dob", "city")}, ErrInvalidOption, "does not map to this field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMapper(schemaOf(t, tt.schema), tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err is %T", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.msg)
			}
		})
	}
}

func mapCSV(t *testing.T, schema, csv string, opts ...MapperOption) ([]diff.Record, []error, *Mapper) {
	t.Helper()
	r, err := NewCSVReader(context.Background(), strings.NewReader(csv), WithSchema(schemaOf(t, schema)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var recs []diff.Record
	var errs []error
	for rec, err := range m.Records(r.Rows(context.Background())) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errs, m
}

func attr(r diff.Record, name string) (any, bool) {
	for _, a := range r.Attrs {
		if a.Name == name {
			return a.Value.Any(), true
		}
	}
	return nil, false
}

func TestMapperPrecedenceCoalesces(t *testing.T) {
	recs, errs, _ := mapCSV(t, "external_id:String,birthdate:Date,dob:String",
		"external_id,birthdate,dob\nu1,,02/03/1990\nu2,1980-01-01,1970-01-01\nu3,,\n",
		Precedence("dob", "birthdate", "dob"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []any{braze.Date{Year: 1990, Month: 2, Day: 3}, braze.Date{Year: 1980, Month: 1, Day: 1}, nil}
	for i, w := range want {
		if got, _ := attr(recs[i], "dob"); got != w {
			t.Errorf("record %d dob = %v, want %v", i, got, w)
		}
	}
}

func TestMapperRowErrors(t *testing.T) {
	const schema = "external_id:String,n:Integer,d:Date"
	const input = "external_id,n,d\nu1,1,2020-01-01\nu2,x,2020-01-01\n,3,2020-01-01\nu4,4,2020-02-30\nu5,5,2020-01-05\nu6,1\n"
	recs, errs, _ := mapCSV(t, schema, input)
	if len(recs) != 2 || recs[1].Key != "u5" {
		t.Fatalf("records = %v", recs)
	}
	want := []struct {
		err  error
		text string
	}{
		{ErrInvalidValue, `row 2 (line 3): column "n": value "x": invalid value: not an Integer`},
		{ErrMissingIdentifier, `row 3 (line 4): column "external_id": value "": missing identifier: external_id is empty`},
		{ErrInvalidValue, `row 4 (line 5): column "d": value "2020-02-30": invalid value: no such calendar date`},
		{ErrRaggedRow, `row 6 (line 7): wrong number of fields: 2 fields, the header has 3`},
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %v", errs)
	}
	for i, w := range want {
		if !errors.Is(errs[i], w.err) || errs[i].Error() != w.text {
			t.Errorf("error %d = %q, want %q", i, errs[i], w.text)
		}
	}
}

func TestMapperConsentAndIgnored(t *testing.T) {
	const schema = "external_id:String,braze_id:String,email_subscribe:String,amperity_id:String,note:String"
	const input = "external_id,braze_id,email_subscribe,amperity_id,note\nu1,b1, Opted_In ,a1,hi\n"
	recs, _, m := mapCSV(t, schema, input, IgnoreColumns("note"))
	if got := formatRecord(recs[0]); got != "u1" {
		t.Errorf("default record = %s", got)
	}
	plan := m.Decisions()
	wantActions := []Action{ActionIdentifier, ActionIgnored, ActionConsentDisabled, ActionIgnored, ActionIgnored}
	for i, w := range wantActions {
		if plan[i].Action != w {
			t.Errorf("column %s: %s, want %s", plan[i].Column, plan[i].Action, w)
		}
	}
	recs, _, _ = mapCSV(t, schema, input, WithConsentFields(), MapColumn("amperity_id", "amperity_id"))
	want := "u1\n  email_subscribe = string \"opted_in\"\n  amperity_id = string \"a1\"\n  note = string \"hi\""
	if got := formatRecord(recs[0]); got != want {
		t.Errorf("record = %s\nwant %s", got, want)
	}
}

func TestMapperIdentifyByBrazeID(t *testing.T) {
	recs, errs, m := mapCSV(t, "braze_id:String,external_id:String,x:Integer", "braze_id,external_id,x\nb1,u1,7\n", IdentifyBy("braze_id"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if recs[0].Key != "b1" || m.IDField() != "braze_id" || len(recs[0].Attrs) != 1 {
		t.Errorf("record = %s", formatRecord(recs[0]))
	}
}

func TestMapperAudienceArray(t *testing.T) {
	recs, errs, m := mapCSV(t, "external_id:String,vip:Boolean,churn_risk:Boolean",
		"external_id,vip,churn_risk\nu1,true,yes\nu2,false,\n",
		AudienceColumns("vip", "churn_risk"), InAudience("spring_campaign"), AudienceArray("audiences"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := formatRecord(recs[0]); got != "u1\n  audiences = []string []string{\"vip\", \"churn_risk\", \"spring_campaign\"}" {
		t.Errorf("u1 = %s", got)
	}
	if got := formatRecord(recs[1]); got != "u2\n  audiences = []string []string{\"spring_campaign\"}" {
		t.Errorf("u2 = %s", got)
	}
	if len(m.AudienceAttributes()) != 0 || m.AudienceArrayAttribute() != "audiences" {
		t.Errorf("audience attributes %v %q", m.AudienceAttributes(), m.AudienceArrayAttribute())
	}
}

func TestMapperAudienceFlags(t *testing.T) {
	recs, errs, m := mapCSV(t, "external_id:String,vip:Boolean", "external_id,vip\nu1,true\nu2,\n",
		AudienceColumns("vip"), InAudience("spring"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := formatRecord(recs[1]); got != "u2\n  vip = bool false\n  spring = bool true" {
		t.Errorf("u2 = %s", got)
	}
	if got := m.AudienceAttributes(); strings.Join(got, ",") != "vip,spring" {
		t.Errorf("AudienceAttributes = %v", got)
	}
}

func TestMapperNullPolicies(t *testing.T) {
	const schema = "external_id:String,a:String,b:Integer"
	const input = "external_id,a,b\nu1,\"\",\n"
	recs, _, _ := mapCSV(t, schema, input)
	if got := formatRecord(recs[0]); got != "u1\n  a = string \"\"\n  b = null" {
		t.Errorf("default = %s", got)
	}
	recs, _, _ = mapCSV(t, schema, input, EmptyStringsAsNull())
	if got := formatRecord(recs[0]); got != "u1\n  a = null\n  b = null" {
		t.Errorf("EmptyStringsAsNull = %s", got)
	}
	recs, _, _ = mapCSV(t, schema, input, EmptyStringsAsNull(), OmitNulls())
	if got := formatRecord(recs[0]); got != "u1" {
		t.Errorf("OmitNulls = %s", got)
	}
}

func TestMapperNormalisationOverrides(t *testing.T) {
	const schema = "external_id:String,country:String,email:String,tz_created:Datetime"
	const input = "external_id,country,email,tz_created\nu1,Atlantis,X@Y.COM,2024-01-01 00:30:00\n"
	_, errs, _ := mapCSV(t, schema, input)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `column "country": value "Atlantis": invalid value: not an ISO 3166-1`) {
		t.Fatalf("errors = %v", errs)
	}
	loc := time.FixedZone("UTC+2", 2*3600)
	recs, errs, _ := mapCSV(t, schema, input, KeepAsWritten("country"), LowercaseEmails(), InLocation(loc))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := "u1\n  country = string \"Atlantis\"\n  email = string \"x@y.com\"\n  tz_created = time.Time 2023-12-31T22:30:00Z"
	if got := formatRecord(recs[0]); got != want {
		t.Errorf("record = %s\nwant %s", got, want)
	}
}

func TestMapperNDJSONValues(t *testing.T) {
	input := `{"external_id":"u1","tags":["a","b"],"prefs":{"x":1.50},"current_location":{"latitude":1.5,"longitude":-2}}` + "\n"
	r, err := NewNDJSONReader(context.Background(), strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for rec, err := range m.Records(r.Rows(context.Background())) {
		if err != nil {
			t.Fatal(err)
		}
		want := "u1\n  tags = []string []string{\"a\", \"b\"}\n  prefs = map[string]interface {} map[string]interface {}{\"x\":\"1.50\"}\n  current_location = map[string]interface {} map[string]interface {}{\"latitude\":\"1.5\", \"longitude\":\"-2\"}"
		if got := formatRecord(rec); got != want {
			t.Errorf("record = %s\nwant %s", got, want)
		}
	}
}

func TestMapperTooLong(t *testing.T) {
	long := strings.Repeat("é", 256)
	_, errs, _ := mapCSV(t, "external_id:String,first_name:String", "external_id,first_name\nu1,"+long+"\n")
	if len(errs) != 1 || !errors.Is(errs[0], ErrTooLong) || !strings.Contains(errs[0].Error(), "(256 characters)") {
		t.Fatalf("errors = %v", errs)
	}
}

// A Mapper is shared by goroutines mapping different parts of an export.
func TestMapperConcurrentUse(t *testing.T) {
	s := schemaOf(t, "external_id:String,country:String,gender:String,n:Decimal")
	m, err := NewMapper(s)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			for i := range 500 {
				rec, err := m.Map(Row{Number: int64(i + 1), Cells: []Cell{{Text: fmt.Sprint("u", g, i)}, {Text: "Germany"}, {Text: "female"}, {Text: "1.50"}}})
				if err != nil {
					done <- err
					return
				}
				if !rec.Attrs[0].Value.Equal(diff.StringValue("DE")) || !rec.Attrs[1].Value.Equal(diff.StringValue("F")) || rec.Attrs[2].Value.String() != "1.5" {
					done <- fmt.Errorf("record %v", rec)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestRegression_Issue17_AudienceMustBeBoolean: an audience column whose
// type is not Boolean is refused by NewMapper, before any row is read,
// with a ConfigError naming the column and its type (it was rejected row
// by row when String).
func TestRegression_Issue17_AudienceMustBeBoolean(t *testing.T) {
	for _, typ := range []string{"String", "Integer", "Date"} {
		for _, opts := range [][]MapperOption{
			{AudienceColumns("segment")},
			{AudienceColumns("segment"), AudienceArray("audiences")},
			{AudienceColumns("segment"), MapColumn("segment", "Segment A")},
		} {
			_, err := NewMapper(schemaOf(t, "external_id:String,segment:"+typ), opts...)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Column != "segment" || !errors.Is(err, ErrUnsupportedField) ||
				!strings.Contains(err.Error(), "must be Boolean, not "+typ) {
				t.Errorf("%s with %d options: %v, want a ConfigError naming the column and its type", typ, len(opts), err)
			}
		}
	}
	if _, err := NewMapper(schemaOf(t, "external_id:String,segment:Boolean"), AudienceColumns("segment")); err != nil {
		t.Errorf("Boolean audience column: %v", err)
	}
}

// TestRegression_Issue13_DecimalBeyondDouble: a Decimal cell beyond a
// double's range (or so small a double holds it as 0) is a per-row
// *InputError naming the row and column; the rows around it are mapped.
// Float and Integer cells out of their ranges fail the same way.
func TestRegression_Issue13_DecimalBeyondDouble(t *testing.T) {
	const schema = "external_id:String,d:Decimal,f:Float,n:Integer"
	input := "external_id,d,f,n\n" +
		"u1,1.5,1.5,1\n" +
		"u2,1e400,1,1\n" +
		"u3," + "1" + strings.Repeat("0", 400) + ",1,1\n" +
		"u4,1e-400,1,1\n" +
		"u5,-1.8e308,1,1\n" +
		"u6,1.7976931348623157e308,1e-400,1\n" +
		"u7,1,1e309,1\n" +
		"u8,1,NaN,1\n" +
		"u9,1,Inf,1\n" +
		"u10,1,1,9223372036854775808\n" +
		"u11,1e-300,4.9e-324,-9223372036854775808\n"
	recs, errs, _ := mapCSV(t, schema, input)
	if len(recs) != 2 || recs[0].Key != "u1" || recs[1].Key != "u11" {
		t.Fatalf("records %v, want u1 and u11", recs)
	}
	want := []struct{ key, col string }{
		{"u2", "d"}, {"u3", "d"}, {"u4", "d"}, {"u5", "d"}, {"u6", "f"}, {"u7", "f"}, {"u8", "f"}, {"u9", "f"}, {"u10", "n"},
	}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for i, w := range want {
		var ie *InputError
		if !errors.As(errs[i], &ie) || ie.Key != w.key || ie.Column != w.col || ie.Row != int64(i+2) ||
			!errors.Is(errs[i], ErrInvalidValue) || isFatal(errs[i]) {
			t.Errorf("error %d: %v, want row %d (%s) column %q", i, errs[i], i+2, w.key, w.col)
		}
	}
	if got := errs[0].Error(); got != `row 2 (line 3): column "d": value "1e400": invalid value: Decimal beyond the range of a double (about ±1.8e308), the largest number Braze holds` {
		t.Errorf("message %q", got)
	}
}

// TestRegression_Issue13_JSONNumberBeyondDouble: a number beyond a double
// inside an NDJSON object or array cell is a per-row error too.
func TestRegression_Issue13_JSONNumberBeyondDouble(t *testing.T) {
	ctx := context.Background()
	input := `{"external_id":"u1","prefs":{"score":1.5,"ranks":[1,2]}}` + "\n" +
		`{"external_id":"u2","prefs":{"score":1e400}}` + "\n" +
		`{"external_id":"u3","prefs":{"deep":[{"x":-1e-400}]}}` + "\n"
	r, err := NewNDJSONReader(ctx, strings.NewReader(input), WithSchema(schemaOf(t, "external_id:String,prefs:String")))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapper(r.Schema())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rec, err := range m.Records(r.Rows(ctx)) {
		var ie *InputError
		switch {
		case err == nil:
			got = append(got, rec.Key)
		case errors.As(err, &ie) && ie.Column == "prefs" && errors.Is(err, ErrInvalidValue):
			got = append(got, "error "+ie.Key)
		default:
			t.Fatalf("%v", err)
		}
	}
	if strings.Join(got, ",") != "u1,error u2,error u3" {
		t.Fatalf("got %q", got)
	}
}
