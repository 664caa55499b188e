package amperity

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ampbraze/ampbraze/braze"
)

func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a,b\r\n\"x,\"\"y\"\"\",2\r\n", "a\n\"unterminated\n", "a,b\n1\n1,2,3\n", "\xEF\xBB\xBFa\n\xff\n",
		"a,a\n", ",\n", "a,b\n\"x\"y,2\n", "a\n\n\n", "a;b\n\"1;2\";3\n",
	} {
		f.Add([]byte(s), byte(','), false)
	}
	f.Add([]byte("a|b\n1\\|2|3\n"), byte('|'), true)
	f.Fuzz(func(t *testing.T, data []byte, delim byte, escape bool) {
		opts := []ReaderOption{WithDelimiter(rune(delim)), WithMaxRecordBytes(1 << 16)}
		if escape {
			opts = append(opts, WithEscape('\\'))
		}
		r, err := NewCSVReader(context.Background(), bytes.NewReader(data), opts...)
		if err != nil {
			return
		}
		n := r.Schema().Len()
		var rows [][]string
		ended := false
		for row, err := range r.Rows(context.Background()) {
			if ended {
				t.Fatalf("an item after the fatal error: %v %v", row, err)
			}
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error %T %v does not hold an *InputError", err, err)
				}
				ended = checkFatalContract(t, err)
				continue
			}
			if len(row.Cells) != n {
				t.Fatalf("row has %d cells, schema %d", len(row.Cells), n)
			}
			rec := make([]string, n)
			for i, c := range row.Cells {
				if !utf8.ValidString(c.Text) {
					t.Fatalf("invalid UTF-8 passed through: %q", c.Text)
				}
				rec[i] = c.Text
			}
			rows = append(rows, rec)
		}
		// Round trip through encoding/csv's writer for the plain dialect.
		if delim != ',' || escape || len(rows) == 0 {
			return
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(r.Schema().Names())
		w.WriteAll(rows)
		r2, err := NewCSVReader(context.Background(), &buf, WithNullTokens())
		if err != nil {
			if n == 1 {
				return // a lone empty-ish header may not survive re-encoding
			}
			t.Fatalf("re-read header: %v", err)
		}
		i := 0
		for row, err := range r2.Rows(context.Background()) {
			if err != nil {
				if n == 1 {
					return // encoding/csv writes a lone empty field as a blank line
				}
				t.Fatalf("re-read: %v", err)
			}
			for j, c := range row.Cells {
				if c.Text != rows[i][j] {
					t.Fatalf("row %d col %d: %q, first read %q", i+1, j, c.Text, rows[i][j])
				}
			}
			i++
		}
		if i != len(rows) {
			t.Fatalf("re-read %d rows, want %d", i, len(rows))
		}
	})
}

func FuzzNDJSONReader(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x"}` + "\n" + `{"b":null,"a":2.5}`, `{"a":[1,{"b":2}]}`, `[1]`, `{"a":1}{"a":2}`, "{\"a\":\"\xff\"}",
		`{"a":1,"a":2}`, `{"a":"\u0000"}`, "\n\n{\"a\":true}\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewNDJSONReader(context.Background(), bytes.NewReader(data), WithMaxRecordBytes(1<<16))
		if err != nil {
			return
		}
		m, err := NewMapper(r.Schema(), IdentifyBy("external_id"))
		for row, err := range r.Rows(context.Background()) {
			if err != nil {
				continue
			}
			if len(row.Cells) != r.Schema().Len() {
				t.Fatalf("row has %d cells", len(row.Cells))
			}
			if m != nil {
				m.Map(row) // must not panic
			}
		}
		_ = err
	})
}

func FuzzParseBoolean(f *testing.F) {
	for _, s := range []string{"true", "F", "1", "yes", "No", "", "maybe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBoolean(s)
		if err != nil {
			return
		}
		if b2, err := parseBoolean(strconv.FormatBool(b)); err != nil || b2 != b {
			t.Fatalf("round trip of %q", s)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "0001-01-01", "9999-12-31", "2024-1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDate(s)
		if err != nil {
			return
		}
		if !d.IsValid() || d.String() != s {
			t.Fatalf("parseDate(%q) = %v", s, d)
		}
	})
}

func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"2024-03-01 10:00:00", "2024-03-01T10:00:00.5+01:00", "2024-03-01", "2024-03-01 10:00:00 UTC",
		"Mon Nov 30 2020 16:00:00 GMT-0800 (Pacific Standard Time)", "2024-03-01T10:00:00-0530"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseDatetime(s, nil)
		if err != nil {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("not UTC: %v", tm)
		}
		if y := tm.Year(); y < 1 || y > 9999 {
			t.Fatalf("year out of range: %v", tm)
		}
		back, err := parseDatetime(tm.Format(time.RFC3339Nano), nil)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("round trip of %q: %v %v", s, back, err)
		}
	})
}

func FuzzParseDOB(f *testing.F) {
	for _, s := range []string{"1980-12-21", "19801221", "12/21/1980", "21-Dec-1980", "21dec1980", "1980-12-21T23:30:00-08:00", "1/2/1990"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDOB(s)
		if err == nil && !d.IsValid() {
			t.Fatalf("parseDOB(%q) = invalid %v", s, d)
		}
	})
}

func FuzzParseInteger(f *testing.F) {
	for _, s := range []string{"0", "-12", "+7", "9223372036854775807", "9223372036854775808", "1.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseInteger(s)
		if err != nil {
			return
		}
		if n2, err := parseInteger(strconv.FormatInt(n, 10)); err != nil || n2 != n {
			t.Fatalf("round trip of %q", s)
		}
	})
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"1.5", "-2e-3", "1E308", "1e309", "NaN", "0x1p-2", "1234.5678", "-0", "+0.1", "1.", ".5", "999999999999999.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseFloat(s)
		if err != nil {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("parseFloat(%q) = %v", s, v)
		}
		// The short-decimal fast path must agree with strconv to the bit.
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("parseFloat(%q) = %v, strconv %v (%v)", s, v, want, err)
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1.50", "-0.00", "007.10", "1.5E3", "12e-1", "99999999999999999999.99", "1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseDecimal(s)
		if err != nil {
			return
		}
		again, err := parseDecimal(string(n))
		if err != nil || again != n {
			t.Fatalf("not canonical: %q -> %q -> %q %v", s, n, again, err)
		}
		in, ok1 := new(big.Rat).SetString(s)
		out, ok2 := new(big.Rat).SetString(string(n))
		if !ok1 || !ok2 || in.Cmp(out) != 0 {
			t.Fatalf("value changed: %q -> %q", s, n)
		}
	})
}

func FuzzParseSchema(f *testing.F) {
	f.Add("a:String\nb:Decimal(10,2)\n# c\n")
	f.Add("x:y:Integer\n:String")
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseSchema(strings.NewReader(s))
		if err != nil {
			return
		}
		again, err := ParseSchema(strings.NewReader(sc.String()))
		if err != nil || again.String() != sc.String() {
			t.Fatalf("schema does not round-trip: %q -> %q (%v)", s, sc.String(), err)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	countryIdx := codeIndex(countryTable[:], isoAlpha2[:])
	languageIdx := codeIndex(languageTable[:], languageCodes())
	for _, s := range []string{"USA", "Côte d'Ivoire", "en-US", "German", "female", "n/a", "Korea"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := NormalizeCountry(s)
		if v, ok := lookupIndex(countryIdx, s); ok && (err != nil || v != any(c)) {
			t.Fatalf("country fast path %q -> %v, NormalizeCountry %q %v", s, v, c, err)
		}
		l, lerr := NormalizeLanguage(s)
		if v, ok := lookupIndex(languageIdx, languagePrimary(s)); ok && (lerr != nil || v != any(l)) {
			t.Fatalf("language fast path %q -> %v, NormalizeLanguage %q %v", s, v, l, lerr)
		}
		if err == nil {
			if c2, err := NormalizeCountry(c); err != nil || c2 != c || len(c) != 2 {
				t.Fatalf("country %q -> %q -> %q", s, c, c2)
			}
		}
		if l, err := NormalizeLanguage(s); err == nil {
			if l2, err := NormalizeLanguage(l); err != nil || l2 != l || len(l) != 2 {
				t.Fatalf("language %q -> %q -> %q", s, l, l2)
			}
		}
		if g, err := NormalizeGender(s); err == nil && g != "" {
			if g2, err := NormalizeGender(g); err != nil || g2 != g {
				t.Fatalf("gender %q -> %q", s, g)
			}
		}
	})
}

// checkFatalContract checks an error of a stream against the convention of
// FatalError and reports whether it is fatal (so the stream must end): a
// fatal error says so through Fatal() and errors.Is(err, ErrFatal) alike,
// and a per-row error is an *InputError that does neither.
func checkFatalContract(t *testing.T, err error) bool {
	t.Helper()
	var f interface{ Fatal() bool }
	byMethod := errors.As(err, &f) && f.Fatal()
	if byMethod != errors.Is(err, ErrFatal) {
		t.Fatalf("%v: Fatal() %t but errors.Is(err, ErrFatal) %t", err, byMethod, !byMethod)
	}
	if !byMethod {
		if _, ok := err.(*InputError); !ok {
			t.Fatalf("per-row error %T %v is not an *InputError", err, err)
		}
	}
	return byMethod
}

// FuzzMapCSV runs arbitrary delimited text through a schema with every type
// and the standard fields that normalise, checking that the mapper never
// panics and that every value it yields belongs to the value model.
func FuzzMapCSV(f *testing.F) {
	const header = "external_id,birthdate,gender,country,language,email,n,d,f,b,ts,day,vip\n"
	f.Add([]byte(header + "u1,1980-01-02,female,USA,en-US, a@b.c ,12,1.50,2.5,yes,2024-01-01 10:00:00,2024-01-01,true\n"))
	f.Add([]byte(header + ",,,,,,,,,,,,\nu2,02/03/1990,x,Korea,xx,,1e3,1e999,NaN,maybe,2024-13-01,2024-02-30,2\n"))
	f.Add([]byte(header + "u3,,,,,,1,1e400,1e-400,t,,,\nu4,\xff,,,,,,,,,,,\nu5,,,,,,1\nu6,\"open,,,,,,,,,,,,\n"))
	f.Add([]byte(strings.ReplaceAll(header, "\n", "\r") + "u7,,,,,,,,,,,,true\r"))
	schema, err := ParseSchema(strings.NewReader("external_id:String\nbirthdate:String\ngender:String\ncountry:String\nlanguage:String\nemail:String\nn:Integer\nd:Decimal\nf:Float\nb:Boolean\nts:Datetime\nday:Date\nvip:Boolean"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewCSVReader(context.Background(), bytes.NewReader(data), WithSchema(schema), WithMaxRecordBytes(1<<16))
		if err != nil {
			return
		}
		m, err := NewMapper(r.Schema(), AudienceColumns("vip"), MapWorkers(0))
		if err != nil {
			t.Fatal(err)
		}
		var seq []string
		ended := false
		for rec, err := range m.Records(r.Rows(context.Background())) {
			if ended {
				t.Fatalf("an item after the fatal error: %v %v", rec, err)
			}
			seq = append(seq, fmt.Sprint(rec, err))
			if err != nil {
				if ended = checkFatalContract(t, err); ended && (rec.Key != "" || rec.Attrs != nil) {
					t.Fatalf("fatal error %v with a record %v", err, rec)
				}
				continue
			}
			if rec.Key == "" {
				t.Fatal("empty key")
			}
			for _, a := range rec.Attrs {
				switch v := a.Value.Any().(type) {
				case nil, bool, int64, float64, string, time.Time:
				case json.Number:
					if _, err := parseDecimal(string(v)); err != nil {
						t.Fatalf("%s: non-canonical decimal %q", a.Name, v)
					}
				case braze.Date:
					if !v.IsValid() {
						t.Fatalf("%s: invalid date %v", a.Name, v)
					}
				default:
					t.Fatalf("%s: %T is not in the value model", a.Name, v)
				}
			}
		}
		// Mapping on workers yields the same items, in the same order.
		r2, _ := NewCSVReader(context.Background(), bytes.NewReader(data), WithSchema(schema), WithMaxRecordBytes(1<<16))
		m2, _ := NewMapper(r2.Schema(), AudienceColumns("vip"), MapWorkers(2))
		i := 0
		for rec, err := range m2.Records(r2.Rows(context.Background())) {
			if i >= len(seq) {
				t.Fatalf("workers yielded more than the %d items of the sequential path", len(seq))
			}
			if got := fmt.Sprint(rec, err); got != seq[i] {
				t.Fatalf("workers, item %d: %s, sequential %s", i, got, seq[i])
			}
			i++
		}
		if i != len(seq) {
			t.Fatalf("workers yielded %d items, the sequential path %d", i, len(seq))
		}
	})
}
