package braze_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// counted yields n attribute updates of distinct users and counts how many
// the sender pulled.
func counted(n int, pulled *int) iter.Seq[braze.Update] {
	return func(yield func(braze.Update) bool) {
		for i := range n {
			*pulled++
			u := braze.Update{Attributes: &braze.UserAttributes{ExternalID: fmt.Sprint("u", i), FirstName: braze.FieldOf("A")}, Ref: i}
			if !yield(u) {
				return
			}
		}
	}
}

var quickRetries = braze.WithRetryPolicy(braze.RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxWait: 10 * time.Millisecond})

// runAll collects TrackAll's results, failing on a duplicate result.
func runAll(t *testing.T, c *braze.Client, ups iter.Seq[braze.Update], opts ...braze.SendOption) map[int]braze.Result {
	t.Helper()
	got := map[int]braze.Result{}
	for r := range c.TrackAll(context.Background(), ups, opts...) {
		i := r.Ref.(int)
		if _, dup := got[i]; dup {
			t.Fatalf("two results for update %d", i)
		}
		got[i] = r
	}
	return got
}

// A wrong key stops TrackAll at the first 401: with one request in flight
// exactly one request is made, the updates pulled so far all get the 401,
// and the rest of the input is never pulled.
func TestRegression_Issue13_WrongKeyStopsTrackAll(t *testing.T) {
	for _, tc := range []struct {
		name        string
		key         string
		concurrency int
		sentinel    error
		status      int
	}{
		{"401 one in flight", "wrong-key", 1, braze.ErrUnauthorized, http.StatusUnauthorized},
		{"401 eight in flight", "wrong-key", 8, braze.ErrUnauthorized, http.StatusUnauthorized},
		{"403 one in flight", "no-permission", 1, braze.ErrForbidden, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := brazetest.NewServer(t, brazetest.WithForbiddenKey("no-permission"))
			c, err := braze.NewClient(tc.key, braze.WithBaseURL(srv.URL), quickRetries)
			if err != nil {
				t.Fatal(err)
			}
			const total = 200_000
			pulled := 0
			start := time.Now()
			got := runAll(t, c, counted(total, &pulled), braze.WithConcurrency(tc.concurrency))
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("TrackAll took %s after a %d", d, tc.status)
			}
			reqs := srv.Requests()
			if tc.concurrency == 1 && len(reqs) != 1 {
				t.Errorf("%d requests, want exactly 1", len(reqs))
			}
			if len(reqs) < 1 || len(reqs) > tc.concurrency {
				t.Errorf("%d requests, want 1 to %d", len(reqs), tc.concurrency)
			}
			for _, r := range reqs {
				if r.Status != tc.status {
					t.Errorf("request %d answered %d", r.Seq, r.Status)
				}
			}
			if pulled >= total || pulled > (tc.concurrency+2)*braze.DefaultBatchSize {
				t.Errorf("pulled %d of %d updates after the first %d", pulled, total, tc.status)
			}
			if len(got) != pulled {
				t.Errorf("%d results for %d updates pulled", len(got), pulled)
			}
			notSent := 0
			for i, r := range got {
				var ae *braze.APIError
				if !errors.Is(r.Err, tc.sentinel) || !errors.As(r.Err, &ae) || ae.StatusCode != tc.status || r.Kind() != braze.ResultFailed {
					t.Fatalf("update %d: err %v, want a %d matching %v", i, r.Err, tc.status, tc.sentinel)
				}
				if errors.Is(r.Err, braze.ErrCircuitOpen) {
					t.Fatalf("update %d: a wrong key reported as an open circuit: %v", i, r.Err)
				}
				var se *braze.StoppedError
				if errors.As(r.Err, &se) && !se.Sent {
					notSent++
				}
			}
			if want := pulled - len(reqs)*braze.DefaultBatchSize; tc.concurrency == 1 && notSent != want {
				t.Errorf("%d updates answered as not sent, want %d", notSent, want)
			}
		})
	}
}

// deadSetup is a fake whose every attempt has its connection cut.
func deadSetup(t *testing.T) (*brazetest.Server, *braze.Client) {
	srv := brazetest.NewServer(t)
	srv.AddFault(brazetest.Fault{Disconnect: true})
	return srv, srv.Client(quickRetries)
}

// A dead endpoint opens the circuit after the configured number of failed
// requests instead of grinding through the whole input.
func TestRegression_Issue13_CircuitBreakerStopsDeadEndpoint(t *testing.T) {
	const failures, concurrency, attempts = 3, 2, 3 // attempts: 1 + MaxRetries
	srv, c := deadSetup(t)
	pulled := 0
	start := time.Now()
	got := runAll(t, c, counted(100_000, &pulled), braze.WithConcurrency(concurrency), braze.WithCircuitBreaker(failures, 0))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("TrackAll took %s against a dead endpoint", d)
	}
	// At most the failures that open the circuit plus the requests in
	// flight beside the last of them, each with its attempts.
	if n, limit := srv.Stats().Requests, (failures+concurrency-1)*attempts; n > limit || n < failures*attempts {
		t.Errorf("%d attempts reached the fake, want %d to %d", n, failures*attempts, limit)
	}
	if len(got) != pulled || pulled >= 100_000 {
		t.Fatalf("%d results, %d updates pulled", len(got), pulled)
	}
	open, failed := 0, 0
	for i, r := range got {
		switch {
		case errors.Is(r.Err, braze.ErrCircuitOpen):
			open++
			var coe *braze.CircuitOpenError
			var re *braze.RequestError
			if !errors.As(r.Err, &coe) || coe.Failures != failures || !errors.As(coe.Last, &re) {
				t.Fatalf("update %d: %v, want the breaker's error wrapping the last request's", i, r.Err)
			}
		case errors.As(r.Err, new(*braze.RequestError)):
			failed++
		default:
			t.Fatalf("update %d: %v", i, r.Err)
		}
	}
	if open == 0 || failed < failures*braze.DefaultBatchSize {
		t.Errorf("%d updates stopped by the breaker, %d failed with their request", open, failed)
	}
}

// The breaker is on by default, and a closed listener (connection
// refused) trips it as a cut connection does.
func TestRegression_Issue13_CircuitBreakerOnByDefault(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	c, err := braze.NewClient("key", braze.WithBaseURL(url), quickRetries)
	if err != nil {
		t.Fatal(err)
	}
	pulled := 0
	start := time.Now()
	got := runAll(t, c, counted(100_000, &pulled), braze.WithConcurrency(1))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("TrackAll took %s against a closed port", d)
	}
	if len(got) != pulled || pulled > (braze.DefaultBreakerFailures+2)*braze.DefaultBatchSize {
		t.Fatalf("%d results, %d updates pulled", len(got), pulled)
	}
	open := 0
	for _, r := range got {
		if errors.Is(r.Err, braze.ErrCircuitOpen) {
			open++
		} else if !errors.As(r.Err, new(*braze.RequestError)) {
			t.Fatalf("update %v: %v", r.Ref, r.Err)
		}
	}
	if open == 0 {
		t.Error("no update reports the open circuit")
	}
}

// An endpoint that hangs opens the circuit on time: the requests in
// flight are abandoned and say that Braze may have processed them.
func TestRegression_Issue13_CircuitBreakerHangingEndpoint(t *testing.T) {
	srv := brazetest.NewServer(t)
	srv.DelayResponses(time.Minute)
	c := srv.Client(quickRetries)
	pulled := 0
	start := time.Now()
	got := runAll(t, c, counted(1000, &pulled), braze.WithConcurrency(2), braze.WithCircuitBreaker(0, 300*time.Millisecond))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("TrackAll took %s against a hanging endpoint", d)
	}
	if srv.Stats().Requests > 2 {
		t.Errorf("%d requests, want at most the 2 in flight", srv.Stats().Requests)
	}
	abandoned := 0
	for _, r := range got {
		var se *braze.StoppedError
		if !errors.Is(r.Err, braze.ErrCircuitOpen) || !errors.As(r.Err, &se) {
			t.Fatalf("update %v: %v", r.Ref, r.Err)
		}
		if se.Sent {
			abandoned++
			if se.NotApplied() {
				t.Errorf("an abandoned request claims it was not applied: %v", se)
			}
		}
	}
	if len(got) != pulled || abandoned == 0 {
		t.Errorf("%d results of %d pulled, %d abandoned in flight", len(got), pulled, abandoned)
	}
}

// Objects Braze rejects (here a whole request answered 400, every object
// refused for its own reason) are not an outage: the breaker stays shut.
func TestRegression_Issue13_CircuitBreakerIgnoresRejects(t *testing.T) {
	srv := brazetest.NewServer(t)
	c := srv.Client(quickRetries, braze.WithoutValidation())
	ups := func(yield func(braze.Update) bool) {
		for i := range 1000 {
			a := &braze.UserAttributes{ExternalID: fmt.Sprint("u", i), Gender: braze.FieldOf(braze.Gender("x"))}
			if !yield(braze.Update{Attributes: a, Ref: i}) {
				return
			}
		}
	}
	got := runAll(t, c, ups, braze.WithConcurrency(1), braze.WithCircuitBreaker(2, 0))
	if len(got) != 1000 {
		t.Fatalf("%d results", len(got))
	}
	for i, r := range got {
		if r.Kind() != braze.ResultRejected || errors.Is(r.Err, braze.ErrCircuitOpen) {
			t.Fatalf("update %d: %v", i, r.Err)
		}
	}
}

// Failures separated by successes never add up to an open circuit, and
// WithCircuitBreaker(0, 0) turns the breaker off.
func TestCircuitBreakerResetAndOff(t *testing.T) {
	// Every other request fails (no retries): never two in a row.
	fake := brazetest.NewHandler()
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	c, err := braze.NewClient(fake.APIKey(), braze.WithBaseURL(ts.URL), braze.WithRetryPolicy(braze.RetryPolicy{MaxRetries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	pulled := 0
	got := runAll(t, c, counted(20*braze.DefaultBatchSize, &pulled), braze.WithConcurrency(1), braze.WithCircuitBreaker(2, 0))
	if len(got) != 20*braze.DefaultBatchSize || n.Load() != 20 {
		t.Fatalf("%d results, %d requests", len(got), n.Load())
	}
	for i, r := range got {
		if errors.Is(r.Err, braze.ErrCircuitOpen) {
			t.Fatalf("update %d: %v", i, r.Err)
		}
	}

	srv2, c2 := deadSetup(t)
	pulled = 0
	got = runAll(t, c2, counted(10*braze.DefaultBatchSize, &pulled), braze.WithConcurrency(1), braze.WithCircuitBreaker(0, 0))
	if len(got) != 10*braze.DefaultBatchSize || srv2.Stats().Requests != 10*3 {
		t.Errorf("breaker off: %d results, %d attempts", len(got), srv2.Stats().Requests)
	}
}
