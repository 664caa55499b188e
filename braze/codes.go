package braze

import "strings"

// The code lists (countryCodes, languageCodes) are generated from the
// module's one pinned copy of the ISO lists.
//go:generate go run ../amperity/internal/isogen -in ../amperity/internal/isogen/data/iso-codes.json -kind braze -o iso_codes.go

func inCodeList(list, code string) bool {
	if len(code) != 2 {
		return false
	}
	for i := 0; i+2 <= len(list); i += 3 {
		if list[i:i+2] == code {
			return true
		}
	}
	return false
}

// IsCountryCode reports whether s is an ISO-3166-1 alpha-2 code ("US").
func IsCountryCode(s string) bool { return inCodeList(countryCodes, s) }

// IsLanguageCode reports whether s is an ISO-639-1 code ("en").
func IsLanguageCode(s string) bool {
	return inCodeList(languageCodes, strings.ToLower(s)) && s == strings.ToLower(s)
}
