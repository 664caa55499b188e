package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
)

// mappingFile is the JSON file given with -mapping: overrides of the
// mapper's automatic decisions, one key per amperity.MapperOption.
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

// loadMapping reads a -mapping file into mapper options. Unknown keys are
// errors, so a typo does not silently leave a column unmapped.
func loadMapping(path string) ([]amperity.MapperOption, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m mappingFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var opts []amperity.MapperOption
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
			return nil, fmt.Errorf("%s: timezone: %w", path, err)
		}
		opts = append(opts, amperity.InLocation(loc))
	}
	return opts, nil
}
