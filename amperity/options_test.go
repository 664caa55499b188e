package amperity

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// programNames is how a program configured by a mapping file names the
// options (amperity-to-braze's vocabulary).
var programNames = OptionNames(map[string]string{
	"MapColumn":         `mapping "columns"`,
	"IgnoreColumns":     `mapping "ignore"`,
	"Precedence":        `mapping "precedence"`,
	"InAudience":        `mapping "in_audience"`,
	"AudienceArray":     `mapping "audience_array"`,
	"WithConsentFields": `mapping "consent_fields": true`,
})

// goNames are the Go options' names, which messages must not show once
// OptionNames renamed them.
var goNames = []string{"MapColumn", "IgnoreColumns", "Precedence", "InAudience", "AudienceArray", "WithConsentFields"}

func TestOptionNamesInErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		opts   []MapperOption
		want   error
		msg    string
	}{
		{"dob twice", "external_id:String,birthdate:Date,dob:Date", nil, ErrDuplicateTarget,
			`drop one with mapping "ignore" or order them with mapping "precedence"`},
		{"no identifier", "amperity_id:String,email:String", nil, ErrNoIdentifier,
			`to use amperity_id, map it to external_id with mapping "columns"`},
		{"missing column in ignore", "external_id:String", []MapperOption{IgnoreColumns("nope")}, ErrNoSuchColumn,
			`column "nope": no such column: named in mapping "ignore" but not in the schema, whose columns are external_id`},
		{"missing column in precedence", "external_id:String", []MapperOption{Precedence("dob", "nope")}, ErrNoSuchColumn,
			`named in mapping "precedence"`},
		{"precedence incomplete", "external_id:String,birthdate:Date,dob:Date,birthday:Date", []MapperOption{Precedence("dob", "dob", "birthdate")}, ErrInvalidOption,
			`mapping "precedence" lists 2 of the 3 columns`},
		{"precedence wrong column", "external_id:String,birthdate:Date,city:String", []MapperOption{Precedence("dob", "city")}, ErrInvalidOption,
			`mapping "precedence" names a column that does not map to this field`},
		{"in_audience on a column's attribute", "external_id:String,vip:String", []MapperOption{InAudience("vip")}, ErrDuplicateTarget,
			`mapping "in_audience" names an attribute that a column also feeds`},
		{"audience_array on a column's attribute", "external_id:String,aud:String", []MapperOption{AudienceArray("aud")}, ErrDuplicateTarget,
			`the name of mapping "audience_array" is also a column's attribute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMapper(schemaOf(t, tt.schema), append([]MapperOption{programNames}, tt.opts...)...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("err = %q, want it to contain %q", msg, tt.msg)
			}
			for _, g := range goNames {
				if strings.Contains(msg, g) {
					t.Errorf("err = %q names the Go option %s", msg, g)
				}
			}
		})
	}
}

func TestOptionNamesInExplain(t *testing.T) {
	schema := schemaOf(t, "external_id:String,amperity_id:String,email_subscribe:String,junk:String")
	m, err := NewMapper(schema, programNames, IgnoreColumns("junk"), InAudience("all"))
	if err != nil {
		t.Fatal(err)
	}
	got := m.Explain()
	for _, want := range []string{
		`Amperity's own ID is not sent unless mapped with mapping "columns"`,
		`enable with mapping "consent_fields": true`,
		`ignored by mapping "ignore"`,
		`every row is in this audience (mapping "in_audience")`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain lacks %q:\n%s", want, got)
		}
	}
	for _, g := range goNames {
		if strings.Contains(got, g) {
			t.Errorf("Explain names the Go option %s:\n%s", g, got)
		}
	}
	// Without OptionNames, a Go caller reads the Go names.
	m, err = NewMapper(schema, IgnoreColumns("junk"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Explain(); !strings.Contains(got, "ignored by IgnoreColumns") || !strings.Contains(got, "mapped with MapColumn") {
		t.Errorf("Explain without OptionNames:\n%s", got)
	}
}

func TestUpdateExistingOnly(t *testing.T) {
	schema := schemaOf(t, "external_id:String,tier:String")
	m, err := NewMapper(schema, UpdateExistingOnly(), MapWorkers(0), ReuseRecords())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Attributes(), []string{"tier", "_update_existing_only"}; !slices.Equal(got, want) {
		t.Errorf("Attributes = %q, want %q", got, want)
	}
	if !strings.Contains(m.Explain(), "request-flag  _update_existing_only") {
		t.Errorf("Explain does not show the flag:\n%s", m.Explain())
	}
	rows := func(yield func(Row, error) bool) {
		for _, id := range []string{"u1", "u2"} {
			if !yield(Row{Number: 1, Schema: schema, Cells: []Cell{{Text: id}, {Null: true}}}, nil) {
				return
			}
		}
	}
	n := 0
	for rec, err := range m.Records(rows) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		ua, err := braze.NewUserAttributes("external_id", rec.Key, diffAll(rec))
		if err != nil {
			t.Fatal(err)
		}
		if ua.UpdateExistingOnly == nil || !*ua.UpdateExistingOnly {
			t.Errorf("%s: UpdateExistingOnly = %v, want true", rec.Key, ua.UpdateExistingOnly)
		}
		j, _ := ua.MarshalJSON()
		if !strings.Contains(string(j), `"_update_existing_only":true`) {
			t.Errorf("%s: sent %s", rec.Key, j)
		}
	}
	if n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

// diffAll yields a record's attributes as Go values, as a diff.Change's
// All does.
func diffAll(rec diff.Record) func(func(string, any) bool) {
	return func(yield func(string, any) bool) {
		for _, a := range rec.Attrs {
			if !yield(a.Name, a.Value.Any()) {
				return
			}
		}
	}
}
