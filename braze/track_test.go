package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func attrsReq(ids ...string) TrackRequest {
	var r TrackRequest
	for _, id := range ids {
		r.Attributes = append(r.Attributes, &UserAttributes{ExternalID: id, FirstName: FieldOf("A")})
	}
	return r
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

// A response body over the cap (Braze answering 201 with a 1 GiB body) is
// cut at the cap, and the reason reaches both the error and the log: the
// status, the limit, what was read and the declared length. Before, the
// error said only "too large" and nothing was logged, so a program's -v
// showed no reason for the failed users.
func TestRegression_Issue17_ResponseTooLargeLoggedWithReason(t *testing.T) {
	const limit = 1 << 20
	huge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(1<<30))
		}
		w.WriteHeader(http.StatusCreated)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 2 * limit / len(chunk) { // past the cap, far short of 1 GiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	for _, tc := range []struct {
		name, query, declared string
		contentLength         int64
	}{
		{"declared 1 GiB", "", "declared length 1073741824 bytes", 1 << 30},
		{"chunked", "?chunked=1", "no declared length", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, srv := newTestClient(t, huge, WithMaxResponseBytes(limit), WithLogger(logger))
			c.endpoint = srv.URL + "/users/track" + tc.query
			_, err := c.Track(context.Background(), attrsReq("u1"))
			if !errors.Is(err, ErrResponseTooLarge) {
				t.Fatalf("err = %v, want ErrResponseTooLarge", err)
			}
			var re *RequestError
			var tl *ResponseTooLargeError
			if !errors.As(err, &re) || !re.Ambiguous || re.Op != "read response" || !errors.As(err, &tl) {
				t.Fatalf("err = %#v", err)
			}
			if *tl != (ResponseTooLargeError{StatusCode: 201, Limit: limit, Read: limit + 1, ContentLength: tc.contentLength}) {
				t.Errorf("ResponseTooLargeError = %+v", *tl)
			}
			for _, want := range []string{"HTTP 201", "over the 1048576-byte limit", "read 1048577 bytes", tc.declared, "may have been processed"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			log := logs.String()
			for _, want := range []string{"level=WARN", "braze: request failed", "status=201", "limit_bytes=1048576", "read_bytes=1048577",
				fmt.Sprintf("content_length=%d", tc.contentLength), "response body too large"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
		})
	}
}

// A body cut by the connection is logged with its status and how much
// was read.
func TestRegression_Issue17_ResponseReadErrorLogged(t *testing.T) {
	cut := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"message":`)
		// Returning short of Content-Length makes the server close the
		// connection: the client reads an unexpected EOF.
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	c, _ := newTestClient(t, cut, WithLogger(logger))
	_, err := c.Track(context.Background(), attrsReq("u1"))
	var re *RequestError
	if !errors.As(err, &re) || re.Op != "read response" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "HTTP 201, body cut after 11 bytes") {
		t.Errorf("err = %v", err)
	}
	for _, want := range []string{"level=WARN", "status=201", "read_bytes=11", "unexpected EOF"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestValidationBeforeSend(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	long := strings.Repeat("x", 256)
	cases := map[string]*UserAttributes{
		"":                      {FirstName: FieldOf("no id")},
		"dob":                   {ExternalID: "u", DOB: FieldOf(Date{2023, 2, 30})},
		"gender":                {ExternalID: "u", Gender: FieldOf(Gender("X"))},
		"email_subscribe":       {ExternalID: "u", EmailSubscribe: FieldOf(SubscriptionStatus("yes"))},
		"push_subscribe":        {ExternalID: "u", PushSubscribe: FieldOf(SubscriptionStatus("maybe"))},
		"country":               {ExternalID: "u", Country: FieldOf("USA")},
		"language":              {ExternalID: "u", Language: FieldOf("english")},
		"time_zone":             {ExternalID: "u", TimeZone: FieldOf("Mars/Olympus Mons")},
		"first_name":            {ExternalID: "u", FirstName: FieldOf(long)},
		"subscription_groups":   {ExternalID: "u", SubscriptionGroups: FieldOf([]SubscriptionGroupState{{GroupID: "g", State: "maybe"}})},
		"current_location":      {ExternalID: "u", CurrentLocation: FieldOf(Location{Latitude: 91})},
		"date_of_first_session": {ExternalID: "u", DateOfFirstSession: FieldOf(time.Date(3001, 1, 1, 0, 0, 0, 0, time.UTC))},
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
