package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func attrsReq(ids ...string) TrackRequest {
	var r TrackRequest
	for _, id := range ids {
		r.Attributes = append(r.Attributes, &UserAttributes{ExternalID: id, FirstName: Value("A")})
	}
	return r
}

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

func TestInstances(t *testing.T) {
	for in, want := range map[string]string{
		"US-03":                                 "https://rest.iad-03.braze.com",
		"us-10":                                 "https://rest.us-10.braze.com",
		"dashboard-10.braze.com":                "https://rest.us-10.braze.com",
		"https://dashboard.us-10.braze.com/app": "https://rest.us-10.braze.com",
		"https://dashboard-02.braze.eu":         "https://rest.fra-02.braze.eu",
		"EU-01":                                 "https://rest.fra-01.braze.eu",
		"AU-01":                                 "https://rest.au-01.braze.com",
		"ID-01":                                 "https://rest.id-01.braze.com",
		"JP-01":                                 "https://rest.jp-01.braze.com",
		"dashboard.kr-01.braze.com":             "https://rest.kr-01.braze.com",
		"dashboard-08.braze.com":                "https://rest.iad-08.braze.com",
	} {
		c, err := NewClient(testKey, WithInstance(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if c.Endpoint() != want+"/users/track" {
			t.Errorf("%s: endpoint %s, want %s", in, c.Endpoint(), want)
		}
	}
	if _, err := NewClient(testKey, WithInstance("US-09")); err == nil {
		t.Error("US-09 accepted")
	}
	if len(Instances()) != 15 {
		t.Errorf("got %d instances", len(Instances()))
	}
}

func TestTrackSuccessAndHeaders(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec, WithBulkHeader())
	resp, err := c.Track(context.Background(), attrsReq("u1"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message != "success" || resp.Attempts != 1 || resp.StatusCode != 201 {
		t.Errorf("resp = %+v", resp)
	}
	h := rec.heads[0]
	if h.Get("Authorization") != "Bearer "+testKey || h.Get("Content-Type") != "application/json" || h.Get("X-Braze-Bulk") != "true" {
		t.Errorf("headers = %v", h)
	}
	if string(rec.bodies[0]) != `{"attributes":[{"external_id":"u1","first_name":"A"}]}` {
		t.Errorf("body = %s", rec.bodies[0])
	}
	// No bulk header by default, never "false".
	rec2 := &recorder{}
	c2, _ := newTestClient(t, rec2)
	if _, err := c2.Track(context.Background(), attrsReq("u1")); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec2.heads[0]["X-Braze-Bulk"]; ok {
		t.Error("X-Braze-Bulk sent without opt-in")
	}
}

func answerStatus(status int, body string, hdr map[string]string) func(int, map[string]json.RawMessage, http.ResponseWriter) {
	return func(_ int, _ map[string]json.RawMessage, w http.ResponseWriter) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestStatusPaths(t *testing.T) {
	for _, tc := range []struct {
		status   int
		body     string
		attempts int
		check    func(error) bool
	}{
		{400, `{"message":"Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."}`, 1, func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.StatusCode == 400 && strings.HasPrefix(ae.Message, "Valid data") && !ae.Retryable()
		}},
		{401, `{"message":"Invalid API key"}`, 1, isAPI(401)},
		{403, `{"message":"forbidden"}`, 1, isAPI(403)},
		{404, `not found`, 1, isAPI(404)},
		{500, `{"message":"boom"}`, 4, isAPI(500)},
		{502, `<html>bad gateway</html>`, 4, isAPI(502)},
		{503, ``, 4, isAPI(503)},
		{504, `{}`, 4, isAPI(504)},
		{429, `{"message":"rate limited"}`, 4, func(err error) bool {
			var rl *RateLimitError
			var ae *APIError
			return errors.As(err, &rl) && errors.As(err, &ae) && ae.StatusCode == 429 && ae.Attempts == 4
		}},
		{201, `{"message":"Valid data must be provided"}`, 1, isAPI(201)},
		{200, `{"attributes_processed":1}`, 1, isAPI(200)},
		{201, `not json`, 1, func(err error) bool {
			var re *RequestError
			return errors.As(err, &re) && re.Ambiguous && re.Op == "parse response"
		}},
	} {
		t.Run(fmt.Sprintf("%d_%s", tc.status, tc.body), func(t *testing.T) {
			rec := &recorder{answer: answerStatus(tc.status, tc.body, nil)}
			c, _ := newTestClient(t, rec)
			_, err := c.Track(context.Background(), attrsReq("u1"))
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if rec.requests() != tc.attempts {
				t.Errorf("%d attempts, want %d", rec.requests(), tc.attempts)
			}
		})
	}
}

func isAPI(status int) func(error) bool {
	return func(err error) bool {
		var ae *APIError
		return errors.As(err, &ae) && ae.StatusCode == status
	}
}

func TestQueuedIsSuccess(t *testing.T) {
	c, _ := newTestClient(t, &recorder{answer: answerStatus(201, `{"message":"queued"}`, nil)})
	if _, err := c.Track(context.Background(), attrsReq("u1")); err != nil {
		t.Fatal(err)
	}
}

// Each 429 header form makes the client wait what the server asked, then
// succeed.
func TestRateLimitHeaderForms(t *testing.T) {
	for name, hdr := range map[string]func() map[string]string{
		"retry-after-braze": func() map[string]string { return map[string]string{"X-RateLimit-Retry-After": "0.2"} },
		"reset-delta": func() map[string]string {
			return map[string]string{"X-RateLimit-Reset": "0.2", "X-RateLimit-Remaining": "0"}
		},
		"reset-epoch": func() map[string]string {
			return map[string]string{"X-RateLimit-Reset": strconv.FormatFloat(float64(time.Now().Add(200*time.Millisecond).UnixMilli())/1000, 'f', 3, 64)}
		},
		"retry-after-std": func() map[string]string { return map[string]string{"Retry-After": "1"} },
		"none":            func() map[string]string { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			var first time.Time
			rec := &recorder{answer: func(n int, _ map[string]json.RawMessage, w http.ResponseWriter) {
				if n == 1 {
					first = time.Now()
					for k, v := range hdr() {
						w.Header().Set(k, v)
					}
					w.WriteHeader(429)
					return
				}
				w.WriteHeader(201)
				io.WriteString(w, `{"message":"success"}`)
			}}
			c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxWait: 2 * time.Second}))
			if _, err := c.Track(context.Background(), attrsReq("u1")); err != nil {
				t.Fatal(err)
			}
			waited := time.Since(first)
			if name != "none" && waited < 150*time.Millisecond {
				t.Errorf("waited %v, want the server's wait", waited)
			}
			if waited > 3*time.Second {
				t.Errorf("waited %v", waited)
			}
		})
	}
}

// Absurd rate-limit headers must not make the client sleep for long.
func TestHostileRateLimitHeaders(t *testing.T) {
	for name, h := range map[string]map[string]string{
		"reset-far-future": {"X-RateLimit-Reset": "99999999999", "X-RateLimit-Remaining": "0"},
		"reset-negative":   {"X-RateLimit-Reset": "-5", "X-RateLimit-Remaining": "0"},
		"reset-garbage":    {"X-RateLimit-Reset": "soon", "X-RateLimit-Remaining": "zero"},
		"retry-after-huge": {"X-RateLimit-Retry-After": "1e300"},
		"retry-after-nan":  {"X-RateLimit-Retry-After": "NaN", "Retry-After": "Inf"},
		"reset-epoch-year": {"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(365*24*time.Hour).Unix(), 10), "X-RateLimit-Remaining": "0"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{answer: func(n int, _ map[string]json.RawMessage, w http.ResponseWriter) {
				for k, v := range h {
					w.Header().Set(k, v)
				}
				if n == 1 {
					w.WriteHeader(429)
					return
				}
				w.WriteHeader(201)
				io.WriteString(w, `{"message":"success"}`)
			}}
			c, _ := newTestClient(t, rec) // MaxWait 50ms
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := c.Track(ctx, attrsReq("u1"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Track(ctx, attrsReq("u2")); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	rec := &recorder{answer: answerStatus(503, ``, map[string]string{"X-RateLimit-Retry-After": "30"})}
	c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxRetries: 10, MaxWait: time.Minute}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Track(ctx, attrsReq("u1"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if rec.requests() > 1 {
		t.Errorf("%d requests", rec.requests())
	}
}

// A server that reads the request and drops the connection causes an
// ambiguous failure: retried for idempotent attribute updates, not for
// events (unless the caller opts in).
func TestAmbiguousFailurePolicy(t *testing.T) {
	var calls atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	})
	ev := TrackRequest{Events: []*Event{{UserRef: UserRef{ExternalID: "u1"}, Name: "e", Time: time.Now()}}}
	inc := &UserAttributes{ExternalID: "u1"}
	must(t, inc.Increment("n", 1))
	for _, tc := range []struct {
		name    string
		req     TrackRequest
		policy  AmbiguousRetry
		wantErr bool
	}{
		{"attributes-default", attrsReq("u1"), RetryIdempotent, false},
		{"event-default", ev, RetryIdempotent, true},
		{"inc-default", TrackRequest{Attributes: []*UserAttributes{inc}}, RetryIdempotent, true},
		{"event-always", ev, RetryAlways, false},
		{"attributes-never", attrsReq("u1"), RetryNever, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			c, _ := newTestClient(t, handler, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Ambiguous: tc.policy}))
			_, err := c.Track(context.Background(), tc.req)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				var re *RequestError
				if !errors.As(err, &re) || !re.Ambiguous || re.Attempts != 1 {
					t.Errorf("err = %#v", err)
				}
			}
		})
	}
}

func TestTransportErrorBeforeWriteRetries(t *testing.T) {
	// A closed port: the request is never written, so even events retry.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(testKey, WithBaseURL("http://"+addr), WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	must(t, err)
	_, err = c.Track(context.Background(), TrackRequest{Events: []*Event{{UserRef: UserRef{ExternalID: "u"}, Name: "e", Time: time.Now()}}})
	var re *RequestError
	if !errors.As(err, &re) || re.Ambiguous || re.Attempts != 3 {
		t.Fatalf("err = %#v", err)
	}
}

func TestResponseBodyCap(t *testing.T) {
	big := `{"message":"success","x":"` + strings.Repeat("a", 2<<20) + `"}`
	c, _ := newTestClient(t, &recorder{answer: answerStatus(201, big, nil)}, WithMaxResponseBytes(1<<20))
	_, err := c.Track(context.Background(), attrsReq("u1"))
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("err = %v", err)
	}
	// An endless body is cut at the cap too.
	endless := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for i := 0; i < 1000; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	c2, _ := newTestClient(t, endless, WithMaxResponseBytes(1<<20))
	if _, err := c2.Track(context.Background(), attrsReq("u1")); !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("err = %v", err)
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

// countingLimiter counts Wait calls (one per attempt).
type countingLimiter struct{ n atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error { l.n.Add(1); return ctx.Err() }

func TestLimiterBeforeEveryAttempt(t *testing.T) {
	lim := &countingLimiter{}
	rec := &recorder{answer: func(n int, _ map[string]json.RawMessage, w http.ResponseWriter) {
		if n < 3 {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	}}
	c, _ := newTestClient(t, rec, WithLimiter(lim))
	resp, err := c.Track(context.Background(), attrsReq("u1"))
	must(t, err)
	if lim.n.Load() != 3 || resp.Attempts != 3 {
		t.Errorf("limiter waits %d, attempts %d", lim.n.Load(), resp.Attempts)
	}
	var _ Limiter = rate.NewLimiter(1, 1)
}

// 32 goroutines share one budget: 20 requests per 200 ms.
func TestRateLimiterShared(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	})
	c, _ := newTestClient(t, h, WithRateLimit(20, 200*time.Millisecond))
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2 {
				if _, err := c.Track(context.Background(), attrsReq(fmt.Sprint(g, "-", i))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// 64 requests at 100/s with a burst of 1: at least ~0.63 s.
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("64 requests took %v, limiter not respected", d)
	}
	// A request cannot arrive before its token exists: by start+k*10ms at
	// most k+1 requests (the burst is 1) can have been received, however
	// late the scheduler runs them.
	for _, at := range times {
		k := int(at.Sub(start) / (10 * time.Millisecond))
		n := 0
		for _, t2 := range times {
			if !t2.After(at) {
				n++
			}
		}
		if n > k+2 {
			t.Fatalf("%d requests by %v, budget allows %d", n, at.Sub(start), k+2)
		}
	}
}

func TestRemainingZeroPausesEveryone(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "0.3")
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	})
	c, _ := newTestClient(t, h, WithRetryPolicy(RetryPolicy{MaxWait: 2 * time.Second}))
	_, err := c.Track(context.Background(), attrsReq("a"))
	must(t, err)
	_, err = c.Track(context.Background(), attrsReq("b"))
	must(t, err)
	if d := times[1].Sub(times[0]); d < 250*time.Millisecond {
		t.Errorf("second request after %v, want a pause until reset", d)
	}
}

func TestValidationBeforeSend(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	long := strings.Repeat("x", 256)
	cases := map[string]*UserAttributes{
		"":                      {FirstName: Value("no id")},
		"dob":                   {ExternalID: "u", DOB: Value(Date{2023, 2, 30})},
		"gender":                {ExternalID: "u", Gender: Value(Gender("X"))},
		"email_subscribe":       {ExternalID: "u", EmailSubscribe: Value(SubscriptionStatus("yes"))},
		"push_subscribe":        {ExternalID: "u", PushSubscribe: Value(SubscriptionStatus("maybe"))},
		"country":               {ExternalID: "u", Country: Value("USA")},
		"language":              {ExternalID: "u", Language: Value("english")},
		"time_zone":             {ExternalID: "u", TimeZone: Value("Mars/Olympus Mons")},
		"first_name":            {ExternalID: "u", FirstName: Value(long)},
		"subscription_groups":   {ExternalID: "u", SubscriptionGroups: Value([]SubscriptionGroupState{{GroupID: "g", State: "maybe"}})},
		"current_location":      {ExternalID: "u", CurrentLocation: Value(Location{Latitude: 91})},
		"date_of_first_session": {ExternalID: "u", DateOfFirstSession: Value(time.Date(3001, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	for field, a := range cases {
		_, err := c.Track(context.Background(), TrackRequest{Attributes: []*UserAttributes{{ExternalID: "ok"}, a}})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field || ve.Object != "attributes[1]" || !errors.Is(err, ErrValidation) {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	custom := map[string]any{
		"":         "x",
		"$bad":     "x",
		long:       "x",
		"long_str": long,
		"arr":      make([]string, 26),
		"nested":   map[string]any{"a.b": int64(1)},
		"big":      map[string]any{"k": strings.Repeat("y", 200), "l": bigList()},
	}
	for name, v := range custom {
		a := &UserAttributes{ExternalID: "u"}
		must(t, a.Set(name, v))
		_, err := c.Track(context.Background(), TrackRequest{Attributes: []*UserAttributes{a}})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != name && !strings.HasPrefix(ve.Field, name+".") {
			t.Errorf("custom %q: err = %v", name, err)
		}
	}
	events := map[string]*Event{
		"":                      {Name: "e", Time: time.Now()},
		"name":                  {UserRef: UserRef{ExternalID: "u"}, Time: time.Now()},
		"time":                  {UserRef: UserRef{ExternalID: "u"}, Name: "e"},
		"properties.$x":         {UserRef: UserRef{ExternalID: "u"}, Name: "e", Time: time.Now(), Properties: map[string]any{"$x": 1}},
		"properties.time":       {UserRef: UserRef{ExternalID: "u"}, Name: "e", Time: time.Now(), Properties: map[string]any{"time": 1}},
		"properties.event_name": {UserRef: UserRef{ExternalID: "u"}, Name: "e", Time: time.Now(), Properties: map[string]any{"event_name": 1}},
	}
	for field, e := range events {
		_, err := c.Track(context.Background(), TrackRequest{Events: []*Event{e}})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field || ve.Object != "events[0]" {
			t.Errorf("event %s: err = %v", field, err)
		}
	}
	now := time.Now()
	purchases := map[string]*Purchase{
		"product_id": {UserRef: UserRef{ExternalID: "u"}, Currency: "USD", Price: 1, Time: now},
		"currency":   {UserRef: UserRef{ExternalID: "u"}, ProductID: "p", Currency: "usd", Price: 1, Time: now},
		"quantity":   {UserRef: UserRef{ExternalID: "u"}, ProductID: "p", Currency: "USD", Price: 1, Quantity: 101, Time: now},
		"time":       {UserRef: UserRef{ExternalID: "u"}, ProductID: "p", Currency: "USD", Price: 1},
	}
	for field, p := range purchases {
		_, err := c.Track(context.Background(), TrackRequest{Purchases: []*Purchase{p}})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field || ve.Object != "purchases[0]" {
			t.Errorf("purchase %s: err = %v", field, err)
		}
	}
	if rec.requests() != 0 {
		t.Errorf("%d requests sent despite invalid objects", rec.requests())
	}
	// Validation can be turned off.
	c2, _ := newTestClient(t, rec, WithoutValidation())
	if _, err := c2.Track(context.Background(), TrackRequest{Attributes: []*UserAttributes{cases["country"]}}); err != nil {
		t.Errorf("WithoutValidation: %v", err)
	}
}

func bigList() []any {
	var l []any
	for i := range 600 {
		l = append(l, map[string]any{"id": int64(i), "v": strings.Repeat("z", 200)})
	}
	return l
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

// A redirect is not followed: the key must not reach another server.
func TestRedirectNotFollowed(t *testing.T) {
	other := &recorder{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherSrv.URL+"/users/track", http.StatusTemporaryRedirect)
	})
	c, _ := newTestClient(t, redirect)
	_, err := c.Track(context.Background(), attrsReq("u"))
	if !isAPI(http.StatusTemporaryRedirect)(err) {
		t.Errorf("err = %v", err)
	}
	if other.requests() != 0 {
		t.Error("redirect followed")
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

// A 429 whose wait is cut short by the context deadline keeps its
// meaning: the error is a *RateLimitError and matches
// context.DeadlineExceeded.
func TestRegression_Issue17_RateLimitCutByDeadline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"retry-after header", map[string]string{"X-RateLimit-Retry-After": "30"}},
		{"no header (backoff)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answer: answerStatus(429, `{"message":"rate limited"}`, tc.header)}
			srv := httptest.NewServer(rec)
			t.Cleanup(srv.Close)
			c, err := NewClient(testKey, WithBaseURL(srv.URL), WithRetryPolicy(RetryPolicy{MaxRetries: 5, MinBackoff: 20 * time.Second, MaxBackoff: 30 * time.Second, MaxWait: 30 * time.Second}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = c.Track(ctx, attrsReq("u1"))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Track returned after %s", d)
			}
			var rl *RateLimitError
			if !errors.As(err, &rl) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v (%T), want a *RateLimitError matching context.DeadlineExceeded", err, err)
			}
			if rl.Err == nil || rl.Err.StatusCode != 429 || rl.Err.Attempts != 1 || rec.requests() != 1 {
				t.Errorf("rate limit error %+v after %d requests", rl, rec.requests())
			}
			if tc.header != nil && rl.RetryAfter != 30*time.Second {
				t.Errorf("RetryAfter = %s, want 30s", rl.RetryAfter)
			}
			if !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "deadline") {
				t.Errorf("message %q", err)
			}
		})
	}
}
