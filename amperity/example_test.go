package amperity_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/ampbraze/ampbraze/amperity"
)

// A "Braze Customer Attributes" export, its schema, the mapper's plan and
// the records it produces.
func Example() {
	ctx := context.Background()
	schema, err := amperity.ParseSchema(strings.NewReader(`
amperity_id:String
external_id:String
given_name:String
birthdate:Datetime
gender:String
country:String
L30D_order_revenue:Decimal
vip:Boolean
`))
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
	m, err := amperity.NewMapper(r.Schema(), amperity.AudienceColumns("vip"))
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
	// amperity_id         String    ignored     -                   Amperity's own ID is not sent unless mapped with MapColumn
	// external_id         String    identifier  external_id         identifier column
	// given_name          String    standard    first_name          alias of the standard field first_name
	// birthdate           Datetime  standard    dob                 alias of the standard field dob
	// gender              String    standard    gender              standard field
	// country             String    standard    country             standard field
	// L30D_order_revenue  Decimal   custom      L30D_order_revenue  custom attribute under the column name
	// vip                 Boolean   audience    vip                 audience membership column
	// u1: first_name=Ann dob=1980-01-02 gender=F country=US L30D_order_revenue=120.5 vip=true
	// u2: first_name=Bob dob=<nil> gender=M country=DE L30D_order_revenue=0 vip=false
	// audience flags: [vip]
}

// Two columns landing on dob are refused before any row is read, unless a
// precedence is set.
func ExampleNewMapper_precedence() {
	schema, _ := amperity.NewSchema(
		amperity.Column{Name: "external_id", Type: amperity.String},
		amperity.Column{Name: "birthdate", Type: amperity.Date},
		amperity.Column{Name: "dob", Type: amperity.Date},
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

// A bad value is reported with its place; with SkipOnError the run goes on.
func ExampleOnError() {
	ctx := context.Background()
	schema, _ := amperity.ParseSchema(strings.NewReader("external_id:String\norder_count:Integer"))
	r, _ := amperity.NewCSVReader(ctx, strings.NewReader("external_id,order_count\nu1,3\nu2,three\nu3,1,2\nu4,4\n"),
		amperity.WithSchema(schema), amperity.WithSource("orders.csv"))
	m, _ := amperity.NewMapper(r.Schema(), amperity.OnError(amperity.SkipOnError))
	for rec, err := range m.Records(r.Rows(ctx)) {
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
}

func ExampleParseDecimal() {
	for _, s := range []string{"1.50", "007.10", "-0.00", "12e-1"} {
		n, _ := amperity.ParseDecimal(s)
		fmt.Println(s, "->", n)
	}
	// Output:
	// 1.50 -> 1.5
	// 007.10 -> 7.1
	// -0.00 -> 0
	// 12e-1 -> 1.2
}
