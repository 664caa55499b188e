package amperity

import (
	"errors"
	"strings"
	"testing"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func TestNormalizeCountry(t *testing.T) {
	tests := map[string]string{
		"US": "US", "us": "US", "USA": "US", "usa": "US", "United States": "US", "United States of America": "US", "U.S.A.": "US",
		"DEU": "DE", "Germany": "DE", "gb": "GB", "United Kingdom": "GB", "UK": "GB", "Côte d'Ivoire": "CI", "Cote d'Ivoire": "CI",
		"Korea, Republic of": "KR", "South Korea": "KR", "Republic of Korea": "KR", "Viet Nam": "VN", "Vietnam": "VN",
		"  france ": "FR", "Curaçao": "CW", "Russia": "RU", "bolivia": "BO", "Iran": "IR", "Czechia": "CZ",
	}
	for in, want := range tests {
		if got, err := NormalizeCountry(in); err != nil || got != want {
			t.Errorf("NormalizeCountry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Korea", "XX", "Atlantis", "ZZZ"} {
		if _, err := NormalizeCountry(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("NormalizeCountry(%q) err = %v", in, err)
		}
	}
	if len(isoAlpha2) != 249 {
		t.Errorf("%d alpha-2 codes, want 249", len(isoAlpha2))
	}
}

func TestNormalizeLanguage(t *testing.T) {
	tests := map[string]string{"en": "en", "EN": "en", "eng": "en", "English": "en", "en-US": "en", "pt_BR": "pt",
		"ger": "de", "deu": "de", "German": "de", "Spanish": "es", "Castilian": "es", "Greek": "el", "zh-Hant": "zh"}
	for in, want := range tests {
		if got, err := NormalizeLanguage(in); err != nil || got != want {
			t.Errorf("NormalizeLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xx", "Klingon", "English (UK)"} {
		if _, err := NormalizeLanguage(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("NormalizeLanguage(%q) err = %v", in, err)
		}
	}
}

func TestNormalizeGender(t *testing.T) {
	tests := map[string]string{"M": "M", "male": "M", "Man": "M", "f": "F", "FEMALE": "F", "other": "O", "non-binary": "O",
		"N": "N", "not_applicable": "N", "n/a": "N", "P": "P", "Prefer not to say": "P", "u": "", "Unknown": ""}
	for in, want := range tests {
		if got, err := NormalizeGender(in); err != nil || got != want {
			t.Errorf("NormalizeGender(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "q", "robot"} {
		if _, err := NormalizeGender(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("NormalizeGender(%q) err = %v", in, err)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got := normalizeEmail("  Ann@Example.COM\t", false); got != "Ann@Example.COM" {
		t.Errorf("kept case: %q", got)
	}
	if got := normalizeEmail(" Ann@Example.COM ", true); got != "ann@example.com" {
		t.Errorf("lowered: %q", got)
	}
}
