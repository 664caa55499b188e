package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		info debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}}, "p v1.2.3 go1.26.8"},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d"}, {Key: "vcs.time", Value: "2026-12-03T07:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"p (devel) (commit 1a2b3c4d5e6f+modified, 2026-12-03T07:00:00Z) go1.26.8"},
		{debug.BuildInfo{GoVersion: "go1.26.8"}, "p (devel) go1.26.8"},
	} {
		if got := describe("p", &c.info); got != c.want {
			t.Errorf("describe = %q, want %q", got, c.want)
		}
	}
	if s := String("prog"); !strings.HasPrefix(s, "prog ") {
		t.Errorf("String = %q", s)
	}
}
