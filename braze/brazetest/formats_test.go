package brazetest

import (
	"sync"
	"testing"
	"time"
)

func TestValidDOB(t *testing.T) {
	for s, want := range map[string]bool{
		"1980-12-21": true, "2024-02-29": true, "2023-02-29": false, "1980-13-01": false, "1980-00-10": false,
		"1980-01-00": false, "1980-1-01": false, "19801221": false, "1980-12-21T00:00:00Z": false, "abcd-12-21": false,
	} {
		if got := validDOB(s); got != want {
			t.Errorf("validDOB(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseBrazeTime(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2013-07-16T19:20:45+01:00":    time.Date(2013, 7, 16, 18, 20, 45, 0, time.UTC),
		"2013-07-16T19:20:45:123Z":     time.Date(2013, 7, 16, 19, 20, 45, 123e6, time.UTC),
		"2013-07-16T19:20:45":          time.Date(2013, 7, 16, 19, 20, 45, 0, time.UTC),
		"2013-07-16 19:20:45":          time.Date(2013, 7, 16, 19, 20, 45, 0, time.UTC),
		"2013-07-16":                   time.Date(2013, 7, 16, 0, 0, 0, 0, time.UTC),
		"07/16/2013":                   time.Date(2013, 7, 16, 0, 0, 0, 0, time.UTC),
		"7/6/2013":                     time.Date(2013, 7, 6, 0, 0, 0, 0, time.UTC),
		"Tue Jul 16 19:20:30 UTC 2013": time.Date(2013, 7, 16, 19, 20, 30, 0, time.UTC),
	} {
		got, ok := parseBrazeTime(s)
		if !ok || !got.Equal(want) {
			t.Errorf("parseBrazeTime(%q) = %v, %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "yesterday", "2013-13-16", "16/07/2013", "2013-07-16T25:00:00Z"} {
		if got, ok := parseBrazeTime(s); ok {
			t.Errorf("parseBrazeTime(%q) = %v, want no time", s, got)
		}
	}
}

func TestValidZoneAndCodeSets(t *testing.T) {
	v := validator{zones: new(sync.Map)}
	for name, want := range map[string]bool{"America/New_York": true, "UTC": true, "Europe/Paris": true, "": false, "Local": false, "Mars/Olympus": false} {
		for range 2 { // the second answer comes from the cache
			if got := v.validZone(name); got != want {
				t.Errorf("validZone(%q) = %v, want %v", name, got, want)
			}
		}
	}
	if !countrySet["US"] || countrySet["us"] || countrySet["XX"] || !languageSet["en"] || !currencySet["EUR"] || currencySet["ABC"] {
		t.Error("code sets disagree with ISO 3166-1, 639-1 and 4217")
	}
	if got := codeSet(" a  b\nc "); len(got) != 3 || !got["a"] || !got["c"] {
		t.Errorf("codeSet = %v", got)
	}
}
