package braze

import (
	"fmt"
	"net/url"
	"strings"
)

// Instance is a Braze cluster and its REST endpoint.
type Instance struct {
	// Name is Braze's name for the cluster ("US-03", "EU-01").
	Name string
	// Dashboard is the host of the cluster's dashboard.
	Dashboard string
	// RESTEndpoint is the base URL of the REST API.
	RESTEndpoint string
}

var instances = []Instance{
	{"US-01", "dashboard-01.braze.com", "https://rest.iad-01.braze.com"},
	{"US-02", "dashboard-02.braze.com", "https://rest.iad-02.braze.com"},
	{"US-03", "dashboard-03.braze.com", "https://rest.iad-03.braze.com"},
	{"US-04", "dashboard-04.braze.com", "https://rest.iad-04.braze.com"},
	{"US-05", "dashboard-05.braze.com", "https://rest.iad-05.braze.com"},
	{"US-06", "dashboard-06.braze.com", "https://rest.iad-06.braze.com"},
	{"US-07", "dashboard-07.braze.com", "https://rest.iad-07.braze.com"},
	{"US-08", "dashboard-08.braze.com", "https://rest.iad-08.braze.com"},
	{"US-10", "dashboard.us-10.braze.com", "https://rest.us-10.braze.com"},
	{"EU-01", "dashboard-01.braze.eu", "https://rest.fra-01.braze.eu"},
	{"EU-02", "dashboard-02.braze.eu", "https://rest.fra-02.braze.eu"},
	{"AU-01", "dashboard.au-01.braze.com", "https://rest.au-01.braze.com"},
	{"ID-01", "dashboard.id-01.braze.com", "https://rest.id-01.braze.com"},
	{"JP-01", "dashboard.jp-01.braze.com", "https://rest.jp-01.braze.com"},
	{"KR-01", "dashboard.kr-01.braze.com", "https://rest.kr-01.braze.com"},
}

// dashboardAliases are older dashboard hosts still seen in the wild.
var dashboardAliases = map[string]string{
	"dashboard-10.braze.com": "US-10", // not iad-10
}

// Instances returns the Braze instances the client knows, in Braze's
// documented order. Unlisted clusters can be reached with WithBaseURL.
func Instances() []Instance { return append([]Instance(nil), instances...) }

// LookupInstance finds an instance by its name ("US-03", case-insensitive),
// its dashboard URL or host ("https://dashboard-03.braze.com/...",
// "dashboard.us-10.braze.com") or its REST endpoint.
func LookupInstance(s string) (Instance, error) {
	key := strings.TrimSpace(s)
	for _, in := range instances {
		if strings.EqualFold(in.Name, key) {
			return in, nil
		}
	}
	host := strings.ToLower(key)
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil {
			return Instance{}, unknownInstance(s)
		}
		host = u.Hostname()
	} else if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if name, ok := dashboardAliases[host]; ok {
		return LookupInstance(name)
	}
	for _, in := range instances {
		if host == in.Dashboard || "https://"+host == in.RESTEndpoint {
			return in, nil
		}
	}
	return Instance{}, unknownInstance(s)
}

// unknownInstance says what an instance may be; its text reaches the users
// of programs, so it names the setting as well as the option.
func unknownInstance(s string) error {
	names := make([]string, len(instances))
	for i, in := range instances {
		names[i] = in.Name
	}
	return fmt.Errorf("braze: unknown Braze instance %q: give one of %s, or a dashboard URL; for a cluster not listed, set its REST endpoint URL instead (WithBaseURL, or -endpoint in the programs)", s, strings.Join(names, ", "))
}
