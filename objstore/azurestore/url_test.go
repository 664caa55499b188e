package azurestore

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want Location
	}{
		{"https://acme.blob.core.windows.net/currents", Location{ServiceURL: "https://acme.blob.core.windows.net/", Account: "acme", Container: "currents"}},
		{"https://acme.blob.core.windows.net/currents/", Location{ServiceURL: "https://acme.blob.core.windows.net/", Account: "acme", Container: "currents"}},
		{"https://acme.blob.core.windows.net/currents/prod", Location{ServiceURL: "https://acme.blob.core.windows.net/", Account: "acme", Container: "currents", Path: "prod/"}},
		{"https://acme.blob.core.windows.net/currents/a%20b/c+d?sv=2024&sig=abc%3D", Location{ServiceURL: "https://acme.blob.core.windows.net/", Account: "acme", Container: "currents", Path: "a b/c+d/", SAS: "sv=2024&sig=abc%3D"}},
		{"https://acme.blob.core.chinacloudapi.cn/c-1/x", Location{ServiceURL: "https://acme.blob.core.chinacloudapi.cn/", Account: "acme", Container: "c-1", Path: "x/"}},
		{"https://files.example.com/cont/x", Location{ServiceURL: "https://files.example.com/", Container: "cont", Path: "x/"}},
		{"http://127.0.0.1:10000/devstoreaccount1/currents/prod", Location{ServiceURL: "http://127.0.0.1:10000/devstoreaccount1/", Account: "devstoreaccount1", Container: "currents", Path: "prod/"}},
		{"http://localhost:10000/devstoreaccount1/currents", Location{ServiceURL: "http://localhost:10000/devstoreaccount1/", Account: "devstoreaccount1", Container: "currents"}},
		{"http://[::1]:10000/devstoreaccount1/currents", Location{ServiceURL: "http://[::1]:10000/devstoreaccount1/", Account: "devstoreaccount1", Container: "currents"}},
		{"azure://currents/prod", Location{Container: "currents", Path: "prod/"}},
		{"AZURE://currents/a%20b", Location{Container: "currents", Path: "a%20b/"}},
		{"azure://$root", Location{Container: "$root"}},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) =\n%+v, %v\nwant\n%+v", tt.url, got, err, tt.want)
		}
	}
	got, err := SplitURL("azure://exports/daily/a.parquet")
	if err != nil || got.Container != "exports" || got.Path != "daily/a.parquet" {
		t.Errorf("SplitURL = %+v, %v", got, err)
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ url, reason string }{
		{"gs://bucket/x", "not an https://, http:// or azure:// URL"},
		{"https://acme.blob.core.windows.net", "no container name"},
		{"azure://", "no container name"},
		{"https://acme.blob.core.windows.net/Currents/x", `character 'C'`},
		{"https://acme.blob.core.windows.net/ab/x", "not 3 to 63"},
		{"https://acme.blob.core.windows.net/a--b/x", "two hyphens"},
		{"https://acme.blob.core.windows.net/-ab/x", "starts or ends with a hyphen"},
		{"https://Acme.blob.core.windows.net/abc/x", `account name "Acme"`},
		{"https://acme.blob.core.windows.net/abc//x", "starts with a slash"},
		{"http://127.0.0.1:10000/abc", "no container name"},
		{"http://127.0.0.1:10000/", "account name"},
		{"https://user@acme.blob.core.windows.net/abc/x", "no user"},
		{"https://acme.blob.core.windows.net/abc/x#frag", "no user or fragment"},
		{"azure://abc/x?sig=secret", "no query"},
		{"https://acme.blob.core.windows.net/abc/" + strings.Repeat("a", 1025), "1025 characters"},
		{"https://acme.blob.core.windows.net/abc/%zz?sig=secret", "not a URL"},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.url)
		var ue *URLError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ParseURL(%q) error %v, want a *URLError saying %q", tt.url, err, tt.reason)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q) error %v shows the SAS signature", tt.url, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.blob.core.windows.net/c?sv=1&sig=abc&se=2": "https://a.blob.core.windows.net/c?sv=1&sig=REDACTED&se=2",
		"https://a.blob.core.windows.net/c?SIG=abc":           "https://a.blob.core.windows.net/c?SIG=REDACTED",
		"azure://c/x": "azure://c/x",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseURL checks that ParseURL never panics, that what it accepts
// has a valid container, a folder path and a service URL that ends in "/",
// and that its errors are *URLErrors that never show a SAS signature.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"https://acme.blob.core.windows.net/currents/prod?sv=1&sig=s3cr3t",
		"http://127.0.0.1:10000/devstoreaccount1/c-1/x",
		"azure://abc/x/y", "azure://$web", "http://[::1]:1/aaa/bbb", "https://x/abc//", "AZURE://A",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		loc, err := ParseURL(raw)
		if err != nil {
			var ue *URLError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not a *URLError", err)
			}
			// Only a signature is hidden: "s3cr3t" before the "?" (in the
			// host or path) is shown, as the reason may quote it.
			base, query, _ := strings.Cut(raw, "?")
			if !strings.Contains(base, "s3cr3t") && slices.Contains(strings.Split(query, "&"), "sig=s3cr3t") && strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error %v shows the signature", err)
			}
			return
		}
		if checkContainer(loc.Container) != "" {
			t.Fatalf("accepted %q: container %q", raw, loc.Container)
		}
		if loc.Path != "" && !strings.HasSuffix(loc.Path, "/") || strings.HasPrefix(loc.Path, "/") {
			t.Fatalf("accepted %q: path %q", raw, loc.Path)
		}
		if loc.ServiceURL != "" && !strings.HasSuffix(loc.ServiceURL, "/") {
			t.Fatalf("accepted %q: service URL %q", raw, loc.ServiceURL)
		}
		if loc.Account != "" && checkAccount(loc.Account) != "" {
			t.Fatalf("accepted %q: account %q", raw, loc.Account)
		}
	})
}
