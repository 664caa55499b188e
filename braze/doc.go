// Package braze is a typed client for Braze's POST /users/track endpoint.
//
// The wire model (UserAttributes, Event, Purchase) serialises exactly what
// Braze documents: a Field that is not set is not sent, a Field set to
// Null is sent as null (clearing the value), and custom attributes take the
// values of the SDK's value model plus the operations Increment,
// ArrayUpdate and ObjectArrayUpdate. UserAttributes.Set bridges a field
// name and a plain value (as produced by the amperity mapper and the diff
// engine) onto the typed model; StandardField describes every standard
// profile field.
//
// A Client (NewClient, which needs WithInstance or WithBaseURL: a key
// belongs to one Braze instance, and any other answers 401) sends requests
// through go-retryablehttp with a shared token-bucket rate limiter
// (golang.org/x/time/rate; 3,000 requests per 3 s by default) that waits before every attempt, retries included,
// slows down when X-RateLimit-Remaining and X-RateLimit-Reset say less is
// left, and pauses every goroutine when the window is exhausted or a 429
// names a wait. Every wait a server asks for is capped
// (RetryPolicy.MaxWait) and ends when the context does. A caller can plug
// in its own Limiter to share one budget between processes.
//
// 429, 5xx and transport errors are retried with capped, jittered
// exponential backoff; 400, 401, 403 and 404 never are. Events, purchases,
// inc and $add are not idempotent, so by default a request holding them is
// not retried after an ambiguous failure (see AmbiguousRetry).
//
// Track sends one request. TrackAll streams any number of updates: it packs
// them into requests within Braze's limits (75 objects combined by
// default, a legacy per-array mode, a byte cap, one attributes object per
// user per request), sends them concurrently and yields one Result per
// update: accepted, rejected (an *ItemError from Braze or a
// *ValidationError from the client) or failed (the request's error). A
// 2xx whose message is not "success" fails the whole request.
// WithBulkEndpoint switches to /users/track/bulk (1,000 objects, 2 MB).
//
// TrackAll fails fast instead of sending the whole input into a wall. The
// first 401 or 403 answer (ErrUnauthorized, ErrForbidden: a wrong key or
// instance, a key without users.track) stops it: no further request
// starts, requests in progress are abandoned, every update already pulled
// gets a result, and no more updates are pulled. A circuit breaker, on by
// default, stops it the same way when the endpoint is down: 5 requests in
// a row failed after their retries, or 2 minutes of requests in progress
// without a success (WithCircuitBreaker; ErrCircuitOpen). The updates the
// run did not finish carry a *StoppedError that wraps the cause and says
// whether the update was sent at all.
//
// Errors say what a delta engine needs to know: *ItemError and
// *ValidationError implement Rejected (the values themselves were refused;
// resending them unchanged fails again), and every error implements
// NotApplied when Braze certainly did not apply the object. A 429 whose
// wait the context cut short is still a *RateLimitError, matching the
// context's error too.
//
// DataPoints estimates what an object costs on data-point contracts, by
// Braze's billing rules (UserAttributes.DataPoints).
//
// Response bodies are read up to a cap (WithMaxResponseBytes), and
// ParseResponse, the response parser, is fuzzed: a hostile or broken
// endpoint yields typed errors, never unbounded memory or a panic. A body
// over the cap fails its request with a *ResponseTooLargeError (status,
// cap, bytes read, declared length), which the client also logs as a
// warning, as it does every failed request.
//
// The standard fields are known in one table (StandardFields is its
// public view): Set finds a field's entry by name, and the request
// encoder and Validate walk the table, so a field is added in one place.
//
// The API key is sent only in the Authorization header and never appears
// in errors, logs or fmt output of the Client, a copied Client value
// included. Plain http:// base URLs are
// refused except on loopback hosts (tests) or with WithInsecureHTTP.
package braze
