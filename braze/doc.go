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
// A Client (NewClient) sends requests through go-retryablehttp with a
// shared token-bucket rate limiter (golang.org/x/time/rate; 3,000 requests
// per 3 s by default) that also pauses on Braze's X-RateLimit-* headers.
// 429, 5xx and transport errors are retried with capped, jittered
// exponential backoff; 400, 401, 403 and 404 never are. Events, purchases,
// inc and $add are not idempotent, so by default a request holding them is
// not retried after an ambiguous failure (see AmbiguousRetry).
//
// Track sends one request. TrackAll streams any number of updates: it packs
// them into requests within Braze's limits, sends them concurrently and
// yields one Result per update: accepted, rejected (an *ItemError from
// Braze or a *ValidationError from the client) or failed (the request's
// error).
//
// The API key is sent only in the Authorization header and never appears
// in errors, logs or fmt output of the Client. Plain http:// base URLs are
// refused except on loopback hosts (tests) or with WithInsecureHTTP.
package braze
