package s3store

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, bucket, prefix string
	}{
		{"s3://my-bucket", "my-bucket", ""},
		{"s3://my-bucket/", "my-bucket", ""},
		{"s3://my-bucket/currents", "my-bucket", "currents/"},
		{"s3://my-bucket/currents/", "my-bucket", "currents/"},
		{"S3://My_Legacy.Bucket/a/b c/%41+x=y", "My_Legacy.Bucket", "a/b c/%41+x=y/"},
		{"s3://b.c/currents-export/dataexport.prod-01.S3.integration.0123456789abcdef01234567", "b.c",
			"currents-export/dataexport.prod-01.S3.integration.0123456789abcdef01234567/"},
	}
	for _, tt := range tests {
		b, p, err := ParseURL(tt.url)
		if err != nil || b != tt.bucket || p != tt.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.url, b, p, err, tt.bucket, tt.prefix)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, u := range []string{
		"", "s3:/", "s3://", "s3:///prefix", "http://bucket/prefix", "bucket/prefix", "gs://bucket",
		"s3://ab", "s3://bucket name/x", "s3://bucket?x=1", "s3://bucket//x",
	} {
		_, _, err := ParseURL(u)
		var ue *URLError
		if !errors.As(err, &ue) || ue.URL != u {
			t.Errorf("ParseURL(%q) error %v", u, err)
		}
	}
}

func ExampleParseURL() {
	bucket, prefix, err := ParseURL("s3://acme-currents/currents-export")
	fmt.Println(bucket, prefix, err)
	// Output: acme-currents currents-export/ <nil>
}
