// Package version tells which build of a program runs, from the build
// information Go embeds in every binary: the module version for
// `go install <module>/examples/<name>@v1.2.3`, and the commit a build from
// a clone was made of.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// String describes the build of program: "amperity-to-braze v1.2.3
// (commit 1a2b3c4d5e6f, 2026-12-03T07:00:00Z) go1.26.8", or "(devel)" and
// "+modified" for a build from a clone with local changes.
func String(program string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("%s (no build information) %s", program, runtime.Version())
	}
	return describe(program, info)
}

func describe(program string, info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		c := "commit " + rev[:min(len(rev), 12)]
		if modified {
			c += "+modified"
		}
		parts = append(parts, c)
	}
	if at != "" {
		parts = append(parts, at)
	}
	out := program + " " + version
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	return out + " " + info.GoVersion
}
