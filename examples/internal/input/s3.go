package input

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ampbraze/ampbraze/objstore/s3store"
)

// openS3 opens "s3://bucket/key" or "s3://bucket/prefix/" (a folder,
// because of the trailing slash). AWS credentials and region come from the
// SDK's default chain.
func openS3(ctx context.Context, in string, opt Options) (*Location, error) {
	// ParseURL checks the bucket name and the prefix; it takes the path as
	// a folder, so a single object's key is cut from in itself.
	bucket, prefix, err := s3store.ParseURL(in)
	if err != nil {
		return nil, err
	}
	key := in[len("s3://")+len(bucket):]
	if key != "" {
		key = key[1:] // the "/" after the bucket
	}
	if key == "" || key[len(key)-1] == '/' {
		key = prefix
	}
	client, err := newS3(ctx, opt)
	if err != nil {
		return nil, err
	}
	return bucketLocation(in, "s3://"+bucket+"/", s3store.New(client, bucket), key), nil
}

func newS3(ctx context.Context, opt Options) (*s3.Client, error) {
	var loadOpts []func(*config.LoadOptions) error
	if opt.HTTPClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(opt.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// S3-compatible servers often send no checksums; the SDK would
		// log a warning for every object read.
		o.DisableLogOutputChecksumValidationSkipped = true
		if opt.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(opt.S3Endpoint)
			o.UsePathStyle = true
		}
	}), nil
}
