package azurestore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// The environment variables OpenURL reads, the names the Azure CLI and
// SDKs use.
const (
	EnvConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	EnvAccount          = "AZURE_STORAGE_ACCOUNT"
	EnvKey              = "AZURE_STORAGE_KEY"
)

// WithClientOptions sets the options of the client that OpenURL builds
// (retries, an HTTP transport, logging). A Store made by New ignores them.
func WithClientOptions(o *container.ClientOptions) Option {
	return func(s *Store) { s.clientOpts = o }
}

// OpenURL parses an Azure Blob URL (see ParseURL), builds a container
// client and returns a Store over the container with the prefix to list.
//
// The account and its credentials come from, in this order:
//
//   - a SAS token in the URL's query (https://.../container?sv=...&sig=...),
//     used as it is;
//   - AZURE_STORAGE_CONNECTION_STRING: its AccountKey, or its
//     SharedAccessSignature; for an azure:// URL also its BlobEndpoint or
//     AccountName (UseDevelopmentStorage=true means Azurite's
//     devstoreaccount1 at 127.0.0.1:10000);
//   - AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, a shared key; for an
//     azure:// URL the account is https://<AZURE_STORAGE_ACCOUNT>.blob.core.windows.net;
//   - none: anonymous requests, which only a container with public read
//     access answers.
//
// An account named both by the URL and by the environment must be the
// same one. Microsoft Entra ID (managed identity, az login) is not
// supported here: it needs azidentity, which this package does not link;
// build that client yourself and call New.
func OpenURL(ctx context.Context, rawURL string, opts ...Option) (store *Store, prefix string, err error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	var cfg Store
	for _, o := range opts {
		o(&cfg)
	}
	client, err := newClient(loc, os.Getenv, cfg.clientOpts)
	if err != nil {
		return nil, "", fmt.Errorf("azurestore: %s: %w", redact(rawURL), err)
	}
	return New(client, opts...), loc.Path, nil
}

// newClient resolves loc's account and credentials from the URL and
// getenv, as OpenURL documents, and builds the container client.
func newClient(loc Location, getenv func(string) string, opts *container.ClientOptions) (*container.Client, error) {
	var cs *connString
	if v := getenv(EnvConnectionString); v != "" {
		c, err := parseConnString(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvConnectionString, err)
		}
		cs = &c
	}
	envAccount, envKey := getenv(EnvAccount), getenv(EnvKey)

	if loc.ServiceURL == "" { // azure://container/prefix
		switch {
		case cs != nil:
			loc.ServiceURL, loc.Account = cs.serviceURL, cs.account
		case envAccount != "":
			if reason := checkAccount(envAccount); reason != "" {
				return nil, fmt.Errorf("%s: %s", EnvAccount, reason)
			}
			loc.ServiceURL, loc.Account = "https://"+envAccount+".blob.core.windows.net/", envAccount
		default:
			return nil, errors.New("an azure:// URL takes its storage account from " + EnvConnectionString +
				" or " + EnvAccount + ", and neither is set")
		}
	}
	containerURL := loc.ServiceURL + url.PathEscape(loc.Container)

	account := func(from, name string) (string, error) {
		switch {
		case name == "" && loc.Account == "":
			return "", fmt.Errorf("%s names no account and the URL shows none", from)
		case name != "" && loc.Account != "" && name != loc.Account:
			return "", fmt.Errorf("the URL is for storage account %q but %s is for %q", loc.Account, from, name)
		case name != "":
			return name, nil
		}
		return loc.Account, nil
	}
	switch {
	case loc.SAS != "":
		return container.NewClientWithNoCredential(containerURL+"?"+loc.SAS, opts)
	case cs != nil && cs.key != "":
		name, err := account(EnvConnectionString, cs.account)
		if err != nil {
			return nil, err
		}
		return sharedKeyClient(containerURL, name, cs.key, EnvConnectionString+" AccountKey", opts)
	case cs != nil:
		if _, err := account(EnvConnectionString, cs.account); err != nil && cs.account != "" {
			return nil, err
		}
		return container.NewClientWithNoCredential(containerURL+"?"+cs.sas, opts)
	case envKey != "":
		name, err := account(EnvAccount, envAccount)
		if err != nil {
			return nil, err
		}
		return sharedKeyClient(containerURL, name, envKey, EnvKey, opts)
	}
	return container.NewClientWithNoCredential(containerURL, opts)
}

func sharedKeyClient(containerURL, account, key, from string, opts *container.ClientOptions) (*container.Client, error) {
	// The SDK accepts a bad key and fails each request's signing; say
	// where the bad key came from, once, instead (without the key).
	if _, err := base64.StdEncoding.DecodeString(key); err != nil {
		return nil, fmt.Errorf("%s is not base64: %w", from, err)
	}
	cred, err := container.NewSharedKeyCredential(account, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
}
