package s3store

import (
	"fmt"
	"strings"
)

// URLError reports an s3:// URL that ParseURL cannot use.
type URLError struct {
	URL    string
	Reason string
}

func (e *URLError) Error() string {
	return fmt.Sprintf("s3store: URL %q: %s", e.URL, e.Reason)
}

// ParseURL splits an s3://bucket/prefix URL, as the AWS CLI writes them,
// into the bucket and the key prefix. The path is taken literally (not
// percent-decoded), because S3 keys appear unescaped in such URLs, and it
// names a folder: a prefix that does not end in "/" gets one, so that
// "s3://b/currents" does not also read "currents-old/". "s3://bucket" and
// "s3://bucket/" give the empty prefix (the whole bucket).
func ParseURL(raw string) (bucket, prefix string, err error) {
	fail := func(reason string) (string, string, error) {
		return "", "", &URLError{URL: raw, Reason: reason}
	}
	const scheme = "s3://"
	if len(raw) < len(scheme) || !strings.EqualFold(raw[:len(scheme)], scheme) {
		return fail("not an s3:// URL")
	}
	rest := raw[len(scheme):]
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return fail("no bucket name")
	}
	// Bucket names: 3 to 63 characters of lower-case letters, digits, dots
	// and hyphens; buckets created before 2018 in us-east-1 may also have
	// upper-case letters and underscores and be up to 255 long.
	if len(bucket) < 3 || len(bucket) > 255 {
		return fail(fmt.Sprintf("bucket name %q is not 3 to 255 characters long", bucket))
	}
	for _, c := range bucket {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fail(fmt.Sprintf("bucket name %q has the character %q", bucket, c))
		}
	}
	if strings.HasPrefix(prefix, "/") {
		return fail("the key prefix starts with a slash (s3://bucket//...)")
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}
