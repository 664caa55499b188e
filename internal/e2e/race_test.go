//go:build race

package e2e

// raceEnabled reports whether the race detector is on; it makes the
// pipeline several times slower, so the default export is smaller.
const raceEnabled = true
