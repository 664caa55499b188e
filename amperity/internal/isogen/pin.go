package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// pinInput writes the pinned input from a Debian iso-codes JSON directory:
// the ISO 3166-1 countries, the ISO 639-2 languages that have an ISO 639-1
// code (the only ones the lists use) and the ISO 4217 currencies, keeping
// the fields the generator reads, one entry per line so that an update
// reads as a diff. The package's version goes into data/README.md by hand
// (dpkg -s iso-codes).
func pinInput(dir, out string) error {
	var d isoData
	var cs struct {
		List []country `json:"3166-1"`
	}
	var ls struct {
		List []language `json:"639-2"`
	}
	var cur struct {
		List []currency `json:"4217"`
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"iso_3166-1.json", &cs}, {"iso_639-2.json", &ls}, {"iso_4217.json", &cur}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, f.v); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	d.Source = "Debian iso-codes (" + dir + "): iso_3166-1.json, iso_639-2.json (entries with alpha_2), iso_4217.json; see README.md"
	d.Countries = cs.List
	for _, l := range ls.List {
		if l.Alpha2 != "" {
			d.Languages = append(d.Languages, l)
		}
	}
	d.Currencies = cur.List
	var b strings.Builder
	src, _ := json.Marshal(d.Source)
	fmt.Fprintf(&b, "{\n\"source\": %s,\n", src)
	lines := func(key string, n int, entry func(i int) any) error {
		fmt.Fprintf(&b, "%q: [\n", key)
		for i := range n {
			e, err := json.Marshal(entry(i))
			if err != nil {
				return err
			}
			b.Write(e)
			if i < n-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("]")
		return nil
	}
	if err := lines("3166-1", len(d.Countries), func(i int) any { return d.Countries[i] }); err != nil {
		return err
	}
	b.WriteString(",\n")
	if err := lines("639-2", len(d.Languages), func(i int) any { return d.Languages[i] }); err != nil {
		return err
	}
	b.WriteString(",\n")
	if err := lines("4217", len(d.Currencies), func(i int) any { return d.Currencies[i] }); err != nil {
		return err
	}
	b.WriteString("\n}\n")
	return os.WriteFile(out, []byte(b.String()), 0o644)
}
