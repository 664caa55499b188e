package azurestore

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConnString(t *testing.T) {
	tests := []struct {
		in   string
		want connString
	}{
		{"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5==;EndpointSuffix=core.windows.net",
			connString{account: "acme", key: "a2V5==", serviceURL: "https://acme.blob.core.windows.net/"}},
		{"AccountName=acme;AccountKey=a2V5", connString{account: "acme", key: "a2V5", serviceURL: "https://acme.blob.core.windows.net/"}},
		{" accountname = acme ; ACCOUNTKEY=a2V5 ; endpointsuffix=core.chinacloudapi.cn; ",
			connString{account: "acme", key: "a2V5", serviceURL: "https://acme.blob.core.chinacloudapi.cn/"}},
		{"BlobEndpoint=https://acme.blob.core.windows.net;SharedAccessSignature=?sv=1&sig=a%3D",
			connString{sas: "sv=1&sig=a%3D", serviceURL: "https://acme.blob.core.windows.net/"}},
		{"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;",
			connString{account: "devstoreaccount1", key: "a2V5", serviceURL: "http://127.0.0.1:10000/devstoreaccount1/"}},
		{"UseDevelopmentStorage=true", connString{account: devAccount, key: devKey, serviceURL: devEndpoint}},
	}
	for _, tt := range tests {
		got, err := parseConnString(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseConnString(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseConnStringErrors(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"", "neither AccountName nor BlobEndpoint"},
		{"AccountName=acme;s3cr3t", "part 2 is not Key=Value"},
		{"AccountName=acme;=s3cr3t", "part 2 is not Key=Value"},
		{"AccountName=acme;AccountKey=a;AccountKey=s3cr3t", "part 3 repeats the key AccountKey"},
		{"AccountName=acme", "neither AccountKey nor SharedAccessSignature"},
		{"AccountName=ACME;AccountKey=s3cr3t", "AccountName"},
		{"BlobEndpoint=https://x/;AccountKey=s3cr3t", "AccountKey but no AccountName"},
		{"BlobEndpoint=ftp://x/;SharedAccessSignature=s3cr3t", "BlobEndpoint is not"},
		{"DefaultEndpointsProtocol=ftp;AccountName=acme;AccountKey=s3cr3t", "DefaultEndpointsProtocol"},
	}
	for _, tt := range tests {
		_, err := parseConnString(tt.in)
		var ce *ConnStringError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("parseConnString(%q) error %v, want one saying %q", tt.in, err, tt.reason)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("parseConnString(%q) error %v shows a credential", tt.in, err)
		}
	}
}

// FuzzParseConnString checks that the parser never panics, that what it
// accepts has a service URL and a credential, and that its errors never
// repeat a credential (an AccountKey or SharedAccessSignature value).
func FuzzParseConnString(f *testing.F) {
	for _, s := range []string{
		"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5==;EndpointSuffix=core.windows.net",
		"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature=sv=1&sig=x",
		"UseDevelopmentStorage=true", ";;=;", "AccountName=a;AccountName=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseConnString(s)
		if err != nil {
			var ce *ConnStringError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConnStringError", err)
			}
			for part := range strings.SplitSeq(s, ";") {
				k, v, ok := strings.Cut(part, "=")
				k = strings.ToLower(strings.TrimSpace(k))
				secret := k == "accountkey" || k == "sharedaccesssignature"
				if ok && secret && len(strings.TrimSpace(v)) > 8 && strings.Contains(err.Error(), strings.TrimSpace(v)) {
					t.Fatalf("error %v repeats the value %q", err, v)
				}
			}
			return
		}
		if !strings.HasSuffix(c.serviceURL, "/") || (c.key == "" && c.sas == "") || (c.key != "" && c.account == "") {
			t.Fatalf("accepted %q as %+v", s, c)
		}
	})
}
