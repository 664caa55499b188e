package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// writeBraze writes the country and language codes braze's validation
// accepts (braze/codes.go reads them).
func writeBraze(buf *bytes.Buffer, d *isoData) {
	fmt.Fprintf(buf, "package braze\n\n")
	writeCodes(buf, "countryCodes", "ISO 3166-1 alpha-2", countryCodes(d))
	writeCodes(buf, "languageCodes", "ISO 639-1", languageCodes(d))
}

// writeBrazetest writes the codes the fake Braze accepts. It keeps its own
// copy, as it keeps its own validation, so that it checks the client
// rather than sharing its mistakes; both come from the one input.
func writeBrazetest(buf *bytes.Buffer, d *isoData) {
	fmt.Fprintf(buf, "package brazetest\n\n")
	writeCodes(buf, "countryCodes", "ISO 3166-1 alpha-2", countryCodes(d))
	writeCodes(buf, "languageCodes", "ISO 639-1", languageCodes(d))
	var cur []string
	for _, c := range d.Currencies {
		cur = append(cur, c.Alpha3)
	}
	writeCodes(buf, "currencyCodes", "ISO 4217 alphabetic", cur)
}

func countryCodes(d *isoData) []string {
	var out []string
	for _, c := range d.Countries {
		out = append(out, c.Alpha2)
	}
	return out
}

func languageCodes(d *isoData) []string {
	var out []string
	for _, l := range d.Languages {
		out = append(out, l.Alpha2)
	}
	return out
}

// writeCodes writes a sorted code list as one constant of codes separated
// (and ended) by spaces, so a lookup can step through it by code length.
func writeCodes(buf *bytes.Buffer, name, what string, codes []string) {
	sort.Strings(codes)
	fmt.Fprintf(buf, "// %s lists the %s codes, separated by spaces.\nconst %s = \"\" +\n", name, what, name)
	var line strings.Builder
	for i, c := range codes {
		line.WriteString(c + " ")
		if i == len(codes)-1 || line.Len()+len(codes[i+1])+1 > 90 {
			fmt.Fprintf(buf, "\t%q", line.String())
			if i < len(codes)-1 {
				buf.WriteString(" +")
			}
			buf.WriteString("\n")
			line.Reset()
		}
	}
	buf.WriteString("\n")
}
