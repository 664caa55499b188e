package currents

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Synthetic keys modelled on the layouts in the Currents documentation. The
// integration ids are made up.
const (
	keyDocumented = "currents-export/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=users.messages.pushnotification.Send/date=2025-04-01-17/version=6/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+0+123456.avro"
	keySchemaID   = "currents/dataexport.prod-03.GCS.integration.aaaaaaaaaaaaaaaaaaaaaaaa/event_type=users.messages.email.Send/date=2019-07-30-00/2/eu-01/dataexport.prod-03.GCS.integration.aaaaaaaaaaaaaaaaaaaaaaaa+12+0000035465.avro"
	key2017       = "s3-sample-data/event_type=users.messages.pushnotification.Send/date=2017-11-14-09/dataexport.S3.integration.599f000000000000000000aa+2+0000035465.avro"
	keyShortForm  = "exports/bbbbbbbbbbbbbbbbbbbbbbbb/event_type=users.behaviors.CustomEvent/date=2026-01-31-23/version=10/us-05/part-0001.avro"
)

func hour(s string) time.Time {
	t, err := time.Parse(hourLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		key  string
		want Key
	}{
		{keyDocumented, Key{
			Prefix: "currents-export", Cluster: "prod-01", Connection: ConnectionS3,
			IntegrationID: "0123456789abcdef01234567", EventType: "users.messages.pushnotification.Send",
			Hour: hour("2025-04-01-17"), Version: 6, Environment: "us-01", Partition: 0, Offset: 123456,
		}},
		{keySchemaID, Key{
			Prefix: "currents", Cluster: "prod-03", Connection: ConnectionGCS,
			IntegrationID: "aaaaaaaaaaaaaaaaaaaaaaaa", EventType: "users.messages.email.Send",
			Hour: hour("2019-07-30-00"), Version: 2, Environment: "eu-01", Partition: 12, Offset: 35465,
		}},
		{key2017, Key{
			Prefix: "s3-sample-data", Connection: ConnectionS3, IntegrationID: "599f000000000000000000aa",
			EventType: "users.messages.pushnotification.Send", Hour: hour("2017-11-14-09"),
			Version: -1, Partition: 2, Offset: 35465,
		}},
		{keyShortForm, Key{
			Prefix: "exports/bbbbbbbbbbbbbbbbbbbbbbbb", EventType: "users.behaviors.CustomEvent",
			Hour: hour("2026-01-31-23"), Version: 10, Environment: "us-05", Partition: -1, Offset: -1,
		}},
		// No prefix at all, Azure, an unknown connection type is kept as is.
		{"dataexport.prod-02.AzureBlob.integration.c/event_type=users.Foo/date=2030-12-31-00/version=1/x/dataexport.prod-02.AzureBlob.integration.c+1+2.avro", Key{
			Cluster: "prod-02", Connection: ConnectionAzureBlob, IntegrationID: "c", EventType: "users.Foo",
			Hour: hour("2030-12-31-00"), Version: 1, Environment: "x", Partition: 1, Offset: 2,
		}},
		{"p/dataexport.prod-09.R2.integration.d/event_type=t/date=2030-01-01-05/d.avro", Key{
			Prefix: "p", Cluster: "prod-09", Connection: "R2", IntegrationID: "d", EventType: "t",
			Hour: hour("2030-01-01-05"), Version: -1, Partition: -1, Offset: -1,
		}},
		// Unknown segments anywhere are kept in Extra, in order; doubled
		// slashes are ignored; key=value segments in another order still work.
		{"root//dataexport.prod-01.S3.integration.e/region=eu/date=2025-01-02-03/event_type=users.X/hour=3/version=7/shard-9/us-01/f+0+0.avro", Key{
			Prefix: "root/", Cluster: "prod-01", Connection: ConnectionS3, IntegrationID: "e", EventType: "users.X",
			Hour: hour("2025-01-02-03"), Version: 7, Environment: "us-01", Partition: 0, Offset: 0,
			Extra: []string{"region=eu", "hour=3", "shard-9"},
		}},
		// Monthly releases (v11 2026-08, v12 2026-09) and later ones: any
		// version number, leading zeros allowed, wherever the segment is.
		{"currents/dataexport.prod-01.S3.integration.f/event_type=users.messages.landingpage.Click/date=2026-08-06-00/version=11/us-01/dataexport.prod-01.S3.integration.f+0+1.avro", Key{
			Prefix: "currents", Cluster: "prod-01", Connection: ConnectionS3, IntegrationID: "f", EventType: "users.messages.landingpage.Click",
			Hour: hour("2026-08-06-00"), Version: 11, Environment: "us-01", Partition: 0, Offset: 1,
		}},
		{"currents/version=012/event_type=users.messages.email.Click/date=2026-09-03-10/us-01/f.avro", Key{
			Prefix: "currents/version=012", EventType: "users.messages.email.Click",
			Hour: hour("2026-09-03-10"), Version: 12, Environment: "us-01", Partition: -1, Offset: -1,
		}},
		{"c/event_type=contentoptimizer.ComponentStore/date=2027-01-01-00/version=2147483647/release=next/f.avro", Key{
			Prefix: "c", EventType: "contentoptimizer.ComponentStore", Hour: hour("2027-01-01-00"), Version: 2147483647,
			Partition: -1, Offset: -1, Extra: []string{"release=next"},
		}},
		// The older layout: the bare schema id after date=, without
		// environment; a bare integer elsewhere is an unknown segment.
		{"c/event_type=users.messages.email.Send/date=2018-01-01-00/1/f.avro", Key{
			Prefix: "c", EventType: "users.messages.email.Send", Hour: hour("2018-01-01-00"), Version: 1, Partition: -1, Offset: -1,
		}},
		{"c/7/event_type=users.messages.email.Send/date=2018-01-01-00/us-01/f.avro", Key{
			Prefix: "c/7", EventType: "users.messages.email.Send", Hour: hour("2018-01-01-00"), Version: -1, Environment: "us-01", Partition: -1, Offset: -1,
		}},
		{"c/event_type=users.messages.email.Send/date=2018-01-01-00/3/version=12/us-01/f.avro", Key{
			Prefix: "c", EventType: "users.messages.email.Send", Hour: hour("2018-01-01-00"), Version: 12, Environment: "us-01",
			Partition: -1, Offset: -1, Extra: []string{"3"},
		}},
		// Offsets of any width.
		{"event_type=t/date=2025-01-02-03/t+00000000000000000001+9223372036854775807.avro", Key{
			EventType: "t", Hour: hour("2025-01-02-03"), Version: -1, Partition: 1, Offset: 9223372036854775807,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := ParseKey(tt.key)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			tt.want.Raw = tt.key
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseKey =\n%+v\nwant\n%+v", got, tt.want)
			}
			if got.String() != tt.key {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
}

func TestParseKeyErrors(t *testing.T) {
	tests := []struct {
		key, segment, reason string
	}{
		{"", "", "empty key"},
		{"a/event_type=t/date=2025-01-02-03/f.json", "f.json", "not an .avro file"},
		{"a/event_type=t/date=2025-01-02-03/", "", "not an .avro file"},
		{"a/event_type=t/date=2025-01-02-03/.avro", ".avro", "not an .avro file"},
		{"a/date=2025-01-02-03/f.avro", "", "no event_type= segment"},
		{"a/event_type=t/f.avro", "", "no date= segment"},
		{"a/event_type=/date=2025-01-02-03/f.avro", "event_type=", "empty event type"},
		{"event_type=a/event_type=b/date=2025-01-02-03/f.avro", "event_type=b", "second event_type= segment"},
		{"event_type=a/date=2025-01-02-03/date=2025-01-02-04/f.avro", "date=2025-01-02-04", "second date= segment"},
		{"event_type=a/date=2025-01-02/f.avro", "date=2025-01-02", "date= is not a UTC hour"},
		{"event_type=a/date=2025-01-02-3/f.avro", "date=2025-01-02-3", "date= is not a UTC hour"},
		{"event_type=a/date=2025-13-02-03/f.avro", "date=2025-13-02-03", "date= is not a UTC hour"},
		{"event_type=a/date=2025-01-02-24/f.avro", "date=2025-01-02-24", "date= is not a UTC hour"},
		{"event_type=a/date=2025-01-02-03/version=v6/f.avro", "version=v6", "version= is not"},
		{"event_type=a/date=2025-01-02-03/version=-1/f.avro", "version=-1", "version= is not"},
		{"event_type=a/date=2025-01-02-03/version=1/version=2/f.avro", "version=2", "second version="},
		{"event_type=a/date=2025-01-02-03/version=/f.avro", "version=", "version= is not"},
		{"event_type=a/date=2025-01-02-03/version=2147483648/f.avro", "version=2147483648", "version= is not"},
		{"event_type=a/date=2025-01-02-03/99999999999/f.avro", "99999999999", "schema id is not an integer"},
		{"event_type=a/date=2025-01-02-03/t+1.avro", "t+1.avro", "file name is not"},
		{"event_type=a/date=2025-01-02-03/t+1+2+3.avro", "t+1+2+3.avro", "file name is not"},
		{"event_type=a/date=2025-01-02-03/t+x+2.avro", "t+x+2.avro", "partition is not"},
		{"event_type=a/date=2025-01-02-03/t+1+-2.avro", "t+1+-2.avro", "offset is not"},
		{"event_type=a/date=2025-01-02-03/t+1+9223372036854775808.avro", "t+1+9223372036854775808.avro", "offset is not"},
		{"dataexport.prod-01.S3.integration.a/event_type=t/date=2025-01-02-03/dataexport.prod-01.S3.integration.b+0+1.avro",
			"dataexport.prod-01.S3.integration.b+0+1.avro", "file name's topic disagrees with directory"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := ParseKey(tt.key)
			if err == nil {
				t.Fatal("ParseKey succeeded")
			}
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("errors.Is(%v, ErrInvalidKey) = false", err)
			}
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("error %T is not a *KeyError", err)
			}
			if ke.Key != tt.key || ke.Segment != tt.segment || !strings.HasPrefix(ke.Reason, tt.reason) {
				t.Errorf("KeyError{Key: %q, Segment: %q, Reason: %q}, want segment %q reason %q…",
					ke.Key, ke.Segment, ke.Reason, tt.segment, tt.reason)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.key)) {
				t.Errorf("message %q does not name the key", err)
			}
		})
	}
}

func ExampleParseKey() {
	k, err := ParseKey("currents-export/dataexport.prod-01.S3.integration.0123456789abcdef01234567/event_type=users.messages.email.Send/date=2025-04-01-17/version=6/us-01/dataexport.prod-01.S3.integration.0123456789abcdef01234567+0+123456.avro")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.EventType, k.Hour.Format(time.RFC3339), k.Version, k.Environment, k.Partition, k.Offset)

	_, err = ParseKey("currents-export/event_type=users.messages.email.Send/date=2025-04-01/x.avro")
	fmt.Println(err)
	// Output:
	// users.messages.email.Send 2025-04-01T17:00:00Z 6 us-01 0 123456
	// currents: object key "currents-export/event_type=users.messages.email.Send/date=2025-04-01/x.avro": segment "date=2025-04-01": date= is not a UTC hour YYYY-MM-DD-HH
}
