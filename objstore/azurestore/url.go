package azurestore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// URLError reports an Azure Blob URL that ParseURL cannot use.
type URLError struct {
	// URL is the URL as given, with any SAS token's signature hidden.
	URL string
	// Reason says what is wrong with it.
	Reason string
}

func (e *URLError) Error() string {
	return fmt.Sprintf("azurestore: URL %q: %s", e.URL, e.Reason)
}

// Location is what an Azure Blob URL names: a container in a storage
// account and a blob name or prefix in it.
type Location struct {
	// ServiceURL is the account's blob endpoint, ending in "/":
	// "https://acme.blob.core.windows.net/", or for the emulator
	// "http://127.0.0.1:10000/devstoreaccount1/". It is empty for an
	// azure:// URL, which leaves the account to the environment.
	ServiceURL string
	// Account is the storage account's name when the URL shows it (the
	// first label of a *.blob.* host, or the first path segment of an
	// emulator URL), else "".
	Account string
	// Container is the container's name.
	Container string
	// Path is the blob name or prefix after the container: as given by
	// SplitURL, and ending in "/" (or empty) from ParseURL.
	Path string
	// SAS is a shared access signature from the URL's query, without the
	// "?", or "".
	SAS string
}

// ParseURL reads the URL of a container or a folder in one:
//
//	https://<account>.blob.core.windows.net/<container>/<prefix>[?<SAS token>]
//	http://127.0.0.1:10000/<account>/<container>/<prefix>   (Azurite, or any IP or localhost host)
//	azure://<container>/<prefix>                            (the account from the environment; see OpenURL)
//
// The path of an http(s) URL is percent-decoded, as the portal's "Copy
// URL" encodes it; the path of an azure:// URL is taken literally, like a
// gs:// or s3:// one. The path names a folder: a prefix that does not end
// in "/" gets one, so that ".../currents" does not also read
// "currents-old/"; no path gives the empty prefix (the whole container).
func ParseURL(raw string) (Location, error) {
	loc, err := SplitURL(raw)
	if err != nil {
		return Location{}, err
	}
	if loc.Path != "" && !strings.HasSuffix(loc.Path, "/") {
		loc.Path += "/"
	}
	return loc, nil
}

// SplitURL reads the same forms as ParseURL but leaves the path as it is:
// a blob's full name, or a prefix ending in "/". Callers that accept either
// one blob or a folder use it.
func SplitURL(raw string) (Location, error) {
	fail := func(reason string) (Location, error) {
		return Location{}, &URLError{URL: redact(raw), Reason: reason}
	}
	var loc Location
	var path string
	if rest, ok := cutPrefixFold(raw, "azure://"); ok {
		if strings.ContainsAny(rest, "?#") {
			return fail("an azure:// URL takes no query or fragment (put a SAS token in AZURE_STORAGE_CONNECTION_STRING, or use the https:// form)")
		}
		path = rest
	} else {
		u, err := url.Parse(raw)
		if err != nil {
			// A *url.Error repeats the URL, SAS token and all.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return fail("not a URL: " + err.Error())
		}
		if u.Scheme != "https" && u.Scheme != "http" {
			return fail("not an https://, http:// or azure:// URL")
		}
		if u.Host == "" || u.User != nil || u.Fragment != "" {
			return fail("an Azure Blob URL has a host and no user or fragment")
		}
		loc.SAS = u.RawQuery
		path = strings.TrimPrefix(u.Path, "/")
		host := u.Hostname()
		if pathStyle(host) {
			// Emulators address the account in the path.
			var acct string
			acct, path, _ = strings.Cut(path, "/")
			if reason := checkAccount(acct); reason != "" {
				return fail(reason + " (an emulator URL is http://host:port/<account>/<container>/...)")
			}
			loc.Account = acct
			loc.ServiceURL = u.Scheme + "://" + u.Host + "/" + acct + "/"
		} else {
			if label, _, ok := strings.Cut(host, ".blob."); ok && !strings.Contains(label, ".") {
				if reason := checkAccount(label); reason != "" {
					return fail(reason)
				}
				loc.Account = label
			}
			loc.ServiceURL = u.Scheme + "://" + u.Host + "/"
		}
	}
	loc.Container, loc.Path, _ = strings.Cut(path, "/")
	if reason := checkContainer(loc.Container); reason != "" {
		return fail(reason)
	}
	if strings.HasPrefix(loc.Path, "/") {
		return fail("the blob name starts with a slash (.../container//...)")
	}
	if len(loc.Path) > maxName {
		return fail(fmt.Sprintf("the blob name is %d characters long; Azure allows %d", len(loc.Path), maxName))
	}
	return loc, nil
}

// maxName is Azure's limit on a blob name.
const maxName = 1024

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// pathStyle reports a host that the account is addressed under in the
// path, as with Azurite: an IP address or localhost (the Azure SDK does
// the same for IP addresses).
func pathStyle(host string) bool {
	return host == "localhost" || net.ParseIP(host) != nil
}

// checkAccount applies Azure's rules for storage account names (3 to 24
// lower-case letters and digits) and returns what breaks them, or "".
func checkAccount(a string) string {
	if len(a) < 3 || len(a) > 24 {
		return fmt.Sprintf("storage account name %q is not 3 to 24 characters long", a)
	}
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Sprintf("storage account name %q has the character %q (Azure allows lower-case letters and digits)", a, c)
		}
	}
	return ""
}

// checkContainer applies Azure's rules for container names (3 to 63
// lower-case letters, digits and single hyphens, starting and ending with
// a letter or digit; or the special $root, $web and $logs) and returns
// what breaks them, or "". Checking here turns a typo into an error that
// names the URL, instead of a 400 from the service.
func checkContainer(c string) string {
	switch {
	case c == "":
		return "no container name"
	case c == "$root" || c == "$web" || c == "$logs":
		return ""
	case len(c) < 3 || len(c) > 63:
		return fmt.Sprintf("container name %q is not 3 to 63 characters long", c)
	case strings.Contains(c, "--"):
		return fmt.Sprintf("container name %q has two hyphens in a row", c)
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Sprintf("container name %q has the character %q (Azure allows lower-case letters, digits and '-')", c, r)
		}
	}
	if c[0] == '-' || c[len(c)-1] == '-' {
		return fmt.Sprintf("container name %q starts or ends with a hyphen", c)
	}
	return ""
}

// redact hides the signature of a SAS token in a URL, so that an error
// message or a log line does not carry a credential.
func redact(raw string) string {
	base, query, ok := strings.Cut(raw, "?")
	if !ok {
		return raw
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "sig") {
			parts[i] = k + "=REDACTED"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// RedactURL returns raw with the signature of any SAS token in its query
// replaced by REDACTED, for showing a URL a user gave in messages and logs.
func RedactURL(raw string) string { return redact(raw) }
