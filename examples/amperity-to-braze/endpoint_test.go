package main

import (
	"context"
	"strings"
	"testing"
)

func TestEndpointFlagsErrorsNameTheFlag(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-instance", "US-99"}, `-instance \"US-99\" is not a Braze instance this program knows (US-01,`},
		{[]string{"-endpoint", "http://rest.example.com"}, `-endpoint \"http://rest.example.com\": http:// would send the API key in clear text; use https://`},
		{[]string{"-endpoint", "rest.example.com"}, `-endpoint \"rest.example.com\" is not an absolute URL`},
		{[]string{"-endpoint", "ftp://rest.example.com"}, `the scheme must be https`},
	} {
		// f.run gives -endpoint first; a later -endpoint or -instance
		// wins, and -instance applies only without -endpoint.
		args := append([]string{"-input", f.path("day1.csv")}, tt.args...)
		if tt.args[0] == "-instance" {
			args = append(args, "-endpoint", "")
		}
		code, _, errOut := f.run(context.Background(), args...)
		if code != exitFatal || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, want stderr with %s:\n%s", tt.args, code, tt.want, errOut)
		}
		for _, goName := range []string{"WithInstance", "WithBaseURL", "WithInsecureHTTP"} {
			if strings.Contains(errOut, goName) {
				t.Errorf("%q: stderr names %s:\n%s", tt.args, goName, errOut)
			}
		}
	}
}
