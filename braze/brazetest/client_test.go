package brazetest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// fastRetries keeps client retry tests short.
var fastRetries = braze.WithRetryPolicy(braze.RetryPolicy{MaxRetries: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})

func attrsFor(t *testing.T, id string, kv ...any) *braze.UserAttributes {
	t.Helper()
	a := &braze.UserAttributes{ExternalID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		if err := a.Set(kv[i].(string), kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// TestClientRoundTrip sends through the real braze.Client and checks the
// fake's view of the result.
func TestClientRoundTrip(t *testing.T) {
	srv := brazetest.NewServer(t)
	c := srv.Client()
	dob := braze.Date{Year: 1988, Month: time.February, Day: 14}
	resp, err := c.Track(context.Background(), braze.TrackRequest{
		Attributes: []*braze.UserAttributes{attrsFor(t, "u1", "first_name", "Jon", "dob", dob, "visits", int64(3), "tags", []string{"a", "b"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || resp.AttributesProcessed != 1 {
		t.Errorf("response = %+v", resp)
	}
	u, ok := srv.User("u1")
	if !ok {
		t.Fatal("no profile")
	}
	for k, want := range map[string]any{"first_name": "Jon", "dob": "1988-02-14", "visits": int64(3)} {
		if u.Attributes[k] != want {
			t.Errorf("%s = %#v, want %#v", k, u.Attributes[k], want)
		}
	}
	r := srv.Requests()[0]
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("client sent Content-Type %q", r.Header.Get("Content-Type"))
	}
}

// TestClientRetriesInjectedFaults checks the fault injection from the
// client's side: a 503 is retried, a 401 is not.
func TestClientRetriesInjectedFaults(t *testing.T) {
	srv := brazetest.NewServer(t)
	c := srv.Client(fastRetries)
	srv.FailNext(2, http.StatusServiceUnavailable)
	resp, err := c.Track(context.Background(), braze.TrackRequest{Attributes: []*braze.UserAttributes{attrsFor(t, "u1", "s", "x")}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 3 {
		t.Errorf("attempts = %d, want 3", resp.Attempts)
	}
	if st := srv.Stats(); st.Faults != 2 || st.Accepted != 1 {
		t.Errorf("stats = %+v", st)
	}

	bad, err := braze.NewClient("wrong-key", braze.WithBaseURL(srv.URL), fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Track(context.Background(), braze.TrackRequest{Attributes: []*braze.UserAttributes{attrsFor(t, "u1", "s", "y")}})
	var apiErr *braze.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *braze.APIError", err)
	}
	if u, _ := srv.User("u1"); u.Attributes["s"] != "x" {
		t.Error("a request with a wrong key was applied")
	}
}
