package input

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ampbraze/ampbraze/objstore/azurestore"
	"github.com/ampbraze/ampbraze/objstore/gcsstore"
)

// openGCS opens "gs://bucket/name" or "gs://bucket/prefix/" (a folder,
// because of the trailing slash). Credentials are Google's Application
// Default Credentials; STORAGE_EMULATOR_HOST points the client at an
// emulator (see gcsstore.OpenURL). opt.HTTPClient is not used: a GCS
// client given an HTTP client does no authentication of its own.
func openGCS(ctx context.Context, in string, _ Options) (*Location, error) {
	bucket, name, err := gcsstore.SplitURL(in)
	if err != nil {
		return nil, err
	}
	store, _, err := gcsstore.OpenURL(ctx, in)
	if err != nil {
		return nil, err
	}
	return bucketLocation(in, "gs://"+bucket+"/", store, name), nil
}

// openAzure opens an Azure Blob URL naming a blob or a folder (trailing
// slash) of a container: https://<account>.blob.core.windows.net/<container>/...,
// an emulator's http://127.0.0.1:10000/<account>/<container>/..., or
// azure://<container>/... with the account from the environment. The
// credentials come from the URL's SAS token or the environment (see
// azurestore.OpenURL).
func openAzure(ctx context.Context, in string, opt Options) (*Location, error) {
	loc, err := azurestore.SplitURL(in)
	if err != nil {
		return nil, err
	}
	shown := azurestore.RedactURL(in)
	if loc.ServiceURL != "" && loc.Account == "" {
		// The http(s) schemes are Azure's here; say so for any other URL.
		return nil, fmt.Errorf("%q: an http(s):// input is an Azure Blob URL: https://<account>.blob.core.windows.net/<container>/... (or an emulator's http://127.0.0.1:10000/<account>/<container>/...)", shown)
	}
	var opts []azurestore.Option
	if opt.HTTPClient != nil {
		opts = append(opts, azurestore.WithClientOptions(&container.ClientOptions{
			ClientOptions: azcore.ClientOptions{Transport: opt.HTTPClient},
		}))
	}
	store, _, err := azurestore.OpenURL(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	return bucketLocation(shown, store.URL(""), store, loc.Path), nil
}

// Redact returns the input as it may be shown in logs and messages: an
// Azure SAS signature is replaced, anything else is returned as given.
func Redact(in string) string {
	if strings.HasPrefix(in, "https://") || strings.HasPrefix(in, "http://") || strings.HasPrefix(in, "azure://") {
		return azurestore.RedactURL(in)
	}
	return in
}
