package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/ampbraze/ampbraze/amperity/internal/isokey"
)

// Everyday English names that the ISO lists spell differently. Names shared
// by two countries ("Korea", "Congo") are left out on purpose: they are
// ambiguous.
var countryAliases = map[string]string{
	"usa": "US", "u s a": "US", "united states of america": "US", "america": "US", "u s": "US",
	"uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB",
	"scotland": "GB", "wales": "GB", "northern ireland": "GB",
	"russia": "RU", "czech republic": "CZ", "ivory coast": "CI", "macedonia": "MK",
	"holland": "NL", "vatican": "VA", "vatican city": "VA", "micronesia": "FM",
	"brunei": "BN", "cape verde": "CV", "swaziland": "SZ", "burma": "MM",
	"east timor": "TL", "palestine": "PS", "turkey": "TR", "uae": "AE",
	"hong kong": "HK", "macau": "MO", "macao": "MO", "south korea": "KR", "north korea": "KP",
	"republic of korea": "KR", "democratic republic of the congo": "CD", "dr congo": "CD", "drc": "CD",
	"republic of the congo": "CG", "congo brazzaville": "CG", "congo kinshasa": "CD",
	"st kitts and nevis": "KN", "st lucia": "LC", "st vincent and the grenadines": "VC",
	"the netherlands": "NL", "the bahamas": "BS", "the gambia": "GM",
}

// key is the normalisation the amperity package looks names up by.
func key(s string) string { return isokey.Key(s) }

// writeAmperity writes the lookups of amperity's normalisers: every code
// and English name of a country or language, by isokey.Key, to its code.
func writeAmperity(buf *bytes.Buffer, d *isoData) {
	countries := map[string]string{}
	ambiguous := map[string]bool{}
	add := func(m map[string]string, k, v string) {
		k = key(k)
		if k == "" || ambiguous[k] {
			return
		}
		if old, ok := m[k]; ok && old != v {
			delete(m, k)
			ambiguous[k] = true
			return
		}
		m[k] = v
	}
	var alpha2 []string
	for _, c := range d.Countries {
		alpha2 = append(alpha2, c.Alpha2)
		add(countries, c.Alpha2, c.Alpha2)
		add(countries, c.Alpha3, c.Alpha2)
		for _, n := range []string{c.Name, c.OfficialName, c.CommonName} {
			if n == "" {
				continue
			}
			add(countries, n, c.Alpha2)
			// "Korea, Republic of" is also written "Republic of Korea".
			if a, b, ok := strings.Cut(n, ", "); ok {
				add(countries, b+" "+a, c.Alpha2)
			}
		}
	}
	for k, v := range countryAliases {
		if !ambiguous[key(k)] {
			countries[key(k)] = v
		}
	}

	languages := map[string]string{}
	for _, l := range d.Languages {
		if l.Alpha2 == "" {
			continue
		}
		add(languages, l.Alpha2, l.Alpha2)
		add(languages, l.Alpha3, l.Alpha2)
		add(languages, l.Bibliographic, l.Alpha2)
		for _, n := range append(strings.Split(l.Name, ";"), l.CommonName) {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			add(languages, n, l.Alpha2)
			// "Greek, Modern (1453-)" is usually just "Greek".
			if a, _, ok := strings.Cut(n, ","); ok {
				add(languages, a, l.Alpha2)
			}
		}
	}

	fmt.Fprintf(buf, "package amperity\n\n")
	fmt.Fprintf(buf, "// isoAlpha2 lists every ISO 3166-1 alpha-2 code, sorted.\nvar isoAlpha2 = [...]string{\n")
	sort.Strings(alpha2)
	for _, a := range alpha2 {
		fmt.Fprintf(buf, "%q,", a)
	}
	fmt.Fprintf(buf, "\n}\n\n")
	writeTable(buf, "countryTable", "maps a country key (alpha-2, alpha-3 or English name, see countryKey) to its alpha-2 code.", countries)
	writeTable(buf, "languageTable", "maps a language key (ISO 639-1, 639-2 or English name) to its ISO 639-1 code.", languages)
}

func writeTable(buf *bytes.Buffer, name, doc string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(buf, "// %s %s\n// Sorted by key for binary search.\nvar %s = [...]isoEntry{\n", name, doc, name)
	for _, k := range keys {
		fmt.Fprintf(buf, "{%q, %q},\n", k, m[k])
	}
	fmt.Fprintf(buf, "}\n\n")
}
