package brazetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// post sends body to a running server over the network.
func post(ctx context.Context, s *Server, body string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/users/track", strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func incBody(id string) string { return attrs(`"external_id":"` + id + `","n":{"inc":1}`) }

func TestFailNext(t *testing.T) {
	s := NewHandler()
	s.FailNext(2, http.StatusServiceUnavailable)
	for i, want := range []int{503, 503, 201, 201} {
		if got := send(t, s, incBody("u1")); got.status != want {
			t.Errorf("request %d: status %d, want %d", i, got.status, want)
		}
	}
	if n := mustUser(t, s, "u1").Attributes["n"]; n != int64(2) {
		t.Errorf("n = %v, want 2: failed requests must not be applied", n)
	}
	if st := s.Stats(); st.Faults != 2 || st.Accepted != 2 || st.Requests != 4 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFaultHeader(t *testing.T) {
	s := NewHandler()
	s.AddFault(Fault{Status: http.StatusServiceUnavailable, Count: 1, Header: http.Header{"Retry-After": {"7"}}})
	res := send(t, s, incBody("u1"))
	if res.status != 503 || res.header.Get("Retry-After") != "7" {
		t.Errorf("got %d, Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
}

func TestFaultStatusAfterApplying(t *testing.T) {
	s := NewHandler()
	s.AddFault(Fault{Status: http.StatusGatewayTimeout, Apply: true, Count: 1})
	res := send(t, s, incBody("u1"))
	if res.status != 504 || res.resp.Message != "Gateway Timeout" {
		t.Errorf("got %d %+v", res.status, res.resp)
	}
	if n := mustUser(t, s, "u1").Attributes["n"]; n != int64(1) {
		t.Errorf("n = %v: an applied fault must still apply the request", n)
	}
}

func TestFailRandomlyIsDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		s := NewHandler(WithSeed(seed))
		s.FailRandomly(0.3, http.StatusInternalServerError)
		var b strings.Builder
		for range 200 {
			b.WriteString(strconv.Itoa(send(t, s, incBody("u1")).status))
		}
		return b.String()
	}
	a, b := run(7), run(7)
	if a != b {
		t.Fatal("the same seed gave different failures")
	}
	if run(8) == a {
		t.Error("different seeds gave the same failures")
	}
	fails := strings.Count(a, "500")
	if fails < 30 || fails > 90 {
		t.Errorf("%d of 200 failed, want about 60", fails)
	}
}

func TestDelayResponses(t *testing.T) {
	s := NewServer(t)
	s.DelayResponses(80 * time.Millisecond)
	start := time.Now()
	if _, _, err := post(context.Background(), s, incBody("u1")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("answered after %v, want at least 80ms", d)
	}
	// DelayResponses sets the delay rather than adding one; 0 turns it off.
	s.DelayResponses(0)
	start = time.Now()
	if _, _, err := post(context.Background(), s, incBody("u1")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 80*time.Millisecond {
		t.Errorf("answered after %v with the delay turned off", d)
	}
	// A client that gives up does not wait for the whole delay.
	s.DelayResponses(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := post(ctx, s, incBody("u1")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

func TestDisconnect(t *testing.T) {
	for _, applied := range []bool{false, true} {
		t.Run("applied="+strconv.FormatBool(applied), func(t *testing.T) {
			s := NewServer(t)
			s.DisconnectNext(1, applied)
			_, _, err := post(context.Background(), s, `{"events":[{`+ev+`}]}`)
			if err == nil {
				t.Fatal("the client got an answer from a cut connection")
			}
			if got := len(s.Events()); got != map[bool]int{false: 0, true: 1}[applied] {
				t.Errorf("%d events recorded", got)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Status != 0 || len(reqs[0].Notes) == 0 {
				t.Errorf("requests = %+v", reqs)
			}
			// The next request goes through.
			if resp, _, err := post(context.Background(), s, `{"events":[{`+ev+`}]}`); err != nil || resp.StatusCode != 201 {
				t.Errorf("after the cut: %v %v", resp, err)
			}
		})
	}
}

func TestRejectObjects(t *testing.T) {
	s := NewHandler()
	s.RejectExternalIDs(func(id string) bool { return strings.HasPrefix(id, "bad") })
	s.RejectObjects(func(o Object) bool { return o.Array == "events" && o.Fields["name"] == "spam" }, "'name' is not valid")
	res := send(t, s, `{"attributes":[{"external_id":"ok"},{"external_id":"bad1"}],
		"events":[{"external_id":"ok","name":"spam","time":"2024-01-01"},{"external_id":"ok","name":"fine","time":"2024-01-01"}]}`)
	want := []ObjectError{
		{Type: "'external_id' is blacklisted and disallowed", InputArray: "attributes", Index: 1},
		{Type: "'name' is not valid", InputArray: "events", Index: 0},
	}
	if res.status != 201 || len(res.resp.Errors) != 2 || res.resp.Errors[0] != want[0] || res.resp.Errors[1] != want[1] {
		t.Fatalf("got %d %+v", res.status, res.resp)
	}
	if _, ok := s.User("bad1"); ok {
		t.Error("rejected object applied")
	}
	s.ClearFaults()
	mustSend(t, s, attrs(`"external_id":"bad1"`))
}

func TestRateLimit(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) // on a 3 s boundary
	now := base
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	epoch := strconv.FormatInt(base.Add(3*time.Second).Unix(), 10)

	tests := []struct {
		name string
		rl   RateLimit
		ok   map[string]string // headers on the accepted requests (the second one)
		hit  map[string]string // headers on the 429
	}{
		{name: "epoch", rl: RateLimit{Limit: 2, Headers: HeadersEpoch},
			ok:  map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch, "X-RateLimit-Retry-After": ""},
			hit: map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch, "X-RateLimit-Retry-After": ""}},
		{name: "epoch with retry-after", rl: RateLimit{Limit: 2, Headers: HeadersEpoch, RetryAfter: true},
			ok:  map[string]string{"X-RateLimit-Reset": epoch, "X-RateLimit-Retry-After": ""},
			hit: map[string]string{"X-RateLimit-Reset": epoch, "X-RateLimit-Retry-After": "2"}},
		{name: "delta", rl: RateLimit{Limit: 2, Headers: HeadersDelta},
			ok:  map[string]string{"X-RateLimit-Reset": "2", "X-RateLimit-Remaining": "0"},
			hit: map[string]string{"X-RateLimit-Reset": "2", "X-RateLimit-Retry-After": ""}},
		{name: "retry-after only on 429", rl: RateLimit{Limit: 2, Headers: HeadersRetryAfterOnly},
			ok:  map[string]string{"X-RateLimit-Reset": epoch, "X-RateLimit-Limit": "2"},
			hit: map[string]string{"X-RateLimit-Reset": "", "X-RateLimit-Limit": "", "X-RateLimit-Remaining": "", "X-RateLimit-Retry-After": "2"}},
		{name: "no headers", rl: RateLimit{Limit: 2, Headers: HeadersNone},
			ok:  map[string]string{"X-RateLimit-Reset": "", "X-RateLimit-Limit": ""},
			hit: map[string]string{"X-RateLimit-Reset": "", "X-RateLimit-Retry-After": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setNow(base)
			s := NewHandler(WithClock(clock), WithRateLimit(tt.rl))
			first := send(t, s, incBody("u1"))
			if tt.rl.Headers != HeadersNone && first.header.Get("X-RateLimit-Remaining") != "1" {
				t.Errorf("first request: Remaining = %q, want 1", first.header.Get("X-RateLimit-Remaining"))
			}
			setNow(base.Add(1 * time.Second))
			second := send(t, s, incBody("u1"))
			third := send(t, s, incBody("u1"))
			if first.status != 201 || second.status != 201 || third.status != 429 {
				t.Fatalf("statuses %d %d %d, want 201 201 429", first.status, second.status, third.status)
			}
			for name, want := range tt.ok {
				if got := second.header.Get(name); got != want {
					t.Errorf("accepted: %s = %q, want %q", name, got, want)
				}
			}
			for name, want := range tt.hit {
				if got := third.header.Get(name); got != want {
					t.Errorf("429: %s = %q, want %q", name, got, want)
				}
			}
			if n := mustUser(t, s, "u1").Attributes["n"]; n != int64(2) {
				t.Errorf("n = %v: the 429 must not be applied", n)
			}
			setNow(base.Add(3 * time.Second)) // next window
			if res := send(t, s, incBody("u1")); res.status != 201 {
				t.Errorf("next window: %d", res.status)
			}
			if st := s.Stats(); st.RateLimited != 1 {
				t.Errorf("RateLimited = %d", st.RateLimited)
			}
		})
	}
}

func TestRateLimitChangedWhileRunning(t *testing.T) {
	s := NewHandler()
	if res := send(t, s, incBody("u1")); res.header.Get("X-RateLimit-Limit") != "" {
		t.Error("rate-limit headers without a rate limit")
	}
	s.SetRateLimit(RateLimit{Limit: 1, Window: time.Hour})
	send(t, s, incBody("u1"))
	if res := send(t, s, incBody("u1")); res.status != 429 {
		t.Errorf("status %d, want 429", res.status)
	}
	s.SetRateLimit(RateLimit{})
	if res := send(t, s, incBody("u1")); res.status != 201 {
		t.Errorf("status %d after turning the limit off", res.status)
	}
}

func TestAuthFailuresAreNotRateLimited(t *testing.T) {
	s := NewHandler(WithRateLimit(RateLimit{Limit: 1, Window: time.Hour}))
	if res := send(t, s, incBody("u1"), header("Authorization", "Bearer wrong")); res.status != 401 || res.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("bad key: %d %v", res.status, res.header)
	}
	if res := send(t, s, incBody("u1")); res.status != 201 {
		t.Errorf("the 401 used the budget: %d", res.status)
	}
}
