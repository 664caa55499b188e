package braze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewClientBaseURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://rest.iad-03.braze.com", true},
		{"https://rest.iad-03.braze.com/", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:1", true},
		{"http://[::1]:9", true},
		{"http://rest.iad-03.braze.com", false},
		{"http://10.0.0.1", false},
		{"ftp://x", false},
		{"not a url", false},
		{"https://user:pw@host", false},
	} {
		_, err := NewClient(testKey, WithBaseURL(tc.url))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
	if _, err := NewClient(testKey, WithBaseURL("http://10.0.0.1"), WithInsecureHTTP()); err != nil {
		t.Errorf("WithInsecureHTTP: %v", err)
	}
	for _, k := range []string{"", "  ", `"quoted"`} {
		if _, err := NewClient(k); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

// The API key must not appear in any error, log line or fmt output, even
// when a hostile server echoes it back.
func TestAPIKeyNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch r.URL.Query().Get("x") {
		}
		w.Header().Set("X-Echo", auth)
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"message":"bad key %s","errors":[{"type":"%s","input_array":"attributes","index":0}]}`, auth, auth)
	})
	c, srv := newTestClient(t, echo, WithLogger(logger))
	var out []string
	_, err := c.Track(context.Background(), attrsReq("u1"))
	out = append(out, err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err))
	// 2xx with the key in a non-success message.
	c2, _ := newTestClient(t, &recorder{answer: answerStatus(201, `{"message":"`+testKey+`"}`, nil)}, WithLogger(logger))
	_, err = c2.Track(context.Background(), attrsReq("u1"))
	out = append(out, err.Error(), fmt.Sprintf("%+v", err))
	// Transport failure.
	srv.Close()
	_, err = c.Track(context.Background(), attrsReq("u1"))
	out = append(out, err.Error())
	// Results of the streaming sender.
	for r := range c.TrackAll(context.Background(), func(yield func(Update) bool) {
		yield(Update{Attributes: &UserAttributes{ExternalID: "u"}})
	}) {
		out = append(out, r.Err.Error())
	}
	out = append(out, fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logs.String())
	for _, s := range out {
		if strings.Contains(s, testKey) {
			t.Errorf("key leaked: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "braze") {
		t.Error("expected log output to check")
	}
}

func TestSilentByDefault(t *testing.T) {
	// The default logger discards; nothing to assert but that it is set.
	c, _ := NewClient(testKey, WithInstance("US-01"))
	if c.logger == nil || c.logger.Enabled(context.Background(), slog.LevelError) {
		t.Error("default logger is not silent")
	}
}

func TestRetryPolicyDefaultsAndDisable(t *testing.T) {
	rec := &recorder{answer: answerStatus(503, ``, nil)}
	c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxRetries: -1}))
	if _, err := c.Track(context.Background(), attrsReq("u")); !isAPI(503)(err) || rec.requests() != 1 {
		t.Errorf("err %v after %d requests, want one attempt", err, rec.requests())
	}
	c2, _ := NewClient(testKey, WithInstance("US-01"), WithRetryPolicy(RetryPolicy{Ambiguous: RetryAlways}))
	if c2.retry.MaxRetries != 5 || c2.retry.MinBackoff != 500*time.Millisecond || c2.retry.Ambiguous != RetryAlways {
		t.Errorf("policy %+v", c2.retry)
	}
	if _, err := NewClient(testKey, WithInstance("US-01"), WithRetryPolicy(RetryPolicy{MaxWait: -1})); err == nil {
		t.Error("negative MaxWait accepted")
	}
}

// The key never reaches fmt or slog, also through a copy of the Client
// (the fields of a struct printed by value are formatted by reflection,
// which does not call their String methods).
func TestRegression_Issue17_KeyNotPrintedFromCopiedClient(t *testing.T) {
	c, _ := newTestClient(t, &recorder{})
	cp := *c // what a careless caller prints
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("client", "value", cp, "pointer", c, "key", c.key)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("client", "value", cp, "pointer", c)
	out := []string{
		fmt.Sprintf("%v|%+v|%#v", cp, cp, cp),
		fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", c.key, c.key, c.key, c.key, c.key, c.key),
		text.String(), js.String(),
	}
	for _, s := range out {
		if strings.Contains(s, testKey) {
			t.Errorf("key printed: %s", s)
		}
	}
	// The key still works.
	if _, err := c.Track(context.Background(), attrsReq("u1")); err != nil {
		t.Fatal(err)
	}
}

// NewClient does not guess an instance: a key sent to the wrong cluster is
// answered 401.
func TestRegression_Issue17_NewClientRequiresEndpoint(t *testing.T) {
	if _, err := NewClient(testKey); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("no endpoint: err = %v, want ErrNoEndpoint", err)
	}
	if _, err := NewClient(testKey, WithBaseURL("")); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("empty base URL: err = %v, want ErrNoEndpoint", err)
	}
	if c, err := NewClient(testKey, WithInstance("EU-01")); err != nil || c.Endpoint() != "https://rest.fra-01.braze.eu/users/track" {
		t.Errorf("WithInstance: %v", err)
	}
}

// Errors a program's user sees (a missing or unknown instance, a bad
// endpoint URL or rate) name the setting, not only the Go option.
func TestRegression_Issue17_UserFacingErrorsNameTheSetting(t *testing.T) {
	_, noEndpoint := NewClient(testKey)
	_, unknown := NewClient(testKey, WithInstance("US-99"))
	_, plainHTTP := NewClient(testKey, WithBaseURL("http://rest.example.com"))
	_, rate := NewClient(testKey, WithInstance("US-01"), WithRateLimit(0, time.Second))
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{noEndpoint, []string{"instance", "-instance", "WithInstance", "REST endpoint URL", "-endpoint", "WithBaseURL"}},
		{unknown, []string{`"US-99"`, "US-01", "EU-02", "dashboard URL", "-endpoint", "WithBaseURL"}},
		{plainHTTP, []string{"http://rest.example.com", "clear text", "use https://"}},
		{rate, []string{"0 requests per 1s", "-rate", "WithRateLimit"}},
	} {
		if tc.err == nil {
			t.Errorf("no error, want one naming %v", tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(tc.err.Error(), w) {
				t.Errorf("%q lacks %q", tc.err, w)
			}
		}
	}
}
