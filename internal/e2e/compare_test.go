package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

// canonical renders a value, either the expected one (value model) or the
// one the fake holds (decoded JSON), so that values Braze holds
// identically compare equal: numbers by exact decimal value whatever their
// Go type, dates by their calendar text, datetimes by instant. It never
// converts through the SDK, so it cannot share the SDK's mistakes.
func canonical(k kind, v any) string {
	if v == nil {
		return "null"
	}
	switch k {
	case kindString:
		if s, ok := v.(string); ok {
			return "s:" + s
		}
	case kindBool:
		if b, ok := v.(bool); ok {
			return "b:" + strconv.FormatBool(b)
		}
	case kindDate:
		switch d := v.(type) {
		case braze.Date:
			return fmt.Sprintf("d:%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
		case string:
			if t, err := time.Parse(time.DateOnly, d); err == nil {
				return "d:" + t.Format(time.DateOnly)
			}
		}
	case kindTime:
		switch t := v.(type) {
		case time.Time:
			return "t:" + t.UTC().Format(time.RFC3339Nano)
		case string:
			if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return "t:" + p.UTC().Format(time.RFC3339Nano)
			}
		}
	case kindNumber:
		var text string
		switch n := v.(type) {
		case int64:
			text = strconv.FormatInt(n, 10)
		case int:
			text = strconv.Itoa(n)
		case float64:
			text = strconv.FormatFloat(n, 'g', -1, 64)
		case json.Number:
			text = string(n)
		}
		if r, ok := new(big.Rat).SetString(text); ok && text != "" {
			return "n:" + r.RatString()
		}
	}
	return fmt.Sprintf("unexpected %T %v", v, v)
}

// attrDiff compares a profile's attributes with the expected ones and
// describes every difference, sorted by attribute name.
func attrDiff(kinds map[string]kind, want, got map[string]any) []string {
	var out []string
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			out = append(out, fmt.Sprintf("%s: missing, want %s", name, canonical(kinds[name], w)))
			continue
		}
		if cw, cg := canonical(kinds[name], w), canonical(kinds[name], g); cw != cg {
			out = append(out, fmt.Sprintf("%s: got %s, want %s", name, cg, cw))
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			out = append(out, fmt.Sprintf("%s: unexpected %s", name, canonical(kinds[name], g)))
		}
	}
	slices.Sort(out)
	return out
}

func short(xs []string, n int) string {
	if len(xs) > n {
		return strings.Join(xs[:n], "; ") + fmt.Sprintf("; ... (%d more)", len(xs)-n)
	}
	return strings.Join(xs, "; ")
}
