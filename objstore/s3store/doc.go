// Package s3store is an objstore.Store over Amazon S3 (or any
// S3-compatible store): Store lists a bucket prefix and opens objects
// through an aws-sdk-go-v2 S3 client, and ParseURL reads the
// s3://bucket/prefix form that command-line tools take.
//
// It is a separate package so that programs reading from local disk (or
// another cloud) do not link the AWS SDK. Reading Braze Currents files
// from a bucket:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	...
//	bucket, prefix, err := s3store.ParseURL("s3://my-bucket/currents")
//	...
//	store := s3store.New(s3.NewFromConfig(cfg), bucket)
//	src := currents.NewSource(store, prefix, currents.WithEventTypes("users.messages.email.Send"))
//	for ke, err := range src.All(ctx) {
//		...
//	}
package s3store
