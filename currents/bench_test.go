package currents_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/internal/cputime"
	"github.com/hamba/avro/v2/ocf"
	"github.com/linkedin/goavro/v2"
)

// benchRecords is the workload: 100,000 synthetic
// users.messages.email.Send records, 15,000 per block as Braze writes them.
const benchRecords = 100_000

type benchFile struct {
	data    []byte
	rawSize int64 // uncompressed block bytes, for MB/s
}

var benchFiles = sync.OnceValue(func() map[string]benchFile {
	recs := make([]map[string]any, benchRecords)
	for i := range recs {
		r := map[string]any{
			"id":                     fmt.Sprintf("%08x-58cc-4372-a567-0e02b2c3d479", i),
			"user_id":                fmt.Sprintf("639a35d192b0df00%08x", i),
			"external_user_id":       fmt.Sprintf("customer-%d", i),
			"time":                   1780000000 + i%86400,
			"timezone":               "America/New_York",
			"campaign_id":            "f47ac10b-58cc-4372-a567-0e02b2c3d479",
			"campaign_name":          "Spring sale announcement",
			"message_variation_id":   "a1a2a3a4-58cc-4372-a567-0e02b2c3d479",
			"message_variation_name": "Variant A",
			"email_address":          fmt.Sprintf("customer%d@example.com", i),
			"send_id":                fmt.Sprintf("send-%d", i/1000),
			"ip_pool":                "pool-1",
			"message_extras":         `{"segment":"loyal","tier":"gold"}`,
			"app_group_id":           "5f1e2d3c4b5a69788796a5b4",
			"from_domain":            "mail.example.com",
		}
		if i%4 == 0 { // some canvas sends instead of campaign sends
			delete(r, "campaign_id")
			delete(r, "campaign_name")
			r["canvas_id"] = "0c0c0c0c-58cc-4372-a567-0e02b2c3d479"
			r["canvas_name"] = "Welcome journey"
			r["canvas_step_id"] = "5e5e5e5e-58cc-4372-a567-0e02b2c3d479"
			r["canvas_step_name"] = "Day 1 email"
		}
		recs[i] = r
	}
	out := map[string]benchFile{}
	for _, codec := range []string{"null", "deflate"} {
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, emailSend, recs, currentstest.WithCodec(codec), currentstest.WithBlockRecords(15000)); err != nil {
			panic(err)
		}
		s := currents.NewDecoder().NewScanner(bytes.NewReader(buf.Bytes()), emailSend)
		for s.Next() {
		}
		out[codec] = benchFile{data: buf.Bytes(), rawSize: s.Stats().DecodedBlockBytes}
	}
	return out
})

// hambaEmailSend is what a hamba/avro user would write for the email Send
// schema: nullable fields must be pointers for hamba to decode unions.
type hambaEmailSend struct {
	ID                   string  `avro:"id"`
	UserID               string  `avro:"user_id"`
	DispatchID           *string `avro:"dispatch_id"`
	ExternalUserID       *string `avro:"external_user_id"`
	Time                 int     `avro:"time"`
	Timezone             *string `avro:"timezone"`
	CampaignID           *string `avro:"campaign_id"`
	CampaignName         *string `avro:"campaign_name"`
	MessageVariationID   *string `avro:"message_variation_id"`
	MessageVariationName *string `avro:"message_variation_name"`
	EmailAddress         string  `avro:"email_address"`
	CanvasID             *string `avro:"canvas_id"`
	CanvasName           *string `avro:"canvas_name"`
	CanvasVariationID    *string `avro:"canvas_variation_id"`
	CanvasVariationName  *string `avro:"canvas_variation_name"`
	CanvasStepID         *string `avro:"canvas_step_id"`
	CanvasStepName       *string `avro:"canvas_step_name"`
	SendID               *string `avro:"send_id"`
	IPPool               *string `avro:"ip_pool"`
	MessageExtras        *string `avro:"message_extras"`
	AppGroupID           *string `avro:"app_group_id"`
	FromDomain           *string `avro:"from_domain"`
}

// BenchmarkDecodeEmailSend compares, on the same file, the typed decoder
// with hamba/avro's OCF decoder (into map[string]any and into a plain
// struct) and linkedin/goavro. One op decodes the whole 100,000-record
// file; MB/s counts uncompressed record bytes. cpu-ns/event is the
// process CPU time (all threads, GC included) per event, which a busy
// machine disturbs less than wall time.
func BenchmarkDecodeEmailSend(b *testing.B) {
	files := benchFiles()
	decoders := []struct {
		name string
		run  func(b *testing.B, data []byte) int
	}{
		{"typed", func(b *testing.B, data []byte) int {
			n := 0
			dec := currents.NewDecoder()
			for ev, err := range dec.Events(bytes.NewReader(data), emailSend) {
				if err != nil {
					b.Fatal(err)
				}
				n += len(ev.(*currents.EmailSend).ID)
			}
			return n
		}},
		{"baseline-hamba-struct", func(b *testing.B, data []byte) int {
			d, err := ocf.NewDecoder(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for d.HasNext() {
				var v hambaEmailSend
				if err := d.Decode(&v); err != nil {
					b.Fatal(err)
				}
				n += len(v.ID)
			}
			if d.Error() != nil {
				b.Fatal(d.Error())
			}
			return n
		}},
		{"baseline-hamba-map", func(b *testing.B, data []byte) int {
			d, err := ocf.NewDecoder(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for d.HasNext() {
				var v map[string]any
				if err := d.Decode(&v); err != nil {
					b.Fatal(err)
				}
				n += len(v["id"].(string))
			}
			if d.Error() != nil {
				b.Fatal(d.Error())
			}
			return n
		}},
		{"baseline-goavro", func(b *testing.B, data []byte) int {
			r, err := goavro.NewOCFReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for r.Scan() {
				v, err := r.Read()
				if err != nil {
					b.Fatal(err)
				}
				n += len(v.(map[string]any)["id"].(string))
			}
			if r.Err() != nil {
				b.Fatal(r.Err())
			}
			return n
		}},
	}
	for _, codec := range []string{"null", "deflate"} {
		f := files[codec]
		for _, d := range decoders {
			b.Run(codec+"/"+d.name, func(b *testing.B) {
				if got := d.run(b, f.data); got != benchRecords*36 {
					b.Fatalf("decoded %d id bytes, want %d", got, benchRecords*36)
				}
				b.SetBytes(f.rawSize)
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				cpu0 := cputime.Process()
				b.ResetTimer()
				for b.Loop() {
					d.run(b, f.data)
				}
				b.StopTimer()
				cpu := cputime.Process() - cpu0
				runtime.ReadMemStats(&m1)
				events := float64(b.N) * benchRecords
				if cpu > 0 {
					b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
				}
				b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/events, "allocs/event")
			})
		}
	}
}
