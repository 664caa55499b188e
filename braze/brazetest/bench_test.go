package brazetest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/cputime"
)

// benchBody returns a /users/track body of n attribute objects for users
// offset..offset+n-1 of a pool, each with a typical mix of standard and
// custom attributes.
func benchBody(n, offset int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"attributes":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := offset + i
		fmt.Fprintf(&b, `{"external_id":"user-%06d","first_name":"Jon","last_name":"Smith","email":"jon%d@example.com",`+
			`"dob":"1988-02-14","country":"US","loyalty_tier":"gold","lifetime_value":1234.5,"orders":%d,"is_vip":true,`+
			`"favorite_categories":["shoes","bags"]}`, id, id, id%50)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// baselineHandler is the cheapest plausible server: it reads the body and
// answers the success JSON.
var baselineHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"message":"success","attributes_processed":75}`)
})

const benchUsers = 10000

// BenchmarkServer measures requests of 75 attribute objects for a pool of
// 10,000 users (created during an untimed warm-up, so every timed request
// updates existing profiles, as a repeated sync does), the fake against a
// baseline handler that only reads the body and answers success, both
// driven directly through ServeHTTP and through a real loopback connection
// (client and server in this process). req/s is wall-clock; req/cpu-s is
// requests per CPU-second of the whole process, the figure that matters
// with -cpu 1 on a machine shared with other work.
func BenchmarkServer(b *testing.B) {
	bodies := make([][]byte, benchUsers/75)
	for i := range bodies {
		bodies[i] = benchBody(75, i*75)
	}
	handlers := []struct {
		name string
		h    func() http.Handler
	}{
		{"fake", func() http.Handler {
			s := NewHandler(WithRequestHistory(0))
			for _, body := range bodies {
				r := httptest.NewRequest(http.MethodPost, "/users/track", bytes.NewReader(body))
				r.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
				r.Header.Set("Content-Type", "application/json")
				s.ServeHTTP(httptest.NewRecorder(), r)
			}
			if len(s.Users()) != len(bodies)*75 {
				panic("warm-up did not create the user pool")
			}
			return s
		}},
		{"baseline", func() http.Handler { return baselineHandler }},
	}
	for _, h := range handlers {
		b.Run("direct/"+h.name, func(b *testing.B) {
			srv := h.h()
			b.ReportAllocs()
			b.SetBytes(int64(len(bodies[0])))
			i := 0
			cpu0 := cputime.Process()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/users/track", bytes.NewReader(bodies[i%len(bodies)]))
				r.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				if w.Code != http.StatusCreated {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				i++
			}
			reportRates(b, cputime.Process()-cpu0)
		})
	}
	for _, h := range handlers {
		b.Run("loopback/"+h.name, func(b *testing.B) {
			ts := httptest.NewServer(h.h())
			defer ts.Close()
			client := ts.Client()
			b.ReportAllocs()
			b.SetBytes(int64(len(bodies[0])))
			i := 0
			cpu0 := cputime.Process()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+"/users/track", bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("status %d", resp.StatusCode)
				}
				i++
			}
			reportRates(b, cputime.Process()-cpu0)
		})
	}
}

func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/cpu-s")
	}
}
