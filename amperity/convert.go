package amperity

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// converter turns one non-NULL cell into a value of the value model. A null
// result with a nil error means NULL (for example gender "unknown").
// Values are built unboxed (diff.Value), so mapping a row allocates
// nothing per value but for dates, lists and objects.
type converter func(c Cell) (diff.Value, error)

// maxStringChars is Braze's limit for string values and standard strings.
const maxStringChars = 255

func checkLength(s string) error {
	if len(s) > maxStringChars && utf8.RuneCountInString(s) > maxStringChars {
		return fmt.Errorf("%w (%d characters)", ErrTooLong, utf8.RuneCountInString(s))
	}
	return nil
}

func noJSON(c Cell) error {
	if c.JSON {
		return fmt.Errorf("%w: a JSON array or object where a scalar is expected", ErrInvalidValue)
	}
	return nil
}

// typedConverter converts by the column's Amperity type, for custom
// attributes.
func typedConverter(t Type, loc *time.Location) converter {
	switch t {
	case TypeBoolean:
		return func(c Cell) (diff.Value, error) {
			if err := noJSON(c); err != nil {
				return diff.Value{}, err
			}
			b, err := parseBoolean(c.Text)
			return diff.BoolValue(b), err
		}
	case TypeDate:
		return func(c Cell) (diff.Value, error) {
			if err := noJSON(c); err != nil {
				return diff.Value{}, err
			}
			return dateValue(parseDate(c.Text))
		}
	case TypeDatetime:
		return func(c Cell) (diff.Value, error) {
			if err := noJSON(c); err != nil {
				return diff.Value{}, err
			}
			t, err := parseDatetime(c.Text, loc)
			return diff.TimeValue(t), err
		}
	case TypeDecimal:
		return func(c Cell) (diff.Value, error) {
			if err := noJSON(c); err != nil {
				return diff.Value{}, err
			}
			n, err := parseDecimal(c.Text)
			return diff.NumberValue(n), err
		}
	case TypeFloat:
		return func(c Cell) (diff.Value, error) {
			if err := noJSON(c); err != nil {
				return diff.Value{}, err
			}
			f, err := parseFloat(c.Text)
			return diff.FloatValue(f), err
		}
	case TypeInteger:
		return func(c Cell) (diff.Value, error) {
			if err := noJSON(c); err != nil {
				return diff.Value{}, err
			}
			n, err := parseInteger(c.Text)
			return diff.IntValue(n), err
		}
	}
	return func(c Cell) (diff.Value, error) {
		if c.JSON {
			v, err := decodeJSONCell(c.Text)
			return diff.AnyValue(v), err
		}
		if err := checkLength(c.Text); err != nil {
			return diff.Value{}, err
		}
		return diff.StringValue(c.Text), nil
	}
}

// dateValue holds a calendar date. A date has no unboxed kind (the diff
// package knows no calendar type), so it is boxed: one small allocation.
func dateValue(d braze.Date, err error) (diff.Value, error) {
	if err != nil {
		return diff.Value{}, err
	}
	return diff.AnyValue(d), nil
}

// decodeJSONCell turns an NDJSON array or object into the value model: an
// array of strings becomes []string, an array of objects []any, an object
// map[string]any (numbers kept exact as json.Number).
func decodeJSONCell(text string) (any, error) {
	v, err := decodeJSON(text)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case map[string]any:
		return v, nil
	case []any:
		strs := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				break
			}
			strs = append(strs, s)
		}
		if len(strs) == len(v) {
			return strs, nil
		}
		for _, e := range v {
			if _, ok := e.(map[string]any); !ok {
				return nil, fmt.Errorf("%w: an array must hold only strings or only objects", ErrInvalidValue)
			}
		}
		return v, nil
	}
	return nil, fmt.Errorf("%w: expected a JSON array or object", ErrInvalidValue)
}

func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrInvalidValue, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: text after the JSON value", ErrInvalidValue)
	}
	if err := checkJSONNumbers(v); err != nil {
		return nil, err
	}
	return v, nil
}

// checkJSONNumbers rejects a number inside a JSON value that a double,
// which is what Braze reads JSON numbers as, cannot hold (see parseDecimal).
func checkJSONNumbers(v any) error {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) || f == 0 && hasNonZeroDigit(string(v)) {
			return fmt.Errorf("%w: the number %s is beyond the range of a double, which Braze holds numbers in", ErrInvalidValue, shorten(string(v)))
		}
	case map[string]any:
		for _, e := range v {
			if err := checkJSONNumbers(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := checkJSONNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// textOf validates a cell by its column type and returns its canonical
// text, for standard string fields fed from a typed column.
func textOf(t Type, c Cell, loc *time.Location) (string, error) {
	if err := noJSON(c); err != nil {
		return "", err
	}
	switch t {
	case TypeBoolean:
		b, err := parseBoolean(c.Text)
		return strconv.FormatBool(b), err
	case TypeDate:
		d, err := parseDate(c.Text)
		return d.String(), err
	case TypeDatetime:
		tm, err := parseDatetime(c.Text, loc)
		return tm.Format(time.RFC3339Nano), err
	case TypeDecimal:
		n, err := parseDecimal(c.Text)
		return string(n), err
	case TypeFloat:
		f, err := parseFloat(c.Text)
		return strconv.FormatFloat(f, 'g', -1, 64), err
	case TypeInteger:
		n, err := parseInteger(c.Text)
		return strconv.FormatInt(n, 10), err
	}
	return c.Text, nil
}

// standardConverter converts for a standard Braze field, normalising unless
// raw is set.
func standardConverter(f braze.FieldInfo, t Type, raw bool, cfg *mapperConfig) (converter, error) {
	loc := cfg.loc
	switch f.Kind {
	case braze.FieldDate:
		switch t {
		case TypeDate:
			return func(c Cell) (diff.Value, error) {
				if err := noJSON(c); err != nil {
					return diff.Value{}, err
				}
				return dateValue(parseDate(c.Text))
			}, nil
		case TypeDatetime, TypeString:
			return func(c Cell) (diff.Value, error) {
				if err := noJSON(c); err != nil {
					return diff.Value{}, err
				}
				return dateValue(parseDOB(c.Text))
			}, nil
		}
	case braze.FieldTime:
		switch t {
		case TypeDate:
			return typedConverter(TypeDate, loc), nil
		case TypeDatetime, TypeString:
			return typedConverter(TypeDatetime, loc), nil
		}
	case braze.FieldBool:
		if t == TypeBoolean || t == TypeString {
			return typedConverter(TypeBoolean, loc), nil
		}
	case braze.FieldLocation, braze.FieldObject, braze.FieldObjectArray:
		if t != TypeString {
			break
		}
		wantArray := f.Kind == braze.FieldObjectArray
		return func(c Cell) (diff.Value, error) {
			v, err := decodeJSON(c.Text)
			if err != nil {
				return diff.Value{}, err
			}
			switch v := v.(type) {
			case map[string]any:
				if !wantArray {
					if f.Kind == braze.FieldLocation {
						if _, ok := v["latitude"].(json.Number); !ok {
							return diff.Value{}, fmt.Errorf("%w: a location needs numeric latitude and longitude", ErrInvalidValue)
						}
						if _, ok := v["longitude"].(json.Number); !ok {
							return diff.Value{}, fmt.Errorf("%w: a location needs numeric latitude and longitude", ErrInvalidValue)
						}
					}
					return diff.AnyValue(v), nil
				}
			case []any:
				if wantArray {
					for _, e := range v {
						if _, ok := e.(map[string]any); !ok {
							return diff.Value{}, fmt.Errorf("%w: %s takes an array of objects", ErrInvalidValue, f.Name)
						}
					}
					return diff.AnyValue(v), nil
				}
			}
			return diff.Value{}, fmt.Errorf("%w: %s takes a JSON %s", ErrInvalidValue, f.Name, map[bool]string{true: "array of objects", false: "object"}[wantArray])
		}, nil
	case braze.FieldEnum:
		if f.Name == "gender" && !raw {
			return func(c Cell) (diff.Value, error) {
				s, err := textOf(t, c, loc)
				if err != nil {
					return diff.Value{}, err
				}
				g, err := NormalizeGender(s)
				if err != nil || g == "" {
					return diff.Value{}, err
				}
				return diff.StringValue(g), nil
			}, nil
		}
		values := f.Values
		return func(c Cell) (diff.Value, error) {
			s, err := textOf(t, c, loc)
			if err != nil {
				return diff.Value{}, err
			}
			if !raw {
				s = strings.ToLower(strings.TrimSpace(s))
			}
			if !slices.Contains(values, s) {
				return diff.Value{}, fmt.Errorf("%w: %s takes one of %s", ErrInvalidValue, f.Name, strings.Join(values, ", "))
			}
			return diff.StringValue(s), nil
		}, nil
	case braze.FieldString:
		var norm func(string) (string, error)
		var index map[string]string // fast path for closed code lists
		switch {
		case raw:
		case f.Name == "country":
			norm, index = NormalizeCountry, codeIndex(countryTable[:], isoAlpha2[:])
		case f.Name == "language":
			norm, index = NormalizeLanguage, codeIndex(languageTable[:], languageCodes())
		case f.Name == "email":
			lower := cfg.lowerEmails
			norm = func(s string) (string, error) { return normalizeEmail(s, lower), nil }
		}
		return func(c Cell) (diff.Value, error) {
			s, err := textOf(t, c, loc)
			if err != nil {
				return diff.Value{}, err
			}
			if index != nil {
				key := s
				if f.Name == "language" {
					key = languagePrimary(s)
				}
				if v, ok := lookupIndex(index, key); ok {
					return diff.StringValue(v), nil
				}
			}
			if norm != nil {
				if s, err = norm(s); err != nil {
					return diff.Value{}, err
				}
			}
			if err := checkLength(s); err != nil {
				return diff.Value{}, err
			}
			return diff.StringValue(s), nil
		}, nil
	}
	return nil, fmt.Errorf("%w: a %s column cannot feed a %s field", ErrUnsupportedField, t, f.Kind)
}

func languageCodes() []string {
	out := make([]string, 0, len(languageTable))
	for _, e := range languageTable {
		if !slices.Contains(out, e.code) {
			out = append(out, e.code)
		}
	}
	return out
}

// audienceConverter reads a membership flag. Only a Boolean column is
// accepted: a String column (a file read without a schema, or a schema that
// did not type it) would be checked row by row, and a column of "Y"/"N" or
// of segment names would reject every row of the export.
func audienceConverter(t Type) (converter, error) {
	if t != TypeBoolean {
		return nil, fmt.Errorf("%w: an audience column must be Boolean, not %s (declare it column:Boolean in the schema)", ErrUnsupportedField, t)
	}
	return func(c Cell) (diff.Value, error) {
		if err := noJSON(c); err != nil {
			return diff.Value{}, err
		}
		b, err := parseBoolean(strings.TrimSpace(c.Text))
		return diff.BoolValue(b), err
	}, nil
}
