package brazetest

import (
	"strings"
	"time"

	// The zone database is embedded so that time_zone checks give the same
	// answer on hosts without one (minimal CI containers).
	_ "time/tzdata"
)

// Code sets, built once from the generated lists and never modified.
var (
	countrySet  = codeSet(countryCodes)
	languageSet = codeSet(languageCodes)
	currencySet = codeSet(currencyCodes)
)

func codeSet(codes string) map[string]bool {
	set := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		set[c] = true
	}
	return set
}

// validDOB reports whether s is exactly YYYY-MM-DD and a calendar date.
func validDOB(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return false
	}
	// Day 0 of the next month is the last day of this one.
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// brazeTimeLayouts are the date forms Braze accepts for event and purchase
// times and date attributes: ISO-8601 and the patterns the Attributes
// object page lists, written as Go layouts.
var brazeTimeLayouts = [...]string{
	time.RFC3339Nano, // 2013-07-16T19:20:45.123+01:00 and without fraction
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999", // yyyy-MM-ddTHH:mm:ss (zone-less: UTC)
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05", // yyyy-MM-dd HH:mm:ss
	"2006-01-02",          // yyyy-MM-dd
	"01/02/2006",          // MM/dd/yyyy
	"1/2/2006",
	time.UnixDate, // Tue Jul 16 19:20:30 UTC 2013
	time.RubyDate,
}

// parseBrazeTime parses s in one of the forms Braze accepts. Times without a
// zone are taken as UTC, as Braze does.
func parseBrazeTime(s string) (time.Time, bool) {
	// yyyy-MM-ddTHH:mm:ss:SSSZ writes the milliseconds after a colon, which
	// Go layouts cannot express: read it as a decimal point.
	if len(s) > 20 && s[10] == 'T' && s[19] == ':' {
		s = s[:19] + "." + s[20:]
	}
	for _, layout := range brazeTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// validZone reports whether name is an IANA time zone; results are cached
// because time.LoadLocation reads the zone database each time.
func (v *validator) validZone(name string) bool {
	if ok, hit := v.zones.Load(name); hit {
		return ok.(bool)
	}
	_, err := time.LoadLocation(name)
	ok := err == nil && name != "" && name != "Local"
	v.zones.Store(strings.Clone(name), ok)
	return ok
}
