// Package brazetest is a fake Braze for tests: an in-process HTTP server
// that answers POST /users/track the way Braze documents it, keeps the user
// profiles, events and purchases it is sent, and injects the failures a
// client has to survive.
//
// A test starts one with NewServer, which closes it when the test ends, and
// points its code at srv.URL or takes a ready client from srv.Client:
//
//	srv := brazetest.NewServer(t)
//	svc := NewService(srv.Client())
//	// ... exercise svc ...
//	u, ok := srv.User("user-42")
//
// Outside a test (examples, local demos) use Start and Close; NewHandler
// gives the http.Handler without a listener.
//
// # What it checks
//
// Authentication ("Bearer " plus the key, DefaultAPIKey unless WithAPIKey;
// 401 for a missing, wrong or quoted key, 403 for a WithForbiddenKey key),
// the JSON content type, the body, the object cap (75 combined, or
// WithLegacyObjectLimit; 400 "Max Input Length Exceeded"), identifiers
// (at most one of external_id, braze_id and user_alias per object),
// standard fields (dob as YYYY-MM-DD, gender, subscription enums, country,
// language, string lengths, social and location objects), custom attribute
// rules (names and strings up to 255 characters, no leading '$', arrays of
// strings, nested objects), and the required fields and limits of events
// and purchases (quantity 1-100, ISO 4217 currency, reserved and '$'
// property names, 100 KB and 50 KB property caps). A bad object is listed
// in errors[] of a 201 with "message": "success" and the rest is applied; a
// request without any valid object is a 400 with Braze's message and the
// errors.
//
// # What it keeps
//
// Accepted objects are applied as Braze documents: set, null removes, inc,
// add and remove on string arrays (de-duplicated, an added element that is
// present moves to the end, capped at WithArrayMax dropping the oldest),
// $add, $remove and $update on arrays of objects (in that order, as
// braze-docs issue #11289 reports), _merge_objects deep merge, and
// _update_existing_only. Profiles are found by external_id, braze_id,
// user_alias (update-only unless the flag is explicitly false), email (the
// most recently updated profile with an external_id, else the most recently
// updated) or phone. Events and purchases are appended, never
// de-duplicated, so duplicate deliveries can be counted.
//
// Requests returns the most recent requests received, bodies and answers
// included, bounded both by count (WithRequestHistory, default 10,000) and
// by the memory they hold (WithRequestHistoryBytes, default 64 MiB), so a
// long sync through the fake does not keep every body it sent.
//
// # Faults
//
// Fault rules (AddFault, FailNext, FailRandomly, DelayResponses,
// DisconnectNext), per-object rejects (RejectObjects, RejectExternalIDs),
// the rate limit (SetRateLimit, with the X-RateLimit-* header variants of
// HeaderStyle) and deferred application (SetDeferredApply) can be changed
// while the server runs.
//
// # Differences from Braze
//
//   - Synchronous by default: an accepted request is applied before the
//     answer, so a test can inspect the result at once. Braze queues
//     /users/track work and applies it later, possibly out of order for one
//     user. WithDeferredApply (or SetDeferredApply) holds accepted requests
//     until ApplyPending applies them in arrival, reverse or seeded random
//     order; there is no time-based background processing.
//   - Where Braze's text is not documented the fake picks one and exports
//     it: the 400 message for invalid JSON (MsgInvalidJSON), the 401, 403
//     and 429 messages, and per-object types other than the documented
//     identifier and quantity ones, which follow Braze's "'field' is not
//     valid" form. A wrong content type is answered like an empty body.
//     Paths other than /users/track and /users/track/bulk get 404; other
//     methods 405.
//   - Country names are not mapped to codes: anything that is not an ISO
//     3166-1 alpha-2 code is stored as null (Braze maps "Australia" to AU).
//     Invalid time zones are ignored, as in Braze. Phone numbers are checked
//     loosely (7-15 digits), emails only for an "@"; emails and phones are
//     matched exactly as written (no case folding or number normalisation).
//   - An invalid nested value (a null, a bad $time, a key with '.', '$' or a
//     space, over 100 KB) is not reported; it drops every nested-attribute
//     update of the request, as the users/track FAQ says
//     (WithNestedFailurePerAttribute narrows it to the one attribute).
//     Request.Notes records the drop.
//   - Over-long string arrays are truncated to their first WithArrayMax
//     elements on a plain set; Braze does not document which end it keeps.
//   - Without WithRateLimit or SetRateLimit there is no rate limit and no
//     X-RateLimit-* header; Braze always has one (BrazeRateLimit per
//     BrazeRateWindow). Windows are fixed and aligned to the epoch.
//   - Not modelled: /users/track/sync and every other endpoint, the
//     per-company MAU hourly limits, subscription-state propagation to
//     other profiles sharing an email, "blacklisted" external IDs (use
//     RejectExternalIDs), push token clean-up, purchase quantity N counted
//     as N purchases (one Purchase record with Quantity N), product-ID and
//     custom-attribute count limits, attribute type changes, billing.
//   - Numbers are kept as int64 when written as integers and float64
//     otherwise, so a decimal's exact digits are not preserved in state
//     (Request.Body keeps the exact text).
//   - Braze IDs are 24 hex digits counting up from 1, not Braze's
//     ObjectIDs.
//   - /users/track/bulk applies the documented limits (1,000 objects, 2 MB,
//     100 objects per external_id) with the same validation; its own error
//     messages are not documented.
package brazetest
