package currents

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Connection types that appear in the dataexport segment of a Currents key.
// Other values are accepted as they are: Braze warns that naming may change.
const (
	ConnectionS3        = "S3"
	ConnectionAzureBlob = "AzureBlob"
	ConnectionGCS       = "GCS"
)

// hourLayout is the layout of the date= segment: the UTC hour in which Braze
// queued the events of the file.
const hourLayout = "2006-01-02-15"

// Key is a parsed Currents object key. The documented layout is
//
//	<prefix>/dataexport.<cluster>.<connection>.integration.<id>/event_type=<type>/date=<YYYY-MM-DD-HH>/version=<n>/<environment>/dataexport.<cluster>.<connection>.integration.<id>+<partition>+<offset>.avro
//
// but Braze warns the naming may change, so ParseKey reads the parts it
// knows wherever they appear and keeps the rest in Extra. A part the key
// does not have is left empty, or -1 for Version, Partition and Offset.
type Key struct {
	// Raw is the key exactly as given to ParseKey.
	Raw string
	// Prefix is the part of the key before the dataexport directory (or,
	// when there is none, before the event_type= segment), as written in the
	// key but without the slash that ends it.
	Prefix string
	// Cluster is Braze's internal cluster, e.g. "prod-01". Keys written
	// before clusters appeared in the name (2017) have none.
	Cluster string
	// Connection is the connection type: ConnectionS3, ConnectionAzureBlob,
	// ConnectionGCS or a newer value.
	Connection string
	// IntegrationID is the Currents integration's id (24 hex characters in
	// every known key; not checked).
	IntegrationID string
	// EventType is the event type from the event_type= segment, e.g.
	// "users.messages.email.Send". It is always set by ParseKey.
	EventType string
	// Hour is the date= segment: the UTC hour in which Braze queued the
	// events, not the time of the events. It is always set by ParseKey.
	Hour time.Time
	// Version is the Currents version from version=<n> or the bare integer
	// segment (older "schema id") after date=; -1 when the key has neither.
	Version int
	// Environment is Braze's internal environment, e.g. "us-01": the directory
	// just above the file, when it follows date= and is not a version.
	Environment string
	// Partition and Offset are the +<partition>+<offset> numbers of the file
	// name (any width, leading zeros allowed); -1 when the name has none.
	Partition, Offset int64
	// Extra holds the segments ParseKey did not recognise, in key order.
	Extra []string
}

// String returns the raw key.
func (k Key) String() string { return k.Raw }

// ErrInvalidKey is matched (with errors.Is) by every error ParseKey returns.
var ErrInvalidKey = errors.New("currents: invalid object key")

// KeyError reports why an object key is not a Currents key.
type KeyError struct {
	// Key is the key that was parsed.
	Key string
	// Segment is the offending path segment, or "" when the problem is with
	// the key as a whole (e.g. a missing event_type= segment).
	Segment string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying parse error, if any.
	Err error
}

func (e *KeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "currents: object key %q", e.Key)
	if e.Segment != "" {
		fmt.Fprintf(&b, ": segment %q", e.Segment)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying parse error.
func (e *KeyError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidKey.
func (e *KeyError) Is(target error) bool { return target == ErrInvalidKey }

// ParseKey parses a Currents object key (an S3/GCS/Azure object name or a
// slash-separated path relative to a directory).
//
// The key must name a ".avro" file and have one event_type= and one date=
// segment; everything else is optional. version=<n> (or a bare integer right
// after date=) gives Version. A dataexport.[<cluster>.]<connection>.integration.<id>
// directory or file name gives Cluster, Connection and IntegrationID; if both
// are present they must agree. Unknown segments, including unknown key=value
// segments, are kept in Extra rather than rejected. The event type is taken
// only from event_type=, never from the Avro record name, which Braze has
// renamed over the years.
func ParseKey(key string) (Key, error) {
	k := Key{Raw: key, Version: -1, Partition: -1, Offset: -1}
	fail := func(seg, reason string, err error) (Key, error) {
		return Key{}, &KeyError{Key: key, Segment: seg, Reason: reason, Err: err}
	}
	if key == "" {
		return fail("", "empty key", nil)
	}
	segs := strings.Split(key, "/")
	name := segs[len(segs)-1]
	dirs := segs[:len(segs)-1]
	if !strings.HasSuffix(name, ".avro") || name == ".avro" {
		return fail(name, "not an .avro file", nil)
	}

	eventIdx, dateIdx, versionIdx, exportIdx := -1, -1, -1, -1
	for i, seg := range dirs {
		switch {
		case seg == "":
			// Doubled or leading slashes: S3 allows them and they carry no
			// meaning for Currents, so they are neither Extra nor an error.
		case strings.HasPrefix(seg, "event_type="):
			if eventIdx >= 0 {
				return fail(seg, "second event_type= segment", nil)
			}
			k.EventType = strings.TrimPrefix(seg, "event_type=")
			if k.EventType == "" {
				return fail(seg, "empty event type", nil)
			}
			eventIdx = i
		case strings.HasPrefix(seg, "date="):
			if dateIdx >= 0 {
				return fail(seg, "second date= segment", nil)
			}
			v := strings.TrimPrefix(seg, "date=")
			h, err := time.Parse(hourLayout, v)
			// time.Parse accepts a one-digit hour; the round trip insists on
			// the fixed width Braze writes.
			if err != nil || h.Format(hourLayout) != v {
				return fail(seg, "date= is not a UTC hour YYYY-MM-DD-HH", nil)
			}
			k.Hour = h
			dateIdx = i
		case strings.HasPrefix(seg, "version="):
			if versionIdx >= 0 {
				return fail(seg, "second version= segment", nil)
			}
			v, err := parseVersion(strings.TrimPrefix(seg, "version="))
			if err != nil {
				return fail(seg, "version= is not a non-negative integer", err)
			}
			k.Version = v
			versionIdx = i
		case strings.HasPrefix(seg, "dataexport.") && exportIdx < 0:
			if ex, ok := parseExport(seg); ok {
				k.Cluster, k.Connection, k.IntegrationID = ex.cluster, ex.connection, ex.integration
				exportIdx = i
			}
		}
	}
	if eventIdx < 0 {
		return fail("", "no event_type= segment", nil)
	}
	if dateIdx < 0 {
		return fail("", "no date= segment", nil)
	}
	// The older layout writes the version ("schema id") as a bare integer
	// in the place of version=.
	if versionIdx < 0 && dateIdx+1 < len(dirs) && isDigits(dirs[dateIdx+1]) {
		v, err := parseVersion(dirs[dateIdx+1])
		if err != nil {
			return fail(dirs[dateIdx+1], "schema id is not an integer", err)
		}
		k.Version = v
		versionIdx = dateIdx + 1
	}
	// The environment is the directory holding the file, when it sits below
	// the date (and version) segments.
	if last := len(dirs) - 1; last > dateIdx && last != versionIdx && last != eventIdx && last != exportIdx &&
		dirs[last] != "" && !strings.Contains(dirs[last], "=") {
		k.Environment = dirs[last]
	}
	// Prefix and Extra.
	prefixEnd := eventIdx
	if exportIdx >= 0 && exportIdx < eventIdx {
		prefixEnd = exportIdx
	}
	k.Prefix = strings.Join(dirs[:prefixEnd], "/")
	for i := prefixEnd; i < len(dirs); i++ {
		seg := dirs[i]
		if seg == "" || i == eventIdx || i == dateIdx || i == versionIdx || i == exportIdx ||
			(k.Environment != "" && i == len(dirs)-1) {
			continue
		}
		k.Extra = append(k.Extra, seg)
	}

	// File name: [<topic>]+<partition>+<offset>.avro, the Kafka Connect sink
	// naming. A name without '+' is accepted (the shorter documented layout
	// does not say what the file is called).
	base := strings.TrimSuffix(name, ".avro")
	if strings.Contains(base, "+") {
		parts := strings.Split(base, "+")
		if len(parts) != 3 {
			return fail(name, "file name is not <topic>+<partition>+<offset>.avro", nil)
		}
		p, err := parseCounter(parts[1])
		if err != nil {
			return fail(name, "partition is not a non-negative integer", err)
		}
		o, err := parseCounter(parts[2])
		if err != nil {
			return fail(name, "offset is not a non-negative integer", err)
		}
		k.Partition, k.Offset = p, o
		if ex, ok := parseExport(parts[0]); ok {
			if exportIdx >= 0 && (ex.cluster != k.Cluster || ex.connection != k.Connection || ex.integration != k.IntegrationID) {
				return fail(name, fmt.Sprintf("file name's topic disagrees with directory %q", dirs[exportIdx]), nil)
			}
			k.Cluster, k.Connection, k.IntegrationID = ex.cluster, ex.connection, ex.integration
		}
	}
	return k, nil
}

type exportSegment struct{ cluster, connection, integration string }

// parseExport reads dataexport.<cluster>.<connection>.integration.<id> and
// the 2017 form dataexport.<connection>.integration.<id>.
func parseExport(s string) (exportSegment, bool) {
	parts := strings.Split(s, ".")
	for _, p := range parts {
		if p == "" {
			return exportSegment{}, false
		}
	}
	switch {
	case len(parts) == 5 && parts[0] == "dataexport" && parts[3] == "integration":
		return exportSegment{cluster: parts[1], connection: parts[2], integration: parts[4]}, true
	case len(parts) == 4 && parts[0] == "dataexport" && parts[2] == "integration":
		return exportSegment{connection: parts[1], integration: parts[3]}, true
	}
	return exportSegment{}, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseVersion(s string) (int, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("%q has a non-digit", s)
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, err
	}
	return int(v), nil
}

// parseCounter parses a partition or offset: decimal digits of any width
// (2017 keys zero-pad offsets to 10 digits), within int64.
func parseCounter(s string) (int64, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("%q has a non-digit", s)
	}
	return strconv.ParseInt(s, 10, 64)
}
