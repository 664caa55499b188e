package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Issue 17: -version on every program, and -h exits 0 like the others.
func TestRegression_Issue17_VersionAndHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "quickstart ") {
		t.Errorf("-version: exit %d, %q", code, out.String())
	}
	if code := run(context.Background(), []string{"-h"}, &out, &errOut); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
