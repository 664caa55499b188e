// Package e2e holds the end-to-end fault suite of ampbraze: a whole
// Amperity-to-Braze sync (amperity reader and Mapper, diff engine with its
// persistent store, braze.Client.TrackAll) against the brazetest fake
// under injected faults, with the process "killed" at random points and
// rerun until nothing is left to send.
//
// The package has no exported API; everything lives in its tests. Run it
// with
//
//	go test -race ./internal/e2e/
//
// Environment variables:
//
//	E2E_SEED=<n>       replay a run (the seed is logged, and printed with
//	                   the replay command when a test fails)
//	E2E_USERS=<n>      users in the export: default 100000, or 10000 under
//	                   -race (the race detector makes the pipeline about
//	                   ten times slower) and with -short; 1000000 for the
//	                   large variant (about 13 GB of memory)
//
// With -v each run logs how it ended and its counters.
//
// Everything generated (the users, how each value is spelled in the CSV,
// the snapshot a day later, which users Braze rejects, the kill schedule
// and the fake's fault draws) follows from the seed. The interleaving of
// concurrent requests does not, so the requests a fault hits can differ
// between two runs of one seed; the assertions hold for every interleaving.
package e2e
