package amperity

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/internal/cputime"
)

// BenchmarkMapCSV maps a generated Amperity export end to end (read, type,
// normalise, build diff.Records) beside a baseline that only reads the same
// file with encoding/csv and ReuseRecord. One op is one pass over the file.
// The file has 1,000,000 rows by default; set -amperity.rows or
// AMPERITY_BENCH_ROWS for quick runs.
var benchRows = flag.Int("amperity.rows", 0, "rows in the BenchmarkMapCSV file (default 1000000, or $AMPERITY_BENCH_ROWS)")

const benchSchema = `external_id:String
amperity_id:String
given_name:String
surname:String
email:String
phone:String
birthdate:Date
gender:String
city:String
country:String
language:String
L30D_order_revenue:Decimal
L12M_order_revenue:Decimal
L12M_rfm_score:Integer
order_count:Integer
one_and_done:Boolean
latest_order_datetime:Datetime
first_order_date:Date
predicted_clv:Float
vip:Boolean
`

func benchRowCount() int {
	if *benchRows > 0 {
		return *benchRows
	}
	if n, err := strconv.Atoi(os.Getenv("AMPERITY_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchFile writes (once per row count, cached in the temp directory) a CSV
// with realistic values: quoted names with commas, nulls, mixed genders,
// countries as names and codes, money with trailing zeros.
func benchFile(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("ampbraze-mapcsv-v2-%d.csv", rows))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	first := []string{"Ann", "Bob", "Chloé", "David", "Eve", "Farah", "Gustavo", "Hiro", "Ines", "José"}
	last := []string{"Lee", "\"O'Neil, Jr.\"", "Smith", "García", "Müller", "Nguyen", "Kowalski", "Dubois", "Rossi", "Tanaka"}
	cities := []string{"Boston", "Berlin", "\"Paris, 3e\"", "São Paulo", "Tokyo", "", "Seattle", "Madrid"}
	countries := []string{"US", "us", "DEU", "France", "BR", "JP", "United States", "ES"}
	langs := []string{"en", "de", "fr", "pt-BR", "ja", "", "en-US", "es"}
	genders := []string{"F", "M", "female", "male", "O", "", "P", "n/a"}
	schema, err := ParseSchema(strings.NewReader(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprint(w, strings.Join(schema.Names(), ","), "\n")
	for i := range rows {
		y, m, d := 1950+rng.IntN(55), 1+rng.IntN(12), 1+rng.IntN(28)
		fmt.Fprintf(w, "cust-%08d,%016x%016x,%s,%s,user%d@example.com,+1555%07d,%04d-%02d-%02d,%s,%s,%s,%s,%d.%02d0,%d.%d,%d,%d,%t,2024-%02d-%02d %02d:%02d:%02d.%03d,2019-%02d-%02d,%.4f,%t\n",
			i, rng.Uint64(), rng.Uint64(), first[rng.IntN(len(first))], last[rng.IntN(len(last))], i, rng.IntN(1e7),
			y, m, d, genders[rng.IntN(len(genders))], cities[rng.IntN(len(cities))], countries[rng.IntN(len(countries))],
			langs[rng.IntN(len(langs))], rng.IntN(500), rng.IntN(100), rng.IntN(5000), rng.IntN(100), 1+rng.IntN(555), rng.IntN(80),
			rng.IntN(4) == 0, 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000),
			1+rng.IntN(12), 1+rng.IntN(28), rng.Float64()*2000, rng.IntN(10) == 0)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// heapSampler tracks the largest heap seen, to show memory is flat in rows.
type heapSampler struct {
	sample []metrics.Sample
	peak   uint64
}

func newHeapSampler() *heapSampler {
	return &heapSampler{sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

func (h *heapSampler) take() {
	metrics.Read(h.sample)
	if v := h.sample[0].Value.Uint64(); v > h.peak {
		h.peak = v
	}
}

func BenchmarkMapCSV(b *testing.B) {
	rows := benchRowCount()
	path := benchFile(b, rows)
	schema, err := ParseSchema(strings.NewReader(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, pass func(f io.Reader, h *heapSampler) int) {
		h := newHeapSampler()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ResetTimer()
		cpu0 := cputime.Process()
		start := time.Now()
		for range b.N {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if n := pass(bufio.NewReaderSize(f, 64<<10), h); n != rows {
				b.Fatalf("%d rows, want %d", n, rows)
			}
			f.Close()
		}
		elapsed := time.Since(start)
		cpu := cputime.Process() - cpu0
		b.StopTimer()
		runtime.ReadMemStats(&after)
		total := float64(rows) * float64(b.N)
		b.ReportMetric(total/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/row")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/total, "B/row")
		b.ReportMetric(float64(h.peak)/(1<<20), "peak-heap-MB")
		// CPU time of the whole process (GC workers included) per row: on a
		// shared, overloaded machine it is steadier than wall time.
		b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/row")
	}
	cols := schema.Columns()
	slices.Reverse(cols)
	reversed, err := NewSchema(cols...)
	if err != nil {
		b.Fatal(err)
	}
	// mapperSchema is the schema the mapper is built from: the reader's (in
	// file order) by default, or another order, matched by name.
	mapperSchema := func(r *CSVReader) Schema { return r.Schema() }
	mapped := func(opts ...MapperOption) func(f io.Reader, h *heapSampler) int {
		return func(f io.Reader, h *heapSampler) int {
			ctx := context.Background()
			r, err := NewCSVReader(ctx, f, WithSchema(schema))
			if err != nil {
				b.Fatal(err)
			}
			m, err := NewMapper(mapperSchema(r), append(opts, AudienceColumns("vip"))...)
			if err != nil {
				b.Fatal(err)
			}
			n, attrs := 0, 0
			for rec, err := range m.Records(r.Rows(ctx)) {
				if err != nil {
					b.Fatal(err)
				}
				attrs += len(rec.Attrs)
				if n++; n%100_000 == 0 {
					h.take()
				}
			}
			if attrs == 0 {
				b.Fatal("no attributes")
			}
			return n
		}
	}
	// mapped is the configuration of a sync into the delta engine, which
	// copies each record's Attrs slice, so the slices' memory is reused (as
	// the baseline reuses its record); mapped_fresh hands out new memory.
	// Both map on the default workers (GOMAXPROCS, at most 4) beside the
	// goroutine that reads.
	b.Run("mapped", func(b *testing.B) { run(b, mapped(ReuseRecords())) })
	b.Run("mapped_fresh", func(b *testing.B) { run(b, mapped()) })
	// mapped_sequential maps on the reading goroutine (MapWorkers(0)): the
	// cost of mapping on one core.
	b.Run("mapped_sequential", func(b *testing.B) { run(b, mapped(ReuseRecords(), MapWorkers(0))) })
	// mapped_reordered builds the mapper from the schema in reverse order,
	// so the columns are found in each row by name (a resolved layout).
	b.Run("mapped_reordered", func(b *testing.B) {
		mapperSchema = func(*CSVReader) Schema { return reversed }
		defer func() { mapperSchema = func(r *CSVReader) Schema { return r.Schema() } }()
		run(b, mapped(ReuseRecords()))
	})
	// read_only is the SDK's reader without the mapper, to split the cost.
	b.Run("read_only", func(b *testing.B) {
		run(b, func(f io.Reader, h *heapSampler) int {
			r, err := NewCSVReader(context.Background(), f, WithSchema(schema))
			if err != nil {
				b.Fatal(err)
			}
			n, cells := 0, 0
			for row, err := range r.Rows(context.Background()) {
				if err != nil {
					b.Fatal(err)
				}
				cells += len(row.Cells)
				if n++; n%100_000 == 0 {
					h.take()
				}
			}
			if cells == 0 {
				b.Fatal("no cells")
			}
			return n
		})
	})
	b.Run("baseline", func(b *testing.B) {
		run(b, func(f io.Reader, h *heapSampler) int {
			cr := csv.NewReader(f)
			cr.ReuseRecord = true
			if _, err := cr.Read(); err != nil { // header
				b.Fatal(err)
			}
			n, fields := 0, 0
			for {
				rec, err := cr.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				fields += len(rec)
				if n++; n%100_000 == 0 {
					h.take()
				}
			}
			if fields == 0 {
				b.Fatal("no fields")
			}
			return n
		})
	})
}

// BenchmarkMapRow measures the mapper alone on rows already in memory (no
// I/O, no CSV parsing): one op maps one row of the BenchmarkMapCSV data.
func BenchmarkMapRow(b *testing.B) {
	path := benchFile(b, 10_000)
	schema, err := ParseSchema(strings.NewReader(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := NewCSVReader(context.Background(), f, WithSchema(schema))
	if err != nil {
		b.Fatal(err)
	}
	var rows []Row
	for row, err := range r.Rows(context.Background()) {
		if err != nil {
			b.Fatal(err)
		}
		row.Cells = append([]Cell(nil), row.Cells...)
		rows = append(rows, row)
	}
	m, err := NewMapper(r.Schema(), AudienceColumns("vip"))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]diff.Attr, 0, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := m.mapRow(rows[i%len(rows)], buf); err != nil {
			b.Fatal(err)
		}
	}
}
