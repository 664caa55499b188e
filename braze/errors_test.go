package braze

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// rejection and notApplied are the delta engine's interfaces
// (diff.Rejection, diff.NotApplied), declared here because braze does not
// import diff.
type rejection interface{ Rejected() bool }
type notApplied interface{ NotApplied() bool }

func isRejected(err error) bool {
	var r rejection
	return errors.As(err, &r) && r.Rejected()
}

func isNotApplied(err error) bool {
	var na notApplied
	return errors.As(err, &na) && na.NotApplied()
}

// Only errors about the values themselves say "rejected": a resend of the
// same values would fail again. A wrong key, an outage or a rate limit is
// not the data's fault.
func TestRegression_Issue13_RejectionMarker(t *testing.T) {
	api401 := &APIError{StatusCode: 401, Attempts: 1}
	api403 := &APIError{StatusCode: 403, Attempts: 1}
	last := &RequestError{Op: "send", Attempts: 3, Err: errors.New("connection refused")}
	circuit := &CircuitOpenError{Failures: 5, Reason: "5 consecutive failed requests", Last: last}
	for _, tc := range []struct {
		name                 string
		err                  error
		rejected, notApplied bool
	}{
		{"item error", &ItemError{Type: "'dob' is not valid", InputArray: "attributes"}, true, true},
		{"validation error", &ValidationError{Field: "dob", Reason: "bad"}, true, true},
		{"wrapped item error", fmt.Errorf("row 3: %w", &ItemError{}), true, true},
		{"400", &APIError{StatusCode: 400}, false, true},
		{"401", api401, false, true},
		{"403", api403, false, true},
		{"503", &APIError{StatusCode: 503}, false, false},
		{"429", &RateLimitError{Err: &APIError{StatusCode: 429}}, false, true},
		{"transport", last, false, false},
		{"circuit open", circuit, false, true},
		{"not sent after 401", &StoppedError{Cause: api401}, false, true},
		{"not sent, circuit open", &StoppedError{Cause: circuit}, false, true},
		{"abandoned in flight", &StoppedError{Cause: circuit, Sent: true}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isRejected(tc.err); got != tc.rejected {
				t.Errorf("rejected = %v, want %v", got, tc.rejected)
			}
			if got := isNotApplied(tc.err); got != tc.notApplied {
				t.Errorf("not applied = %v, want %v", got, tc.notApplied)
			}
		})
	}
	// Errors of whole requests must not even implement the marker.
	for _, err := range []error{api401, &RateLimitError{}, last, circuit, &StoppedError{Cause: api401}} {
		if _, ok := err.(rejection); ok {
			t.Errorf("%T implements Rejected", err)
		}
	}
}

// The stop errors are matched by their sentinels and see through to the
// cause, whatever wraps them.
func TestStopErrorsMatch(t *testing.T) {
	api401 := &APIError{StatusCode: 401, Attempts: 1, Message: "Invalid API key"}
	stopped := fmt.Errorf("sync: %w", &StoppedError{Cause: api401})
	var ae *APIError
	if !errors.Is(stopped, ErrUnauthorized) || errors.Is(stopped, ErrForbidden) || !errors.As(stopped, &ae) || ae != api401 {
		t.Errorf("401: %v", stopped)
	}
	if !errors.Is(&APIError{StatusCode: 403}, ErrForbidden) || errors.Is(&APIError{StatusCode: 400}, ErrUnauthorized) {
		t.Error("403/400 sentinels")
	}
	last := &RequestError{Op: "send", Attempts: 6, Err: context.DeadlineExceeded}
	circuit := &StoppedError{Cause: &CircuitOpenError{Failures: 5, Reason: "5 consecutive failed requests", Last: last}}
	var re *RequestError
	if !errors.Is(circuit, ErrCircuitOpen) || !errors.As(circuit, &re) || re != last || errors.Is(circuit, ErrUnauthorized) {
		t.Errorf("circuit: %v", circuit)
	}
	for _, want := range []string{"not sent", "circuit open after 5 consecutive failed requests", "send failed after 6 attempt(s)"} {
		if !strings.Contains(circuit.Error(), want) {
			t.Errorf("%q does not say %q", circuit.Error(), want)
		}
	}
}
