package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
)

// mappingFile is the JSON file given with -mapping: overrides of the
// mapper's automatic decisions, one key per amperity.MapperOption (named
// beside each field, for readers of this code; messages name the keys).
//
//	{
//	  "columns":    {"customer_id": "external_id", "tier": "loyalty_tier"},
//	  "ignore":     ["amperity_id", "internal_score"],
//	  "audiences":  ["aud_high_value", "aud_winback"],
//	  "precedence": {"email": ["email_primary", "email_fallback"]},
//	  "timezone":   "America/New_York"
//	}
type mappingFile struct {
	// Columns sends a column to exactly this Braze attribute (MapColumn).
	Columns map[string]string `json:"columns"`
	// Ignore keeps columns out of the records (IgnoreColumns).
	Ignore []string `json:"ignore"`
	// Audiences are membership columns, sent as booleans and as false when
	// a user leaves (AudienceColumns).
	Audiences []string `json:"audiences"`
	// AudienceArray gathers audiences into one string-array attribute.
	AudienceArray string `json:"audience_array"`
	// InAudience marks every row as a member of these audiences.
	InAudience []string `json:"in_audience"`
	// Precedence lets several columns feed one attribute, first non-null wins.
	Precedence map[string][]string `json:"precedence"`
	// KeepAsWritten skips the normalisation of these columns.
	KeepAsWritten []string `json:"keep_as_written"`
	// OmitNulls leaves NULL cells out instead of clearing the attribute.
	OmitNulls bool `json:"omit_nulls"`
	// EmptyStringsAsNull treats "" in String columns as NULL.
	EmptyStringsAsNull bool `json:"empty_strings_as_null"`
	// ConsentFields lets email_subscribe, push_subscribe and
	// subscription_groups through (Braze is their source of truth by default).
	ConsentFields bool `json:"consent_fields"`
	// LowercaseEmails lower-cases the email field.
	LowercaseEmails bool `json:"lowercase_emails"`
	// Timezone is the zone of datetimes written without one (default UTC).
	Timezone string `json:"timezone"`
}

// keys lists every key of a mapping file: where its value goes and
// what it must be, in the words an error shows.
func (m *mappingFile) keys() []mappingKey {
	return []mappingKey{
		{"columns", &m.Columns, `an object of "column": "Braze attribute" pairs`},
		{"ignore", &m.Ignore, "a list of column names"},
		{"audiences", &m.Audiences, "a list of column names"},
		{"audience_array", &m.AudienceArray, "an attribute name (a string)"},
		{"in_audience", &m.InAudience, "a list of audience names"},
		{"precedence", &m.Precedence, `an object of "Braze attribute": ["column", ...] lists`},
		{"keep_as_written", &m.KeepAsWritten, "a list of column names"},
		{"omit_nulls", &m.OmitNulls, "true or false"},
		{"empty_strings_as_null", &m.EmptyStringsAsNull, "true or false"},
		{"consent_fields", &m.ConsentFields, "true or false"},
		{"lowercase_emails", &m.LowercaseEmails, "true or false"},
		{"timezone", &m.Timezone, `an IANA time zone name (a string such as "America/New_York")`},
	}
}

type mappingKey struct {
	name string
	dst  any
	want string
}

// mappingOptionNames is how the mapper's messages name its options for a
// user of this program: by the mapping file's keys, not the Go options.
var mappingOptionNames = map[string]string{
	"MapColumn":          `mapping "columns"`,
	"IgnoreColumns":      `mapping "ignore"`,
	"KeepAsWritten":      `mapping "keep_as_written"`,
	"Precedence":         `mapping "precedence"`,
	"AudienceColumns":    `mapping "audiences"`,
	"AudienceArray":      `mapping "audience_array"`,
	"InAudience":         `mapping "in_audience"`,
	"WithConsentFields":  `mapping "consent_fields": true`,
	"UpdateExistingOnly": "-update-existing-only",
}

// loadMapping reads a -mapping file into mapper options. Unknown keys are
// errors, so a typo does not silently leave a column unmapped; every error
// names the file, line and column.
func loadMapping(path string) ([]amperity.MapperOption, error) {
	opts := []amperity.MapperOption{amperity.OptionNames(mappingOptionNames)}
	if path == "" {
		return opts, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m mappingFile
	at, err := decodeMapping(path, b, &m)
	if err != nil {
		return nil, err
	}
	for _, col := range slices.Sorted(maps.Keys(m.Columns)) {
		opts = append(opts, amperity.MapColumn(col, m.Columns[col]))
	}
	if len(m.Ignore) > 0 {
		opts = append(opts, amperity.IgnoreColumns(m.Ignore...))
	}
	if len(m.Audiences) > 0 {
		opts = append(opts, amperity.AudienceColumns(m.Audiences...))
	}
	if m.AudienceArray != "" {
		opts = append(opts, amperity.AudienceArray(m.AudienceArray))
	}
	for _, a := range m.InAudience {
		opts = append(opts, amperity.InAudience(a))
	}
	for _, field := range slices.Sorted(maps.Keys(m.Precedence)) {
		opts = append(opts, amperity.Precedence(field, m.Precedence[field]...))
	}
	if len(m.KeepAsWritten) > 0 {
		opts = append(opts, amperity.KeepAsWritten(m.KeepAsWritten...))
	}
	if m.OmitNulls {
		opts = append(opts, amperity.OmitNulls())
	}
	if m.EmptyStringsAsNull {
		opts = append(opts, amperity.EmptyStringsAsNull())
	}
	if m.ConsentFields {
		opts = append(opts, amperity.WithConsentFields())
	}
	if m.LowercaseEmails {
		opts = append(opts, amperity.LowercaseEmails())
	}
	if m.Timezone != "" {
		loc, err := time.LoadLocation(m.Timezone)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: unknown time zone %q: want %s", at("timezone"), "timezone", m.Timezone, "an IANA name such as America/New_York")
		}
		opts = append(opts, amperity.InLocation(loc))
	}
	return opts, nil
}

// decodeMapping decodes the mapping object key by key, so that an error
// can say where it is (file:line:column) and what the key wants, in the
// file's words rather than Go's. at returns the position of a key's value.
func decodeMapping(path string, b []byte, m *mappingFile) (at func(key string) string, err error) {
	pos := func(off int64) string {
		line, col := lineCol(b, off)
		return fmt.Sprintf("%s:%d:%d", path, line, col)
	}
	where := map[string]int64{}
	at = func(key string) string { return pos(where[key]) }
	// Syntax first, on the whole file: json.Unmarshal's offsets are exact
	// (a Decoder's are not), and the walk below then meets valid JSON only.
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return nil, fmt.Errorf("%s: %v", pos(0), err)
		}
		if se.Error() == "unexpected end of JSON input" {
			return nil, fmt.Errorf("%s: the mapping file ends inside its JSON object", pos(int64(len(b))))
		}
		return nil, fmt.Errorf("%s: invalid JSON: %v", pos(se.Offset-1), se)
	}
	syntax := func(err error, off int64) error { return fmt.Errorf("%s: %v", pos(off), err) }
	keys := m.keys()
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return nil, syntax(err, 0)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: a mapping file holds one JSON object ({...}), not %s", pos(skipSpace(b, 0)), jsonKind(tok))
	}
	for dec.More() {
		keyAt := skipSpace(b, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err, keyAt)
		}
		name, _ := tok.(string)
		valAt := skipSpace(b, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err, valAt)
		}
		i := slices.IndexFunc(keys, func(k mappingKey) bool { return k.name == name })
		if i < 0 {
			return nil, fmt.Errorf("%s: unknown key %q (the keys are %s)", pos(keyAt), name, strings.Join(names, ", "))
		}
		if prev, dup := where[name]; dup {
			return nil, fmt.Errorf("%s: key %q given twice (first at %s)", pos(keyAt), name, pos(prev))
		}
		where[name] = valAt
		if err := json.Unmarshal(raw, keys[i].dst); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, fmt.Errorf("%s: %q: want %s, found a JSON %s", pos(valAt+valueStart(raw, te.Offset)), name, keys[i].want, te.Value)
			}
			return nil, fmt.Errorf("%s: %q: %v", pos(valAt), name, err)
		}
	}
	return at, nil
}

// skipSpace returns the offset of the first byte at or after off that is
// not JSON white space, a colon or a comma: where the next token starts.
func skipSpace(b []byte, off int64) int64 {
	for off < int64(len(b)) && strings.IndexByte(" \t\r\n:,", b[off]) >= 0 {
		off++
	}
	return off
}

// valueStart finds where the JSON value that ends at end (the offset an
// *json.UnmarshalTypeError gives) starts in raw.
func valueStart(raw []byte, end int64) int64 {
	end = min(max(end, 0), int64(len(raw)))
	i := end - 1
	if i >= 0 && raw[i] == '"' {
		for i--; i >= 0 && (raw[i] != '"' || escaped(raw, i)); i-- {
		}
		return max(i, 0)
	}
	for i >= 0 && strings.IndexByte(" \t\r\n,[{:", raw[i]) < 0 {
		i--
	}
	return i + 1
}

// escaped reports whether the quote at i is escaped by an odd number of
// backslashes.
func escaped(raw []byte, i int64) bool {
	n := 0
	for j := i - 1; j >= 0 && raw[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// lineCol turns a byte offset into a 1-based line and column (in bytes).
func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	line = 1 + bytes.Count(b[:off], []byte("\n"))
	return line, int(off) - bytes.LastIndexByte(b[:off], '\n')
}

func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}
