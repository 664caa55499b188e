package braze

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrValidation is matched (with errors.Is) by every *ValidationError.
var ErrValidation = errors.New("braze: invalid object")

// ValidationError reports an object or field that Braze would reject, found
// before sending.
type ValidationError struct {
	// Object names the object: "attributes[3]", "events[0]", or empty when
	// the error comes from UserAttributes.Set outside a request.
	Object string
	// Field is the Braze field name ("dob", a custom attribute name,
	// "properties.color"); empty for object-level problems such as a missing
	// identifier.
	Field string
	// Reason says what is wrong.
	Reason string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("braze: ")
	if e.Object != "" {
		b.WriteString(e.Object)
		if e.Field != "" {
			b.WriteString(" field ")
			b.WriteString(strconv.Quote(e.Field))
		}
	} else if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(strconv.Quote(e.Field))
	} else {
		b.WriteString("object")
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes errors.Is(err, ErrValidation) true.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// ItemError is Braze's rejection of one object of an accepted request, from
// the response's errors[] list. The rest of the request was processed.
// Braze treats these as permanent for that data: resending it unchanged
// fails again.
type ItemError struct {
	// Type is Braze's description ("'quantity' is not valid").
	Type string `json:"type"`
	// InputArray is "attributes", "events" or "purchases".
	InputArray string `json:"input_array"`
	// Index is the position within InputArray in the request.
	Index int `json:"index"`
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("braze: %s[%d] rejected: %s", e.InputArray, e.Index, e.Type)
}

// ErrRejected is matched (with errors.Is) by every *ItemError.
var ErrRejected = errors.New("braze: object rejected")

// Is makes errors.Is(err, ErrRejected) true.
func (e *ItemError) Is(target error) bool { return target == ErrRejected }

// APIError is a whole request that Braze refused or failed: a non-2xx
// status, or a 2xx whose message is not "success". Nothing in the request
// was processed.
type APIError struct {
	// StatusCode is the HTTP status of the last attempt.
	StatusCode int
	// Message is Braze's message, if the body had one.
	Message string
	// Errors lists item errors the body carried, if any.
	Errors []ItemError
	// Attempts is the number of HTTP attempts made.
	Attempts int
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return fmt.Sprintf("braze: HTTP %d after %d attempt(s): %s", e.StatusCode, e.Attempts, strconv.Quote(msg))
}

// ErrUnauthorized is matched (with errors.Is) by an *APIError with status
// 401: the API key is missing, wrong, quoted, or belongs to another Braze
// instance. Every request with the same key and endpoint fails the same
// way, so TrackAll stops at the first one.
var ErrUnauthorized = errors.New("braze: unauthorized (HTTP 401): wrong API key or wrong instance")

// ErrForbidden is matched (with errors.Is) by an *APIError with status 403:
// the key lacks the users.track permission (or the caller's IP is not on
// the key's allowlist). TrackAll stops at the first one.
var ErrForbidden = errors.New("braze: forbidden (HTTP 403): the API key lacks the users.track permission")

// Is makes errors.Is(err, ErrUnauthorized) true for a 401 and
// errors.Is(err, ErrForbidden) true for a 403.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == 401
	case ErrForbidden:
		return e.StatusCode == 403
	}
	return false
}

// Retryable reports whether the status is one Braze advises retrying (429
// and 5xx). The client has already retried when it returns the error.
func (e *APIError) Retryable() bool { return e.StatusCode == 429 || e.StatusCode >= 500 }

// RateLimitError is a request still rate limited (HTTP 429) when the retry
// budget or the wait cap ran out.
type RateLimitError struct {
	// RetryAfter is the wait the server asked for, when it said.
	RetryAfter time.Duration
	// Limit, Remaining and Reset are the X-RateLimit-* headers of the last
	// response, zero when absent.
	Limit, Remaining int
	Reset            time.Time
	// Err is the underlying *APIError.
	Err *APIError
	// Cause is the context's error when the context ended while the
	// client was waiting to retry the 429 (a deadline shorter than the
	// wait Braze asked for); nil when the retries ran out. The error then
	// matches both errors.As(err, &*RateLimitError) and
	// errors.Is(err, context.DeadlineExceeded).
	Cause error
}

func (e *RateLimitError) Error() string {
	s := "braze: rate limited (HTTP 429)"
	if e.Err != nil {
		s += fmt.Sprintf(" after %d attempt(s)", e.Err.Attempts)
	}
	if e.RetryAfter > 0 {
		s += "; retry after " + e.RetryAfter.String()
	}
	if e.Cause != nil {
		s += "; gave up waiting: " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the underlying *APIError and the Cause, when set.
func (e *RateLimitError) Unwrap() []error {
	var out []error
	if e.Err != nil {
		out = append(out, e.Err)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

// RequestError is a request that failed without a usable response: a
// transport error (after retries), a response that could not be read or
// parsed, or a response body over the size cap.
type RequestError struct {
	// Op says what failed ("send", "read response", "parse response").
	Op string
	// Attempts is the number of HTTP attempts made.
	Attempts int
	// Ambiguous reports that the request may have reached Braze and been
	// processed (the failure came after the request was written, or the
	// response was unreadable). Retrying non-idempotent objects (events,
	// purchases, inc, $add) after such a failure can apply them twice.
	Ambiguous bool
	// Err is the cause.
	Err error
}

func (e *RequestError) Error() string {
	s := fmt.Sprintf("braze: %s failed after %d attempt(s)", e.Op, e.Attempts)
	if e.Ambiguous {
		s += " (request may have been processed)"
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// ErrResponseTooLarge is matched (with errors.Is) when a response body
// exceeds the client's cap, which protects memory from a hostile endpoint.
var ErrResponseTooLarge = errors.New("braze: response body too large")

// ResponseTooLargeError is a response whose body went past the client's cap
// (DefaultMaxResponseBytes unless WithMaxResponseBytes set another): the
// client stops reading at the cap, so Braze's answer, and whether it
// accepted the request, is unknown. It is the Err of a *RequestError and
// matches ErrResponseTooLarge.
type ResponseTooLargeError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Limit is the cap in bytes.
	Limit int64
	// Read is how many bytes were read: one past the cap.
	Read int64
	// ContentLength is the length the response declared, -1 when it
	// declared none (a chunked body).
	ContentLength int64
}

func (e *ResponseTooLargeError) Error() string {
	declared := "no declared length"
	if e.ContentLength >= 0 {
		declared = fmt.Sprintf("declared length %d bytes", e.ContentLength)
	}
	return fmt.Sprintf("braze: response body too large: HTTP %d with a body over the %d-byte limit (read %d bytes, %s; the limit is the client's maximum response size)",
		e.StatusCode, e.Limit, e.Read, declared)
}

// Is makes errors.Is(err, ErrResponseTooLarge) true.
func (e *ResponseTooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// NotApplied reports that Braze did not apply the rejected object. It lets
// a delta engine (diff.NotApplied) keep its state as it was.
func (e *ItemError) NotApplied() bool { return true }

// NotApplied reports that the object was never sent.
func (e *ValidationError) NotApplied() bool { return true }

// Rejected reports that Braze refused the object's values themselves:
// Braze asks callers not to retry item errors until the data changes, so a
// delta engine (diff.Rejection) does not resend the same values. Errors of
// a whole request (*APIError, *RateLimitError, *RequestError, a wrong key)
// do not implement it: they are not the data's fault.
func (e *ItemError) Rejected() bool { return true }

// Rejected reports that the values break Braze's documented rules, so
// sending them unchanged would be refused again (see ItemError.Rejected).
func (e *ValidationError) Rejected() bool { return true }

// NotApplied reports whether Braze certainly processed nothing of the
// request: a 4xx answer, or a 2xx whose message was not "success". A 5xx
// may come from a proxy after Braze applied the request, so it does not
// count.
func (e *APIError) NotApplied() bool { return e.StatusCode < 500 }

// NotApplied reports that the rate-limited request was not processed.
func (e *RateLimitError) NotApplied() bool { return true }
