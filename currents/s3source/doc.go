// Package s3source reads Braze Currents files from Amazon S3 (or any
// S3-compatible store) for package currents: Store lists a bucket prefix
// and opens objects through an aws-sdk-go-v2 S3 client, and ParseURL reads
// the s3://bucket/prefix form that command-line tools take.
//
// It is a separate package so that programs reading Currents files from
// local disk do not link the AWS SDK.
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	...
//	bucket, prefix, err := s3source.ParseURL("s3://my-bucket/currents")
//	...
//	store := s3source.New(s3.NewFromConfig(cfg), bucket)
//	src := currents.NewSource(store, prefix, currents.WithEventTypes("users.messages.email.Send"))
//	for ke, err := range src.All(ctx) {
//		...
//	}
package s3source
