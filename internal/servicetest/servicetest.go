// Package servicetest decides what a test does when a server it needs
// (PostgreSQL, Redis) did not answer: skip, with a message that says how
// to run it, or fail when the environment variable CI is set, since CI
// must run every test.
package servicetest

import (
	"fmt"
	"os"
	"testing"
)

// Verdict decides for a server called name at where (with no secret in
// it), which did not answer with err: fail when ci (the CI variable) is
// set, and skip otherwise. start says how to bring the server up. msg
// says which server, why, and what to do.
func Verdict(name, where string, err error, ci, start string) (fail bool, msg string) {
	msg = fmt.Sprintf("%s at %s did not answer (%v): this test needs it", name, where, err)
	if ci != "" {
		return true, msg + "; CI is set, so it must run (" + start + ")"
	}
	return false, msg + "; skipping (" + start + "; with CI set this fails)"
}

// Need does nothing when err is nil; otherwise it skips the test, or
// fails it when CI is set, with Verdict's message.
func Need(t testing.TB, name, where string, err error, start string) {
	t.Helper()
	if err == nil {
		return
	}
	fail, msg := Verdict(name, where, err, os.Getenv("CI"), start)
	if fail {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
