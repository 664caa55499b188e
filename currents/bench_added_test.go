package currents_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/internal/cputime"
)

// addedFieldsFiles returns the benchmark's email Send records written
// twice with the null codec: with the v10 schema, and with a newer one
// that appends three optional fields the Go struct lacks (a string, an
// int and a boolean, as Currents v12 added to other email events).
var addedFieldsFiles = sync.OnceValues(func() (v10, added []byte) {
	recs := make([]map[string]any, benchRecords)
	for i := range recs {
		recs[i] = map[string]any{
			"id":             fmt.Sprintf("%08x-58cc-4372-a567-0e02b2c3d479", i),
			"user_id":        fmt.Sprintf("639a35d192b0df00%08x", i),
			"time":           1780000000 + i%86400,
			"campaign_id":    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
			"campaign_name":  "Spring sale announcement",
			"email_address":  fmt.Sprintf("customer%d@example.com", i),
			"message_extras": `{"segment":"loyal","tier":"gold"}`,
			"app_group_id":   "5f1e2d3c4b5a69788796a5b4",
			"landing_page":   "https://example.com/spring",
			"send_time":      1779990000 + i%86400,
			"link_aliasing":  i%2 == 0,
		}
	}
	write := func(opts ...currentstest.Option) []byte {
		var buf bytes.Buffer
		opts = append(opts, currentstest.WithBlockRecords(15000))
		if err := currentstest.WriteFile(&buf, emailSend, recs, opts...); err != nil {
			panic(err)
		}
		return buf.Bytes()
	}
	return write(), write(currentstest.WithAddedFields(
		currentstest.Field{Name: "landing_page", Type: "string"},
		currentstest.Field{Name: "send_time", Type: "int"},
		currentstest.Field{Name: "link_aliasing", Type: "boolean"}))
})

// BenchmarkDecodeAddedFields measures what fields a newer writer schema
// adds cost the typed decoder: each op decodes the 100,000-record file
// with the v10 schema and the same records with three added fields, and
// added/v10 is the ratio of their CPU times (the baseline is the v10
// file, in the same op; the order alternates between ops). The added fields are kept for Get and the JSON
// view; reading them is not part of the op.
func BenchmarkDecodeAddedFields(b *testing.B) {
	v10, added := addedFieldsFiles()
	dec := currents.NewDecoder()
	run := func(data []byte) (time.Duration, uint64) {
		// Each decode starts on a collected heap, so that neither pays for
		// the other's garbage.
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		cpu0 := cputime.Process()
		n := 0
		for ev, err := range dec.Events(bytes.NewReader(data), emailSend) {
			if err != nil {
				b.Fatal(err)
			}
			n += len(ev.(*currents.EmailSend).ID)
		}
		cpu := cputime.Process() - cpu0
		runtime.ReadMemStats(&m1)
		if n != benchRecords*36 {
			b.Fatalf("decoded %d id bytes, want %d", n, benchRecords*36)
		}
		return cpu, m1.Mallocs - m0.Mallocs
	}
	var cpuV10, cpuAdded time.Duration
	var allocV10, allocAdded uint64
	for i := 0; b.Loop(); i++ {
		// Alternate which file goes first.
		files := [2][]byte{v10, added}
		if i%2 == 1 {
			files[0], files[1] = added, v10
		}
		for _, f := range files {
			c, a := run(f)
			if &f[0] == &v10[0] {
				cpuV10, allocV10 = cpuV10+c, allocV10+a
			} else {
				cpuAdded, allocAdded = cpuAdded+c, allocAdded+a
			}
		}
	}
	events := float64(b.N) * benchRecords
	if cpuV10 > 0 {
		b.ReportMetric(float64(cpuAdded)/float64(cpuV10), "added/v10")
		b.ReportMetric(float64(cpuV10.Nanoseconds())/events, "v10-cpu-ns/event")
		b.ReportMetric(float64(cpuAdded.Nanoseconds())/events, "added-cpu-ns/event")
	}
	b.ReportMetric(float64(allocV10)/events, "v10-allocs/event")
	b.ReportMetric(float64(allocAdded)/events, "added-allocs/event")
}
