package azurestore

import (
	"fmt"
	"strings"
)

// Azurite's (and the retired Storage Emulator's) well-known development
// account, which UseDevelopmentStorage=true stands for. The key is public,
// published by Microsoft for the emulators.
const (
	devAccount  = "devstoreaccount1"
	devKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	devEndpoint = "http://127.0.0.1:10000/devstoreaccount1/"
)

// connString is what a storage connection string (as the portal's "Access
// keys" page shows, or AZURE_STORAGE_CONNECTION_STRING holds) says about
// the blob service.
type connString struct {
	account    string
	key        string // base64, as given
	sas        string // without "?"
	serviceURL string // ending in "/"
}

// ConnStringError reports a connection string that cannot be used. It
// names the part at fault by position and key, never by value, since the
// values are credentials.
type ConnStringError struct {
	// Reason says what is wrong.
	Reason string
}

func (e *ConnStringError) Error() string {
	return "azurestore: connection string: " + e.Reason
}

// parseConnString reads "Key=Value;Key=Value;...": DefaultEndpointsProtocol,
// AccountName, AccountKey, SharedAccessSignature, BlobEndpoint,
// EndpointSuffix and UseDevelopmentStorage=true; the other services'
// endpoints are ignored. Keys are matched without regard to case; a value
// keeps everything after the first "=" (keys and SAS tokens contain "=").
func parseConnString(s string) (connString, error) {
	fail := func(format string, a ...any) (connString, error) {
		return connString{}, &ConnStringError{Reason: fmt.Sprintf(format, a...)}
	}
	fields := map[string]string{}
	for i, part := range strings.Split(strings.TrimSpace(s), ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return fail("part %d is not Key=Value", i+1)
		}
		if _, dup := fields[k]; dup {
			return fail("part %d repeats the key %s", i+1, strings.TrimSpace(part[:strings.IndexByte(part, '=')]))
		}
		fields[k] = strings.TrimSpace(v)
	}
	var c connString
	if strings.EqualFold(fields["usedevelopmentstorage"], "true") {
		c = connString{account: devAccount, key: devKey, serviceURL: devEndpoint}
	}
	if v, ok := fields["accountname"]; ok {
		if reason := checkAccount(v); reason != "" {
			return fail("AccountName: %s", reason)
		}
		c.account = v
	}
	if v, ok := fields["accountkey"]; ok {
		c.key = v
	}
	if v, ok := fields["sharedaccesssignature"]; ok {
		c.sas = strings.TrimPrefix(v, "?")
	}
	if v, ok := fields["blobendpoint"]; ok {
		if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
			return fail("BlobEndpoint is not an http(s):// URL")
		}
		c.serviceURL = strings.TrimSuffix(v, "/") + "/"
	} else if c.serviceURL == "" && c.account != "" {
		proto := fields["defaultendpointsprotocol"]
		if proto == "" {
			proto = "https"
		}
		if proto != "https" && proto != "http" {
			return fail("DefaultEndpointsProtocol is neither https nor http")
		}
		suffix := fields["endpointsuffix"]
		if suffix == "" {
			suffix = "core.windows.net"
		}
		c.serviceURL = proto + "://" + c.account + ".blob." + suffix + "/"
	}
	switch {
	case c.serviceURL == "":
		return fail("it has neither AccountName nor BlobEndpoint (nor UseDevelopmentStorage=true)")
	case c.key != "" && c.account == "":
		return fail("it has an AccountKey but no AccountName")
	case c.key == "" && c.sas == "":
		return fail("it has neither AccountKey nor SharedAccessSignature")
	}
	return c, nil
}
