// Package gcsstore reads objects from Google Cloud Storage as an
// objstore.Store: Store lists a bucket (in key order, page by page, and one
// folder level at a time for objstore.DirLister) and opens objects through
// a cloud.google.com/go/storage client; ParseURL reads the gs://bucket/prefix
// form that gcloud and gsutil print; OpenURL builds the client from
// Application Default Credentials.
//
// It is a separate package so that programs that read from local disk, S3
// or Azure do not link the Google Cloud client (and its gRPC and
// OpenTelemetry dependencies).
//
//	store, prefix, err := gcsstore.OpenURL(ctx, "gs://my-bucket/currents")
//	...
//	defer store.Close()
//	src := currents.NewSource(store, prefix, currents.WithEventTypes("users.messages.email.Send"))
//	for ke, err := range src.All(ctx) {
//		...
//	}
package gcsstore
