package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Issue 17: -version on every program.
func TestRegression_Issue17_Version(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-version"}, &out, &errOut); code != exitOK || !strings.HasPrefix(out.String(), "amperity-to-braze ") {
		t.Errorf("-version: exit %d, %q %q", code, out.String(), errOut.String())
	}
}
