package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/cputime"
)

var (
	benchN   = flag.Int("braze.n", 100_000, "attribute objects per BenchmarkTrackAll iteration (record at 1000000)")
	benchRLN = flag.Int("braze.rln", 67_500, "objects per BenchmarkTrackAllRateLimited iteration (22,500 per second of run)")
)

const benchConcurrency = 16

type noLimit struct{}

func (noLimit) Wait(ctx context.Context) error { return ctx.Err() }

// minimalServer reads the body and answers success with the number of
// attribute objects, nothing else.
func minimalServer() http.Handler {
	marker := []byte(`"external_id"`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := bytes.Count(body, marker)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"message":"success","attributes_processed":%d}`, n)
	})
}

func benchTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return t
}

// mallocs returns the process-wide allocation count.
func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

func BenchmarkTrackAll(b *testing.B) {
	n := *benchN
	srv := httptest.NewServer(minimalServer())
	defer srv.Close()
	tiers := []string{"gold", "silver", "bronze"}

	b.Run("sdk", func(b *testing.B) {
		c, err := NewClient(testKey, WithBaseURL(srv.URL), WithLimiter(noLimit{}), WithHTTPClient(&http.Client{Transport: benchTransport()}))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		m0, c0 := mallocs(), cputime.Process()
		start := time.Now()
		for b.Loop() {
			updates := func(yield func(Update) bool) {
				for i := range n {
					a := &UserAttributes{ExternalID: "user-" + strconv.Itoa(i), FirstName: FieldOf("Jon"), Email: FieldOf("jon@example.com")}
					a.Set("loyalty_tier", tiers[i%3])
					a.Set("points", int64(i))
					if !yield(Update{Attributes: a, Ref: i}) {
						return
					}
				}
			}
			got := 0
			for r := range c.TrackAll(ctx, updates, WithConcurrency(benchConcurrency)) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
				got++
			}
			if got != n {
				b.Fatalf("%d results for %d objects", got, n)
			}
		}
		report(b, n, m0, c0, start)
	})

	b.Run("baseline", func(b *testing.B) {
		hc := &http.Client{Transport: benchTransport()}
		b.ReportAllocs()
		m0, c0 := mallocs(), cputime.Process()
		start := time.Now()
		for b.Loop() {
			if got := baselineSend(hc, srv.URL+"/users/track", n, tiers); got != n {
				b.Fatalf("%d accepted of %d", got, n)
			}
		}
		report(b, n, m0, c0, start)
	})
}

// report adds objects/s, allocs/object and cpu-ns/object (CPU time of the
// whole process, the in-process server included, per object).
func report(b *testing.B, n int, m0 uint64, c0 time.Duration, start time.Time) {
	objs := float64(n) * float64(b.N)
	b.ReportMetric(objs/time.Since(start).Seconds(), "objects/s")
	b.ReportMetric(float64(mallocs()-m0)/objs, "allocs/object")
	if c := cputime.Process(); c > 0 {
		b.ReportMetric(float64(c-c0)/objs, "cpu-ns/object")
	}
}

// baselineSend is the minimal hand-written sender: plain maps,
// encoding/json, net/http POST, batches of 75, the same concurrency.
func baselineSend(hc *http.Client, url string, n int, tiers []string) int {
	batches := make(chan []map[string]any, benchConcurrency)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				body, err := json.Marshal(map[string]any{"attributes": batch})
				if err != nil {
					panic(err)
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+testKey)
				resp, err := hc.Do(req)
				if err != nil {
					panic(err)
				}
				var out struct {
					Message string `json:"message"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err == nil && out.Message == "success" {
					accepted.Add(int64(len(batch)))
				}
			}
		}()
	}
	batch := make([]map[string]any, 0, 75)
	for i := range n {
		batch = append(batch, map[string]any{
			"external_id": "user-" + strconv.Itoa(i), "first_name": "Jon", "email": "jon@example.com",
			"loyalty_tier": tiers[i%3], "points": int64(i),
		})
		if len(batch) == 75 {
			batches <- batch
			batch = make([]map[string]any, 0, 75)
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	return int(accepted.Load())
}

// BenchmarkTrackAllRateLimited sends at a limit of 300 requests/s to a
// server that fails 5% of requests with 429 or 503, and reports how much
// of the limit was used (attempts per second / 300) and how many objects
// were not accepted.
func BenchmarkTrackAllRateLimited(b *testing.B) {
	const limit = 300
	n := *benchRLN
	var requests atomic.Int64
	inner := minimalServer()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if rand.IntN(100) < 5 {
			io.Copy(io.Discard, r.Body)
			if rand.IntN(2) == 0 {
				w.WriteHeader(http.StatusTooManyRequests)
			} else {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := NewClient(testKey, WithBaseURL(srv.URL), WithRateLimit(limit, time.Second),
		WithRetryPolicy(RetryPolicy{MaxRetries: 10, MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}))
	if err != nil {
		b.Fatal(err)
	}
	var totalReq, lost int64
	var elapsed time.Duration
	for b.Loop() {
		requests.Store(0)
		start := time.Now()
		updates := func(yield func(Update) bool) {
			for i := range n {
				if !yield(Update{Attributes: &UserAttributes{ExternalID: "user-" + strconv.Itoa(i), FirstName: FieldOf("Jon")}, Ref: i}) {
					return
				}
			}
		}
		got := 0
		for r := range c.TrackAll(context.Background(), updates, WithConcurrency(32)) {
			got++
			if r.Err != nil {
				lost++
			}
		}
		elapsed += time.Since(start)
		totalReq += requests.Load()
		if got != n {
			b.Fatalf("%d results for %d objects", got, n)
		}
	}
	b.ReportMetric(float64(totalReq)/elapsed.Seconds()/limit*100, "%limit")
	b.ReportMetric(float64(lost), "lost-objects")
	b.ReportMetric(float64(totalReq)/elapsed.Seconds(), "req/s")
}
