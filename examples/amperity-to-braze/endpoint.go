package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/ampbraze/ampbraze/braze"
)

// endpointOption turns -instance or -endpoint into the client option, with
// errors that name the flag rather than the braze package's options.
func endpointOption(c *config) (braze.Option, error) {
	if c.endpoint == "" {
		if _, err := braze.LookupInstance(c.instance); err != nil {
			names := make([]string, 0, len(braze.Instances()))
			for _, in := range braze.Instances() {
				names = append(names, in.Name)
			}
			return nil, fmt.Errorf("-instance %q is not a Braze instance this program knows (%s, or a dashboard URL); for another cluster give its REST endpoint with -endpoint",
				c.instance, strings.Join(names, ", "))
		}
		return braze.WithInstance(c.instance), nil
	}
	u, err := url.Parse(strings.TrimSpace(c.endpoint))
	switch {
	case err != nil || u.Host == "":
		return nil, fmt.Errorf("-endpoint %q is not an absolute URL (such as https://rest.iad-03.braze.com)", c.endpoint)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("-endpoint %q must not carry credentials, a query or a fragment", u.Redacted())
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return nil, fmt.Errorf("-endpoint %q: http:// would send the API key in clear text; use https://", u.Redacted())
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("-endpoint %q: the scheme must be https", u.Redacted())
	}
	return braze.WithBaseURL(c.endpoint), nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
