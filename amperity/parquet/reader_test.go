package parquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
)

type customer struct {
	ExternalID string    `parquet:"external_id"`
	GivenName  *string   `parquet:"given_name,optional"`
	Birthdate  int32     `parquet:"birthdate,date"`
	Revenue    int64     `parquet:"L30D_order_revenue,decimal(2:12)"`
	Orders     int64     `parquet:"order_count"`
	CLV        float64   `parquet:"predicted_clv"`
	OneAndDone bool      `parquet:"one_and_done"`
	LastOrder  time.Time `parquet:"latest_order_datetime,timestamp(microsecond)"`
	Country    string    `parquet:"country"`
}

func writeFile(t *testing.T, rows []customer) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	w := pq.NewGenericWriter[customer](&buf, pq.MaxRowsPerRowGroup(2))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func ptr(s string) *string { return &s }

func TestReaderInfersSchemaAndMaps(t *testing.T) {
	day := func(y int, m time.Month, d int) int32 {
		return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	last := time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC)
	rows := []customer{
		{"u1", ptr("Ann"), day(1980, 1, 2), 12050, 3, 812.25, false, last, "USA"},
		{"u2", nil, day(1969, 12, 31), -5, 0, 0.5, true, last.Add(time.Hour), "de"},
		{"u3", ptr("Cy"), day(2000, 2, 29), 0, 7, 1e21, false, last, "France"},
	}
	f := writeFile(t, rows)
	r, err := NewReader(context.Background(), f, f.Size(), WithSource("part-0.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Schema().String(); got != "external_id:String\ngiven_name:String\nbirthdate:Date\nL30D_order_revenue:Decimal\norder_count:Integer\npredicted_clv:Float\none_and_done:Boolean\nlatest_order_datetime:Datetime\ncountry:String\n" {
		t.Fatalf("schema:\n%s", got)
	}
	m, err := amperity.NewMapper(r.Schema())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rec, err := range m.Records(r.Rows(context.Background())) {
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(rec.Key)
		for _, a := range rec.Attrs {
			b.WriteString(" " + a.Name + "=")
			switch v := a.Value.Any().(type) {
			case time.Time:
				b.WriteString(v.Format(time.RFC3339Nano))
			case nil:
				b.WriteString("null")
			default:
				b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", "")))
			}
		}
		got = append(got, b.String())
	}
	want := []string{
		"u1 first_name=Ann dob=1980-01-02 L30D_order_revenue=120.5 order_count=3 predicted_clv=812.25 one_and_done=false latest_order_datetime=2024-03-01T10:00:00.123456Z country=US",
		"u2 first_name=null dob=1969-12-31 L30D_order_revenue=-0.05 order_count=0 predicted_clv=0.5 one_and_done=true latest_order_datetime=2024-03-01T11:00:00.123456Z country=DE",
		"u3 first_name=Cy dob=2000-02-29 L30D_order_revenue=0 order_count=7 predicted_clv=1e+21 one_and_done=false latest_order_datetime=2024-03-01T10:00:00.123456Z country=FR",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReaderRejectsNested(t *testing.T) {
	type nested struct {
		ID   string   `parquet:"external_id"`
		Tags []string `parquet:"tags,list"`
	}
	var buf bytes.Buffer
	w := pq.NewGenericWriter[nested](&buf)
	w.Write([]nested{{"u1", []string{"a"}}})
	w.Close()
	_, err := NewReader(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if !errors.Is(err, ErrUnsupportedColumn) || !strings.Contains(err.Error(), `column "tags"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestReaderBadFile(t *testing.T) {
	_, err := NewReader(context.Background(), strings.NewReader("not parquet"), 11, WithSource("x.parquet"))
	if !errors.Is(err, amperity.ErrRead) || !strings.HasPrefix(err.Error(), "x.parquet: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestFormatScaled(t *testing.T) {
	for _, tt := range []struct {
		unscaled int64
		scale    int
		want     string
	}{{12050, 2, "120.50"}, {-5, 2, "-0.05"}, {0, 2, "0.00"}, {7, 0, "7"}, {7, -2, "700"}, {-123456, 3, "-123.456"}} {
		if got := formatScaled(bigInt(tt.unscaled), tt.scale); got != tt.want {
			t.Errorf("formatScaled(%d, %d) = %q, want %q", tt.unscaled, tt.scale, got, tt.want)
		}
	}
	if got := twosComplement([]byte{0xff, 0xfe}); got.Int64() != -2 {
		t.Errorf("twosComplement = %v", got)
	}
}

func TestInt96(t *testing.T) {
	// Julian day 2440589 is 1970-01-02; 3,600 s of nanoseconds into it.
	nanos := uint64(3600 * time.Second)
	v := pq.ValueOf(deprecated.Int96{uint32(nanos), uint32(nanos >> 32), 2440589})
	got, err := int96Conv(v)
	if err != nil || got != "1970-01-02T01:00:00Z" {
		t.Fatalf("int96Conv = %q, %v", got, err)
	}
}

// failingReaderAt fails every read that touches [from, to).
type failingReaderAt struct {
	r        *bytes.Reader
	from, to int64
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < f.to && off+int64(len(p)) > f.from {
		return 0, errors.New("disk on fire")
	}
	return f.r.ReadAt(p, off)
}

// TestRegression_Issue13_ParquetFatalAndByName: a cancelled context, a
// read failure and a second Rows are fatal (errors.Is(err,
// amperity.ErrFatal), last item); a NaN double is a per-row error naming
// the column; and a mapper built from a schema file that lists the columns
// in another order than the file maps every value to its own attribute.
func TestRegression_Issue13_ParquetFatalAndByName(t *testing.T) {
	ctx := context.Background()
	var rows []customer
	for i := range 10 {
		rows = append(rows, customer{ExternalID: fmt.Sprint("u", i), GivenName: ptr(fmt.Sprint("name", i)), Orders: int64(i), CLV: float64(i), Country: "US"})
	}
	rows[3].CLV = math.NaN()
	f := writeFile(t, rows)

	schema, err := amperity.ParseSchema(strings.NewReader("country:String\norder_count:Integer\npredicted_clv:Float\nexternal_id:String\n" +
		"latest_order_datetime:Datetime\none_and_done:Boolean\nL30D_order_revenue:Decimal\nbirthdate:Date\ngiven_name:String\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{0, 2} {
		r, err := NewReader(ctx, f, f.Size(), WithSource("part-0.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := amperity.NewMapper(schema, amperity.MapWorkers(workers))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rec, err := range m.Records(r.Rows(ctx)) {
			if n++; n == 4 {
				var ie *amperity.InputError
				if !errors.As(err, &ie) || ie.Column != "predicted_clv" || ie.Row != 4 || errors.Is(err, amperity.ErrFatal) {
					t.Fatalf("workers %d: row 4: %v, want a per-row error on predicted_clv", workers, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("workers %d: %v", workers, err)
			}
			attrs := map[string]any{}
			for _, a := range rec.Attrs {
				attrs[a.Name] = a.Value.Any()
			}
			i := n - 1
			if rec.Key != fmt.Sprint("u", i) || attrs["first_name"] != fmt.Sprint("name", i) || attrs["order_count"] != int64(i) ||
				attrs["predicted_clv"] != float64(i) || attrs["country"] != "US" {
				t.Fatalf("workers %d: record %d: %s %v", workers, i, rec.Key, attrs)
			}
		}
		if n != 10 {
			t.Fatalf("workers %d: %d items", workers, n)
		}
	}

	lastIsFatal := func(name string, rows func(yield func(amperity.Row, error) bool), want error) {
		t.Helper()
		var items []error
		for _, err := range rows {
			items = append(items, err)
		}
		last := items[len(items)-1]
		if !errors.Is(last, amperity.ErrFatal) || (want != nil && !errors.Is(last, want)) {
			t.Errorf("%s: last item %v, want a fatal %v", name, last, want)
		}
		for _, err := range items[:len(items)-1] {
			if errors.Is(err, amperity.ErrFatal) {
				t.Errorf("%s: fatal error %v before the last item", name, err)
			}
		}
	}
	r, _ := NewReader(ctx, f, f.Size())
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	lastIsFatal("cancelled", r.Rows(cancelled), context.Canceled)
	lastIsFatal("Rows twice", r.Rows(ctx), nil)
	broken := failingReaderAt{r: f, from: f.Size() / 4, to: f.Size()/4 + 1} // in the data pages
	br, err := NewReader(ctx, broken, f.Size())
	if err != nil {
		t.Fatal(err)
	}
	lastIsFatal("read failure", br.Rows(ctx), amperity.ErrRead)
}
