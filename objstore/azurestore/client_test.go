package azurestore

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestNewClientResolution checks which account and credential newClient
// picks from the URL and the environment, without a server: the client's
// URL shows the endpoint and any SAS token, and mismatches are errors.
func TestNewClientResolution(t *testing.T) {
	const key = "a2V5a2V5a2V5" // base64
	tests := []struct {
		name, url string
		env       map[string]string
		wantURL   string // the container client's URL
		wantErr   string
	}{
		{"https, account and key", "https://acme.blob.core.windows.net/c-1/x",
			map[string]string{EnvAccount: "acme", EnvKey: key}, "https://acme.blob.core.windows.net/c-1", ""},
		{"https, key, account from URL", "https://acme.blob.core.windows.net/c-1/x",
			map[string]string{EnvKey: key}, "https://acme.blob.core.windows.net/c-1", ""},
		{"https, other account in env", "https://acme.blob.core.windows.net/c-1/x",
			map[string]string{EnvAccount: "other", EnvKey: key}, "", `the URL is for storage account "acme" but AZURE_STORAGE_ACCOUNT is for "other"`},
		{"custom domain, key, no account", "https://files.example.com/c-1/x",
			map[string]string{EnvKey: key}, "", "AZURE_STORAGE_ACCOUNT names no account and the URL shows none"},
		{"https, bad key", "https://acme.blob.core.windows.net/c-1/x",
			map[string]string{EnvKey: "not base64!"}, "", "AZURE_STORAGE_KEY is not base64"},
		{"SAS in URL wins", "https://acme.blob.core.windows.net/c-1/x?sv=1&sig=abc",
			map[string]string{EnvKey: key}, "https://acme.blob.core.windows.net/c-1?sv=1&sig=abc", ""},
		{"connection string wins over account and key", "https://acme.blob.core.windows.net/c-1/x",
			map[string]string{EnvConnectionString: "AccountName=other;AccountKey=" + key, EnvKey: key}, "",
			`the URL is for storage account "acme" but AZURE_STORAGE_CONNECTION_STRING is for "other"`},
		{"azure://, connection string", "azure://c-1/x",
			map[string]string{EnvConnectionString: "AccountName=acme;AccountKey=" + key}, "https://acme.blob.core.windows.net/c-1", ""},
		{"azure://, connection string with SAS", "azure://c-1/x",
			map[string]string{EnvConnectionString: "BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=abc"},
			"https://acme.blob.core.windows.net/c-1?sv=1&sig=abc", ""},
		{"azure://, development storage", "azure://c-1/x",
			map[string]string{EnvConnectionString: "UseDevelopmentStorage=true"}, "http://127.0.0.1:10000/devstoreaccount1/c-1", ""},
		{"azure://, account and key", "azure://c-1/x",
			map[string]string{EnvAccount: "acme", EnvKey: key}, "https://acme.blob.core.windows.net/c-1", ""},
		{"azure://, account only (anonymous)", "azure://c-1/x",
			map[string]string{EnvAccount: "acme"}, "https://acme.blob.core.windows.net/c-1", ""},
		{"azure://, nothing", "azure://c-1/x", nil, "", "neither is set"},
		{"azure://, bad account", "azure://c-1/x", map[string]string{EnvAccount: "A"}, "", "AZURE_STORAGE_ACCOUNT: storage account name"},
		{"bad connection string", "azure://c-1/x", map[string]string{EnvConnectionString: "junk"}, "", "AZURE_STORAGE_CONNECTION_STRING: azurestore: connection string: part 1"},
		{"anonymous", "https://acme.blob.core.windows.net/c-1/x", nil, "https://acme.blob.core.windows.net/c-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			c, err := newClient(loc, func(k string) string { return tt.env[k] }, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one saying %q", err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), key) {
					t.Errorf("error %v shows the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.URL() != tt.wantURL {
				t.Errorf("client URL %q, want %q", c.URL(), tt.wantURL)
			}
		})
	}
}

func TestOpenURLErrors(t *testing.T) {
	t.Setenv(EnvConnectionString, "")
	t.Setenv(EnvAccount, "")
	t.Setenv(EnvKey, "")
	_, _, err := OpenURL(context.Background(), "azure://c-1/x")
	if err == nil || !strings.Contains(err.Error(), `azurestore: azure://c-1/x: an azure:// URL takes its storage account`) {
		t.Errorf("OpenURL without an account: %v", err)
	}
	_, _, err = OpenURL(context.Background(), "s3://b/x")
	var ue *URLError
	if !errors.As(err, &ue) {
		t.Errorf("OpenURL(s3://) = %v, want a *URLError", err)
	}
	t.Setenv(EnvKey, "!!")
	_, _, err = OpenURL(context.Background(), "https://acme.blob.core.windows.net/c-1/x?sv=1&sig=s3cr3t&x=1")
	if err != nil {
		t.Errorf("a SAS URL needs no key: %v", err)
	}
	_, _, err = OpenURL(context.Background(), "https://acme.blob.core.windows.net/c-1/x")
	if err == nil || !strings.Contains(err.Error(), "AZURE_STORAGE_KEY is not base64") {
		t.Errorf("bad key: %v", err)
	}
}
