package parquet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	pq "github.com/parquet-go/parquet-go"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/amperity/parquet"
)

// A Parquet export carries its own schema: the reader infers the Amperity
// types from the file, and the mapper maps its columns by name.
func ExampleNewReader() {
	type customer struct {
		CustomerID string  `parquet:"customer_id"`
		GivenName  *string `parquet:"given_name,optional"`
		Birthdate  int32   `parquet:"birthdate,date"`               // days since 1970-01-01
		Revenue    int64   `parquet:"lifetime_value,decimal(2:12)"` // cents
		VIP        bool    `parquet:"aud_vip"`
	}
	ada := "Ada"
	var file bytes.Buffer // an export, as Amperity writes it to S3
	if err := pq.Write(&file, []customer{
		{"C-1001", &ada, 5822, 124050, true},
		{"C-1002", nil, 2534, 589000, false},
	}); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	f := bytes.NewReader(file.Bytes())
	r, err := parquet.NewReader(ctx, f, f.Size(), parquet.WithSource("part-00000.parquet"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(r.Schema())
	m, err := amperity.NewMapper(r.Schema(), amperity.MapColumn("customer_id", "external_id"),
		amperity.AudienceColumns("aud_vip"), amperity.MapWorkers(0))
	if err != nil {
		log.Fatal(err)
	}
	for rec, err := range m.Records(r.Rows(ctx)) {
		if errors.Is(err, amperity.ErrFatal) {
			log.Fatal(err)
		}
		if err != nil {
			fmt.Println("skipped:", err)
			continue
		}
		fmt.Print(rec.Key)
		for _, a := range rec.Attrs {
			fmt.Printf(" %s=%v", a.Name, a.Value)
		}
		fmt.Println()
	}
	// Output:
	// customer_id:String
	// given_name:String
	// birthdate:Date
	// lifetime_value:Decimal
	// aud_vip:Boolean
	// C-1001 first_name=Ada dob=1985-12-10 lifetime_value=1240.5 aud_vip=true
	// C-1002 first_name=<nil> dob=1976-12-09 lifetime_value=5890 aud_vip=false
}
