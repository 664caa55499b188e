package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// TrackRequest is the body of one /users/track request. Braze accepts at
// most 75 objects in total per request on current plans (75 per array on
// legacy plans); Track sends what it is given, TrackAll splits for you.
type TrackRequest struct {
	Attributes []*UserAttributes
	Events     []*Event
	Purchases  []*Purchase
}

// TrackResponse is Braze's answer to an accepted request. Objects listed in
// Errors were rejected; every other object was queued.
type TrackResponse struct {
	// StatusCode is the HTTP status (201 for an accepted request).
	StatusCode int `json:"-"`
	// Message is "success" (or "queued").
	Message             string `json:"message"`
	AttributesProcessed int    `json:"attributes_processed"`
	EventsProcessed     int    `json:"events_processed"`
	PurchasesProcessed  int    `json:"purchases_processed"`
	// Errors lists the rejected objects; Index is the position within the
	// array named by InputArray.
	Errors []ItemError `json:"errors"`
	// Attempts is the number of HTTP attempts made.
	Attempts int `json:"-"`
	// RateLimit is what the response's rate-limit headers said.
	RateLimit RateLimitInfo `json:"-"`
}

// Track sends one request. It validates the objects first (unless
// WithoutValidation), then posts them with rate limiting and retries.
//
// The error is non-nil when the whole request failed: a *ValidationError
// (nothing sent), an *APIError (Braze refused the request, or a 2xx whose
// message is not "success"), a *RateLimitError, or a *RequestError
// (transport failure, unreadable response). When it is nil, objects Braze
// rejected one by one are listed in TrackResponse.Errors.
func (c *Client) Track(ctx context.Context, req TrackRequest) (*TrackResponse, error) {
	if len(req.Attributes)+len(req.Events)+len(req.Purchases) == 0 {
		return nil, &ValidationError{Reason: "request has no attributes, events or purchases"}
	}
	var keys []string
	body := make([]byte, 0, 1024)
	body = append(body, '{')
	var err error
	if body, err = appendArray(body, "attributes", req.Attributes, c.validate, func(a *UserAttributes) error { return a.validate(c.checks) }, &keys); err != nil {
		return nil, err
	}
	if body, err = appendArray(body, "events", req.Events, c.validate, (*Event).validate, &keys); err != nil {
		return nil, err
	}
	if body, err = appendArray(body, "purchases", req.Purchases, c.validate, (*Purchase).validate, &keys); err != nil {
		return nil, err
	}
	body = append(body, '}')
	// Events and purchases are never idempotent; attributes are unless
	// they hold inc or $add.
	idempotent := len(req.Events)+len(req.Purchases) == 0
	for _, a := range req.Attributes {
		idempotent = idempotent && a.idempotent()
	}
	return c.post(ctx, body, idempotent)
}

// appendArray appends one array of a request body ("name":[...]), after a
// comma unless it is the body's first, checking each object first when
// validate is set. An empty array is left out. An error names the object
// ("events[2]").
func appendArray[T any, P interface {
	*T
	appendJSON(b []byte, keys *[]string) ([]byte, error)
}](body []byte, name string, objs []P, validate bool, check func(P) error, keys *[]string) ([]byte, error) {
	if len(objs) == 0 {
		return body, nil
	}
	if len(body) > 1 {
		body = append(body, ',')
	}
	body = append(body, '"')
	body = append(body, name...)
	body = append(body, `":[`...)
	for i, o := range objs {
		if o == nil {
			return body, &ValidationError{Object: fmt.Sprintf("%s[%d]", name, i), Reason: "nil object"}
		}
		if validate {
			if err := check(o); err != nil {
				return body, withObject(err, fmt.Sprintf("%s[%d]", name, i))
			}
		}
		if i > 0 {
			body = append(body, ',')
		}
		var err error
		if body, err = o.appendJSON(body, keys); err != nil {
			return body, withObject(err, fmt.Sprintf("%s[%d]", name, i))
		}
	}
	return append(body, ']'), nil
}

// withObject adds the object name to a validation error.
func withObject(err error, obj string) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		c := *ve
		c.Object = obj
		return &c
	}
	return &ValidationError{Object: obj, Reason: err.Error()}
}

// post sends a request body and classifies the outcome.
func (c *Client) post(ctx context.Context, body []byte, idempotent bool) (*TrackResponse, error) {
	st := &attemptState{idempotent: idempotent}
	ctx = context.WithValue(ctx, stateKey{}, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, body)
	if err != nil {
		return nil, &RequestError{Op: "build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key.key)
	req.Header.Set("User-Agent", "ampbraze")
	if c.bulkHeader {
		req.Header.Set("X-Braze-Bulk", "true")
	}
	resp, err := c.http.Do(req)
	if err != nil && st.limited != nil && (ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)) {
		// The context ended (or the limiter saw that its deadline would
		// pass) while waiting to retry a 429: the request is still rate
		// limited, and the caller also learns why it stopped.
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		err := rateLimited(st.limited, st.attempts, cause)
		c.logger.Warn("braze: request failed", "attempts", st.attempts, "error", err)
		return nil, err
	}
	if err != nil {
		err = c.scrub(err)
		c.logger.Warn("braze: request failed", "attempts", st.attempts, "ambiguous", st.ambiguous, "error", err)
		return nil, &RequestError{Op: "send", Attempts: st.attempts, Ambiguous: st.ambiguous, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResp+1))
	ok2xx := resp.StatusCode >= 200 && resp.StatusCode < 300
	if err != nil {
		err = &RequestError{Op: "read response", Attempts: st.attempts, Ambiguous: ok2xx,
			Err: fmt.Errorf("HTTP %d, body cut after %d bytes: %w", resp.StatusCode, len(data), c.scrub(err))}
		c.logger.Warn("braze: request failed", "status", resp.StatusCode, "attempts", st.attempts, "read_bytes", len(data), "error", err)
		return nil, err
	}
	if int64(len(data)) > c.maxResp {
		// The rest of the body is never read: a hostile or broken
		// endpoint could send gigabytes.
		err := &RequestError{Op: "read response", Attempts: st.attempts, Ambiguous: ok2xx,
			Err: &ResponseTooLargeError{StatusCode: resp.StatusCode, Limit: c.maxResp, Read: int64(len(data)), ContentLength: resp.ContentLength}}
		c.logger.Warn("braze: request failed", "status", resp.StatusCode, "attempts", st.attempts,
			"limit_bytes", c.maxResp, "read_bytes", len(data), "content_length", resp.ContentLength, "error", err)
		return nil, err
	}
	tr, err := ParseResponse(resp.StatusCode, resp.Header, data)
	if err != nil {
		err = c.scrubAPI(err, st.attempts)
		c.logger.Warn("braze: request failed", "status", resp.StatusCode, "attempts", st.attempts, "error", err)
		return nil, err
	}
	tr.Attempts = st.attempts
	if len(tr.Errors) > 0 {
		c.logger.Debug("braze: objects rejected", "count", len(tr.Errors))
	}
	return tr, nil
}

// scrub removes the API key from an error message, in case a transport or
// a hostile server echoes it back.
func (c *Client) scrub(err error) error {
	if err == nil || !strings.Contains(err.Error(), c.key.key) {
		return err
	}
	return &scrubbedError{msg: strings.ReplaceAll(err.Error(), c.key.key, "[REDACTED]"), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }

// Unwrap keeps errors.Is working for context and network errors. The
// wrapped error's own text may hold the key; callers reach it only by
// unwrapping on purpose.
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubAPI fills the attempt count of a response error and removes the
// key from any server-provided text.
func (c *Client) scrubAPI(err error, attempts int) error {
	k := c.key.key
	clean := func(s string) string { return strings.ReplaceAll(s, k, "[REDACTED]") }
	fix := func(e *APIError) {
		e.Attempts = attempts
		e.Message = clean(e.Message)
		for i := range e.Errors {
			e.Errors[i].Type = clean(e.Errors[i].Type)
		}
	}
	switch e := err.(type) {
	case *APIError:
		fix(e)
	case *RateLimitError:
		if e.Err != nil {
			fix(e.Err)
		}
	case *RequestError:
		e.Attempts = attempts
		e.Err = c.scrub(e.Err)
	}
	return err
}

// ParseResponse classifies a /users/track response from its status,
// headers and body. It returns the response for a 2xx whose message is
// "success" (or "queued"); otherwise a *RateLimitError (429), an *APIError
// (other statuses, or a 2xx with another message) or a *RequestError (a 2xx
// body that is not the JSON Braze documents). It never panics, whatever the
// input.
func ParseResponse(status int, header http.Header, body []byte) (*TrackResponse, error) {
	info := parseRateLimit(header, time.Now())
	var tr TrackResponse
	decodeErr := decodeResponse(body, &tr)
	if status >= 200 && status < 300 {
		if decodeErr != nil {
			return nil, &RequestError{Op: "parse response", Ambiguous: true, Err: decodeErr}
		}
		if tr.Message != "success" && tr.Message != "queued" {
			return nil, &APIError{StatusCode: status, Message: tr.Message, Errors: tr.Errors}
		}
		tr.StatusCode = status
		tr.RateLimit = info
		return &tr, nil
	}
	ae := &APIError{StatusCode: status}
	if decodeErr == nil {
		ae.Message, ae.Errors = tr.Message, tr.Errors
	} else {
		ae.Message = bodySnippet(body)
	}
	if status == http.StatusTooManyRequests {
		return nil, newRateLimitError(header, info, ae)
	}
	return nil, ae
}

func newRateLimitError(header http.Header, info RateLimitInfo, ae *APIError) *RateLimitError {
	rl := &RateLimitError{Limit: info.Limit, Remaining: max(info.Remaining, 0), Reset: info.Reset, Err: ae}
	if w, ok := serverWait(header, time.Now()); ok {
		rl.RetryAfter = w
	}
	return rl
}

// rateLimited is the error of a request whose last attempt was answered
// 429 and whose context ended (cause) before the next attempt.
func rateLimited(header http.Header, attempts int, cause error) *RateLimitError {
	ae := &APIError{StatusCode: http.StatusTooManyRequests, Message: "rate limited; the context ended before the next attempt", Attempts: attempts}
	rl := newRateLimitError(header, parseRateLimit(header, time.Now()), ae)
	rl.Cause = cause
	return rl
}

// decodeResponse decodes a response body strictly enough to trust the
// item indexes: errors must be objects with a string type, a known array
// name and a non-negative integer index.
func decodeResponse(body []byte, tr *TrackResponse) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errors.New("response body is not a JSON object")
	}
	if err := json.Unmarshal(body, tr); err != nil {
		return fmt.Errorf("response body: %w", err)
	}
	for i, e := range tr.Errors {
		switch e.InputArray {
		case "attributes", "events", "purchases":
		default:
			return fmt.Errorf("response errors[%d]: unknown input_array %q", i, e.InputArray)
		}
		if e.Index < 0 {
			return fmt.Errorf("response errors[%d]: negative index %d", i, e.Index)
		}
	}
	return nil
}

// bodySnippet is a short, printable excerpt of a non-JSON error body.
func bodySnippet(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b[:min(len(b), n)]), "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(b) > n {
		s += "..."
	}
	return strings.TrimSpace(s)
}
