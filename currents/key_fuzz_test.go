package currents

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseKey checks that ParseKey never panics, that every failure is a
// *KeyError matching ErrInvalidKey, and that what it accepts is consistent
// with the key it was given.
func FuzzParseKey(f *testing.F) {
	for _, k := range []string{
		keyDocumented, keySchemaID, key2017, keyShortForm,
		"event_type=t/date=2025-01-02-03/t+00000000000000000001+9223372036854775807.avro",
		"root//dataexport.prod-01.S3.integration.e/region=eu/date=2025-01-02-03/event_type=users.X/hour=3/version=7/shard-9/us-01/f+0+0.avro",
		"event_type=a/date=2025-01-02-3/f.avro",
		"event_type=a/date=2025-01-02-03/t+1+-2.avro",
		"dataexport.prod-01.S3.integration.a/event_type=t/date=2025-01-02-03/dataexport.prod-01.S3.integration.b+0+1.avro",
		"a/event_type=t/date=2025-01-02-03/.avro",
		"",
		"currents/dataexport.prod-01.S3.integration.f/event_type=users.messages.landingpage.Click/date=2026-08-06-00/version=11/us-01/dataexport.prod-01.S3.integration.f+0+1.avro",
		"currents/version=012/event_type=users.messages.email.Click/date=2026-09-03-10/us-01/f.avro",
		"c/event_type=users.messages.email.Send/date=2018-01-01-00/3/version=12/us-01/f.avro",
		"c/event_type=users.messages.email.Send/date=2018-01-01-00/1/f.avro",
	} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k, err := ParseKey(key)
		if err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) || !errors.Is(err, ErrInvalidKey) || ke.Key != key {
				t.Fatalf("ParseKey(%q) error %v (%T) is not a *KeyError for the key", key, err, err)
			}
			if ke.Segment != "" && !strings.Contains(key, ke.Segment) {
				t.Fatalf("KeyError segment %q not in key %q", ke.Segment, key)
			}
			return
		}
		if k.Raw != key || !strings.HasSuffix(key, ".avro") {
			t.Fatalf("accepted %q with Raw %q", key, k.Raw)
		}
		segs := strings.Split(key, "/")
		if k.EventType == "" || !slices.Contains(segs, "event_type="+k.EventType) {
			t.Fatalf("event type %q is not a segment of %q", k.EventType, key)
		}
		if !slices.Contains(segs, "date="+k.Hour.Format(hourLayout)) || k.Hour.Location().String() != "UTC" {
			t.Fatalf("hour %v is not a segment of %q", k.Hour, key)
		}
		if k.Version < -1 || k.Partition < -1 || k.Offset < -1 || (k.Partition < 0) != (k.Offset < 0) {
			t.Fatalf("bad numbers in %+v", k)
		}
		if k.Version >= 0 && !versionSegment(segs, k.Version) {
			t.Fatalf("version %d is neither a version= segment nor the bare integer after date= in %q", k.Version, key)
		}
		if k.Prefix != "" && !strings.HasPrefix(key, k.Prefix+"/") {
			t.Fatalf("prefix %q does not start %q", k.Prefix, key)
		}
		if k.Environment != "" && segs[len(segs)-2] != k.Environment {
			t.Fatalf("environment %q is not the file's directory in %q", k.Environment, key)
		}
		for _, e := range k.Extra {
			if e == "" || !slices.Contains(segs, e) {
				t.Fatalf("extra %q not a segment of %q", e, key)
			}
		}
		again, err := ParseKey(key)
		if err != nil || !reflect.DeepEqual(again, k) {
			t.Fatalf("ParseKey is not deterministic on %q", key)
		}
	})
}

// versionSegment reports whether segs hold version=<v> (any zero padding)
// or <v> as the bare segment right after date=.
func versionSegment(segs []string, v int) bool {
	for i, s := range segs[:len(segs)-1] {
		n, named := strings.CutPrefix(s, "version=")
		if !named && (i == 0 || !strings.HasPrefix(segs[i-1], "date=")) {
			continue
		}
		if x, err := strconv.Atoi(n); err == nil && x == v && isDigits(n) {
			return true
		}
	}
	return false
}
