package gcsstore

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, bucket, prefix string
	}{
		{"gs://my-bucket", "my-bucket", ""},
		{"gs://my-bucket/", "my-bucket", ""},
		{"gs://my-bucket/currents", "my-bucket", "currents/"},
		{"gs://my-bucket/currents/", "my-bucket", "currents/"},
		{"GS://my_bucket.example.com/a b/c+d%20e", "my_bucket.example.com", "a b/c+d%20e/"},
		{"gs://abc/ü/", "abc", "ü/"},
	}
	for _, tt := range tests {
		b, p, err := ParseURL(tt.url)
		if err != nil || b != tt.bucket || p != tt.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.url, b, p, err, tt.bucket, tt.prefix)
		}
	}
	if b, n, err := SplitURL("gs://bkt/exports/a.parquet"); err != nil || b != "bkt" || n != "exports/a.parquet" {
		t.Errorf("SplitURL = %q, %q, %v", b, n, err)
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ url, reason string }{
		{"s3://bucket/x", "not a gs:// URL"},
		{"gs:/", "not a gs:// URL"},
		{"gs://", "no bucket name"},
		{"gs:///x", "no bucket name"},
		{"gs://ab/x", "not 3 to 63"},
		{"gs://" + strings.Repeat("a", 64), "not 3 to 63"},
		{"gs://My-Bucket/x", `character 'M'`},
		{"gs://-bucket/x", "does not start and end"},
		{"gs://bucket-/x", "does not start and end"},
		{"gs://a..b/x", "dot-separated part"},
		{"gs://" + strings.Repeat("a", 64) + ".b", "dot-separated part"},
		{"gs://bucket//x", "starts with a slash"},
		{"gs://bucket/a\nb", "line feed"},
		{"gs://bucket/\xff", "UTF-8"},
		{"gs://bucket/" + strings.Repeat("a", 1025), "1025 bytes"},
	}
	for _, tt := range tests {
		_, _, err := ParseURL(tt.url)
		var ue *URLError
		if !errors.As(err, &ue) || ue.URL != tt.url || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ParseURL(%q) error %v, want a *URLError saying %q", tt.url, err, tt.reason)
		}
	}
}

// FuzzParseURL checks that ParseURL never panics, that what it accepts is
// a gs:// URL whose bucket follows GCS's rules and whose prefix names a
// folder, and that rebuilding the URL from its parts parses the same.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"gs://bucket", "gs://b.c.d/x/y", "GS://abc//", "gs://a-b_c/ü\n", "s3://x/y", "gs://" + strings.Repeat("a.", 40) + "b/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		bucket, prefix, err := ParseURL(raw)
		if err != nil {
			var ue *URLError
			if !errors.As(err, &ue) || ue.URL != raw {
				t.Fatalf("error %v is not a *URLError for the input", err)
			}
			return
		}
		if checkBucket(bucket) != "" || !strings.EqualFold(raw[:5], "gs://") {
			t.Fatalf("accepted %q: bucket %q", raw, bucket)
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") || strings.HasPrefix(prefix, "/") {
			t.Fatalf("accepted %q: prefix %q", raw, prefix)
		}
		b2, p2, err := ParseURL("gs://" + bucket + "/" + prefix)
		if err != nil || b2 != bucket || p2 != prefix {
			t.Fatalf("round trip of %q: %q, %q, %v", raw, b2, p2, err)
		}
	})
}
