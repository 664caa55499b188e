//go:build !unix

package pebblestore

import (
	"os/exec"
	"testing"
)

// asNobody skips the test: a child process as another user needs unix
// credentials.
func asNobody(t *testing.T, _ *exec.Cmd) {
	t.Skip("running a child process as another user needs unix credentials")
}
