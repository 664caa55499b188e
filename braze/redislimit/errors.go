package redislimit

import (
	"errors"
	"fmt"
)

// ErrUnavailable is matched (errors.Is) by the error of a Wait refused
// because Redis did not answer and no fallback was configured: the
// Limiter fails closed rather than send without the shared budget.
var ErrUnavailable = errors.New("redislimit: Redis unavailable")

// UnavailableError is the error of a Wait (or Ping) that could not reach
// Redis. It matches ErrUnavailable and unwraps to the Redis client's error.
type UnavailableError struct {
	// Addr is the Redis address the Limiter uses (host:port, or the list
	// of a cluster's addresses).
	Addr string
	// Err is the Redis client's error.
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("redislimit: Redis at %s did not answer, so no request is sent without the shared Braze budget (fail closed; WithFallback allows a local share): %v", e.Addr, e.Err)
}

// Unwrap returns ErrUnavailable and the Redis client's error, so errors.Is
// matches either.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }
