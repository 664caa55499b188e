package brazetest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentRequests drives the server from many goroutines while faults
// and the rate limit change, and checks that no update is lost (run with
// -race).
func TestConcurrentRequests(t *testing.T) {
	s := NewServer(t)
	const workers, perWorker = 8, 40
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var tweaks sync.WaitGroup
	tweaks.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.RejectExternalIDs(func(string) bool { return false })
			s.SetRateLimit(RateLimit{Limit: 1 << 30, Window: time.Hour})
			_ = s.Users()
			_ = s.Requests()
			_ = s.Stats()
			s.ClearFaults()
			time.Sleep(time.Millisecond)
		}
	})
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				body := fmt.Sprintf(`{"attributes":[{"external_id":"shared","n":{"inc":1}},{"external_id":"w%d","tags":{"add":["t%d"]}}],
					"events":[{"external_id":"shared","name":"e","time":"2024-01-01"}]}`, w, i)
				resp, _, err := post(context.Background(), s, body)
				if err != nil || resp.StatusCode != 201 {
					t.Errorf("worker %d request %d: %v %v", w, i, resp, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	tweaks.Wait()
	if n := mustUser(t, s, "shared").Attributes["n"]; n != int64(workers*perWorker) {
		t.Errorf("n = %v, want %d", n, workers*perWorker)
	}
	if got := len(s.Events()); got != workers*perWorker {
		t.Errorf("%d events, want %d", got, workers*perWorker)
	}
	want := min(perWorker, DefaultArrayMax)
	if tags := mustUser(t, s, "w3").Attributes["tags"].([]string); len(tags) != want {
		t.Errorf("w3 has %d tags, want %d", len(tags), want)
	}
	if st := s.Stats(); st.Requests != workers*perWorker || st.Accepted != workers*perWorker {
		t.Errorf("stats = %+v", st)
	}
}

func TestRequestsRecorded(t *testing.T) {
	s := NewServer(t, WithRequestHistory(2))
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/users/track", strings.NewReader(attrs(fmt.Sprintf(`"external_id":"u%d"`, i))))
		req.Header.Set("Authorization", "Bearer "+s.APIKey())
		req.Header.Set("Content-Type", "application/json")
		if i == 2 {
			req.Header.Set("X-Braze-Bulk", "false") // any value means bulk
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Seq != 2 || reqs[1].Seq != 3 {
		t.Fatalf("kept %+v, want the last two", reqs)
	}
	r := reqs[1]
	if r.Method != "POST" || r.Path != "/users/track" || r.Status != 201 || !strings.Contains(r.Response, `"success"`) {
		t.Errorf("request = %+v", r)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer [REDACTED]" {
		t.Errorf("Authorization recorded as %q", got)
	}
	for _, q := range reqs {
		if strings.Contains(fmt.Sprint(q), s.APIKey()) {
			t.Errorf("the API key appears in a recorded request: %v", q)
		}
	}
	if !r.Bulk() || reqs[0].Bulk() {
		t.Errorf("Bulk() = %v, %v; want false, true", reqs[0].Bulk(), r.Bulk())
	}
	p := r.Payload()
	a := p["attributes"].([]any)[0].(map[string]any)
	if a["external_id"] != "u2" {
		t.Errorf("payload = %v", p)
	}
}

func TestStartAndClose(t *testing.T) {
	s := Start()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q", s.URL)
	}
	resp, _, err := post(context.Background(), s, attrs(`"external_id":"u1"`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("%v %v", resp, err)
	}
	s.Close()
	s.Close() // idempotent
	if _, _, err := post(context.Background(), s, attrs(`"external_id":"u1"`)); err == nil {
		t.Error("a closed server answered")
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := NewHandler()
	s.cfg.maxBodyBytes = 100
	res := send(t, s, attrs(`"external_id":"u1","s":"`+strings.Repeat("x", 200)+`"`))
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d", res.status)
	}
}

func TestRequestHistoryOff(t *testing.T) {
	s := NewHandler(WithRequestHistory(0))
	mustSend(t, s, attrs(`"external_id":"u1"`))
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests kept with history 0", n)
	}
	if st := s.Stats(); st.Requests != 1 || st.Accepted != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPayloadOfNonJSONBody(t *testing.T) {
	s := NewHandler()
	send(t, s, `not json`)
	r := s.Requests()[0]
	if r.Payload() != nil || r.Status != 400 || r.Body != "not json" {
		t.Errorf("request = %+v, payload %v", r, r.Payload())
	}
}

// The request history is bounded by bytes by default, not only by count:
// 10,000 full bodies took close to a gigabyte in a 200,000-row sync.
func TestRegression_Issue17_HistoryBoundedByBytes(t *testing.T) {
	big := func(i int) string {
		return attrs(fmt.Sprintf(`"external_id":"u%d","bio_text":"%s"`, i, strings.Repeat("x", 200)))
	}
	bodyLen := len(big(0))
	limit := int64(50 * bodyLen)
	s := NewHandler(WithRequestHistoryBytes(limit))
	const total = 1000
	for i := range total {
		mustSend(t, s, big(i))
	}
	reqs := s.Requests()
	var kept int64
	for _, r := range reqs {
		kept += r.size()
	}
	if kept > limit || len(reqs) < 10 || len(reqs) >= 50 {
		t.Errorf("kept %d requests, %d bytes, over the %d-byte bound or too few", len(reqs), kept, limit)
	}
	if last := reqs[len(reqs)-1]; last.Seq != total || !strings.Contains(last.Body, fmt.Sprintf(`"u%d"`, total-1)) {
		t.Errorf("newest kept is %d, want %d", last.Seq, total)
	}
	for i := 1; i < len(reqs); i++ {
		if reqs[i].Seq != reqs[i-1].Seq+1 {
			t.Fatalf("history is not the most recent run of requests: %d after %d", reqs[i].Seq, reqs[i-1].Seq)
		}
	}

	// The default bound, and the count bound alongside it.
	d := NewHandler()
	if d.cfg.historyBytes != DefaultRequestHistoryBytes || DefaultRequestHistoryBytes > 128<<20 {
		t.Errorf("default byte bound %d", d.cfg.historyBytes)
	}
	c := NewHandler(WithRequestHistory(3), WithRequestHistoryBytes(0))
	for i := range 10 {
		mustSend(t, c, big(i))
	}
	if reqs := c.Requests(); len(reqs) != 3 || reqs[0].Seq != 8 {
		t.Errorf("count bound: kept %d, first %d", len(reqs), reqs[0].Seq)
	}
	// One request over the whole bound is still kept, alone.
	one := NewHandler(WithRequestHistoryBytes(10))
	mustSend(t, one, big(1))
	mustSend(t, one, big(2))
	if reqs := one.Requests(); len(reqs) != 1 || reqs[0].Seq != 2 {
		t.Errorf("kept %d requests", len(reqs))
	}
	one.Reset()
	if len(one.Requests()) != 0 {
		t.Error("Reset kept requests")
	}
}
