package amperity_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/ampbraze/ampbraze/amperity"
)

// A "Braze Customer Attributes" export, its schema, the mapper's plan and
// the records it produces. The schema file lists the columns in another
// order than the file's header: the mapper finds them by name.
func Example() {
	ctx := context.Background()
	schema, err := amperity.ParseSchema(strings.NewReader(`
external_id:String
amperity_id:String
birthdate:Datetime
given_name:String
gender:String
country:String
L30D_order_revenue:Decimal
vip:Boolean
`))
	if err != nil {
		log.Fatal(err)
	}
	m, err := amperity.NewMapper(schema, amperity.AudienceColumns("vip"))
	if err != nil {
		log.Fatal(err)
	}
	export := "amperity_id,external_id,given_name,birthdate,gender,country,L30D_order_revenue,vip\n" +
		"a-1,u1,Ann,1980-01-02 00:00:00,female,United States,120.50,true\n" +
		"a-2,u2,Bob,,M,DEU,0.00,\n"
	r, err := amperity.NewCSVReader(ctx, strings.NewReader(export), amperity.WithSchema(schema), amperity.WithSource("export.csv"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(m.Explain())
	for rec, err := range m.Records(r.Rows(ctx)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(rec.Key, ":")
		for _, a := range rec.Attrs {
			fmt.Printf(" %s=%v", a.Name, a.Value)
		}
		fmt.Println()
	}
	fmt.Println("audience flags:", m.AudienceAttributes())
	// Output:
	// COLUMN              TYPE      ACTION      BRAZE FIELD         WHY
	// external_id         String    identifier  external_id         identifier column
	// amperity_id         String    ignored     -                   Amperity's own ID is not sent unless mapped with MapColumn
	// birthdate           Datetime  standard    dob                 alias of the standard field dob
	// given_name          String    standard    first_name          alias of the standard field first_name
	// gender              String    standard    gender              standard field
	// country             String    standard    country             standard field
	// L30D_order_revenue  Decimal   custom      L30D_order_revenue  custom attribute under the column name
	// vip                 Boolean   audience    vip                 audience membership column
	// u1: dob=1980-01-02 first_name=Ann gender=F country=US L30D_order_revenue=120.5 vip=true
	// u2: dob=<nil> first_name=Bob gender=M country=DE L30D_order_revenue=0 vip=false
	// audience flags: [vip]
}

// Two columns landing on dob are refused before any row is read, unless a
// precedence is set.
func ExampleNewMapper_precedence() {
	schema, _ := amperity.NewSchema(
		amperity.Column{Name: "external_id", Type: amperity.TypeString},
		amperity.Column{Name: "birthdate", Type: amperity.TypeDate},
		amperity.Column{Name: "dob", Type: amperity.TypeDate},
	)
	_, err := amperity.NewMapper(schema)
	fmt.Println(err)

	m, err := amperity.NewMapper(schema, amperity.Precedence("dob", "dob", "birthdate"))
	if err != nil {
		log.Fatal(err)
	}
	rec, _ := m.Map(amperity.Row{Number: 1, Cells: []amperity.Cell{{Text: "u1"}, {Text: "1980-01-02"}, {Null: true}}})
	fmt.Println(rec.Key, rec.Attrs[0].Name, rec.Attrs[0].Value)
	// Output:
	// amperity: field "dob": two columns map to the same Braze attribute: columns "birthdate" (alias of the standard field dob) and "dob" (standard field); drop one with IgnoreColumns or order them with Precedence
	// u1 dob 1980-01-02
}

// A bad row is reported with its place and the stream goes on; an error
// after which the file cannot be read further is fatal and comes last.
func ExampleMapper_Records() {
	ctx := context.Background()
	schema, _ := amperity.ParseSchema(strings.NewReader("external_id:String\norder_count:Integer"))
	r, _ := amperity.NewCSVReader(ctx, strings.NewReader("external_id,order_count\nu1,3\nu2,three\nu3,1,2\nu4,4\nu5,\"5\n"),
		amperity.WithSchema(schema), amperity.WithSource("orders.csv"))
	m, _ := amperity.NewMapper(schema)
	for rec, err := range m.Records(r.Rows(ctx)) {
		if errors.Is(err, amperity.ErrFatal) {
			fmt.Println("stopped:", err)
			break // the export is incomplete: plan no removals
		}
		if err != nil {
			fmt.Println("skipped:", err)
			continue
		}
		fmt.Println(rec.Key, rec.Attrs[0].Value)
	}
	// Output:
	// u1 3
	// skipped: orders.csv: row 2 (line 3): column "order_count": value "three": invalid value: not an Integer
	// skipped: orders.csv: row 3 (line 4): wrong number of fields: 3 fields, the header has 2
	// u4 4
	// stopped: orders.csv: row 5 (line 6): unterminated quoted field: the quote opened in field 2 on line 6 is never closed
}

// The normalisers are the mapper's own, for records built from another
// source: their values then diff equal to those the mapper sends.
func ExampleNormalizeCountry() {
	for _, s := range []string{"usa", "DEU", "United Kingdom", "Côte d'Ivoire", "Korea"} {
		code, err := amperity.NormalizeCountry(s)
		fmt.Printf("%q -> %q %v\n", s, code, err)
	}
	// Output:
	// "usa" -> "US" <nil>
	// "DEU" -> "DE" <nil>
	// "United Kingdom" -> "GB" <nil>
	// "Côte d'Ivoire" -> "CI" <nil>
	// "Korea" -> "" invalid value: not an ISO 3166-1 country code or unambiguous English country name
}

func ExampleNormalizeLanguage() {
	for _, s := range []string{"en-US", "pt_BR", "German", "fre"} {
		code, _ := amperity.NormalizeLanguage(s)
		fmt.Println(s, "->", code)
	}
	// Output:
	// en-US -> en
	// pt_BR -> pt
	// German -> de
	// fre -> fr
}

func ExampleNormalizeGender() {
	for _, s := range []string{"female", "Non-binary", "prefer not to say", "unknown"} {
		letter, _ := amperity.NormalizeGender(s)
		fmt.Printf("%s -> %q\n", s, letter)
	}
	// Output:
	// female -> "F"
	// Non-binary -> "O"
	// prefer not to say -> "P"
	// unknown -> ""
}
