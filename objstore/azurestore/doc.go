// Package azurestore reads objects from Azure Blob Storage as an
// objstore.Store: Store lists a container (in name order, page by page, and
// one folder level at a time for objstore.DirLister) and opens blobs
// through an azblob container client; ParseURL reads the URL forms a user
// copies from the portal or Azurite's documentation; OpenURL builds the
// client from a connection string, a shared key or a SAS token.
//
// It is a separate package so that programs that read from local disk, S3
// or GCS do not link the Azure SDK. It links only azblob and azcore: not
// azidentity, whose Microsoft Entra ID credentials (managed identity,
// workload identity, the Azure CLI) bring in MSAL and its dependencies. A
// caller that wants those builds the container client with
// container.NewClient and an azidentity credential, and passes it to New.
//
//	store, prefix, err := azurestore.OpenURL(ctx, "https://acme.blob.core.windows.net/currents/prod")
//	...
//	src := currents.NewSource(store, prefix, currents.WithEventTypes("users.messages.email.Send"))
//	for ke, err := range src.All(ctx) {
//		...
//	}
package azurestore
