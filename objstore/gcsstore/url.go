package gcsstore

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// URLError reports a gs:// URL that ParseURL cannot use.
type URLError struct {
	// URL is the URL as given.
	URL string
	// Reason says what is wrong with it.
	Reason string
}

func (e *URLError) Error() string {
	return fmt.Sprintf("gcsstore: URL %q: %s", e.URL, e.Reason)
}

// ParseURL splits a gs://bucket/prefix URL, as gcloud storage and gsutil
// print them, into the bucket and the key prefix. The path is taken
// literally (not percent-decoded), because those tools print object names
// unescaped, and it names a folder: a prefix that does not end in "/" gets
// one, so that "gs://b/currents" does not also read "currents-old/".
// "gs://bucket" and "gs://bucket/" give the empty prefix (the whole
// bucket).
func ParseURL(raw string) (bucket, prefix string, err error) {
	bucket, prefix, err = SplitURL(raw)
	if err != nil {
		return "", "", err
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if len(prefix) > maxName {
		return "", "", &URLError{URL: raw, Reason: fmt.Sprintf("the folder name %q is over %d bytes long, longer than any object name", prefix, maxName)}
	}
	return bucket, prefix, nil
}

// SplitURL splits a gs://bucket/name URL into the bucket and the rest of
// the path, unchanged: an object's full name, or a prefix ending in "/".
// Callers that accept either one object or a folder use it, and ParseURL
// when the URL always names a folder.
func SplitURL(raw string) (bucket, name string, err error) {
	fail := func(reason string) (string, string, error) {
		return "", "", &URLError{URL: raw, Reason: reason}
	}
	const scheme = "gs://"
	if len(raw) < len(scheme) || !strings.EqualFold(raw[:len(scheme)], scheme) {
		return fail("not a gs:// URL")
	}
	bucket, name, _ = strings.Cut(raw[len(scheme):], "/")
	if reason := checkBucket(bucket); reason != "" {
		return fail(reason)
	}
	if strings.HasPrefix(name, "/") {
		return fail("the object name starts with a slash (gs://bucket//...)")
	}
	// Object names are at most 1024 bytes of UTF-8 without carriage
	// returns or line feeds.
	if len(name) > maxName {
		return fail(fmt.Sprintf("the object name is %d bytes long; GCS allows %d", len(name), maxName))
	}
	if strings.ContainsAny(name, "\r\n") {
		return fail("the object name has a carriage return or line feed")
	}
	if !utf8.ValidString(name) {
		return fail("the object name is not valid UTF-8")
	}
	return bucket, name, nil
}

// checkBucket applies GCS's bucket naming rules and returns what breaks
// them, or "": 3 to 63 characters of lower-case letters, digits, hyphens,
// underscores and dots, starting and ending with a letter or digit; a name
// with dots may be up to 222 characters, each dot-separated part at most
// 63. Checking here turns a typo into an error that names the URL, instead
// of a 400 from the server.
func checkBucket(b string) string {
	switch {
	case b == "":
		return "no bucket name"
	case len(b) < 3 || len(b) > 222 || (len(b) > 63 && !strings.Contains(b, ".")):
		return fmt.Sprintf("bucket name %q is not 3 to 63 characters long (222 with dots)", b)
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Sprintf("bucket name %q has the character %q (GCS allows lower-case letters, digits, '-', '_' and '.')", b, c)
		}
	}
	if !alnum(b[0]) || !alnum(b[len(b)-1]) {
		return fmt.Sprintf("bucket name %q does not start and end with a letter or digit", b)
	}
	for part := range strings.SplitSeq(b, ".") {
		if part == "" || len(part) > 63 {
			return fmt.Sprintf("bucket name %q has a dot-separated part that is empty or over 63 characters", b)
		}
	}
	return ""
}

// maxName is GCS's limit on an object name, in bytes.
const maxName = 1024

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
