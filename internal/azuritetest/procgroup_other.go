//go:build !unix

package azuritetest

import "os/exec"

// ownProcessGroup does nothing where process groups are missing.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup kills cmd's process alone.
func killProcessGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
