package amperity

import (
	"errors"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

func TestParseBoolean(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, "t": true, "T": true, "1": true, "yes": true, "Yes": true,
		"false": false, "False": false, "f": false, "0": false, "no": false, "NO": false} {
		got, err := parseBoolean(in)
		if err != nil || got != want {
			t.Errorf("parseBoolean(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "y", "n", "2", "truee", " true", "on"} {
		if _, err := parseBoolean(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parseBoolean(%q) err = %v", in, err)
		}
	}
}

func TestParseDate(t *testing.T) {
	if d, err := parseDate("2024-02-29"); err != nil || d != (braze.Date{Year: 2024, Month: 2, Day: 29}) {
		t.Errorf("leap day: %v %v", d, err)
	}
	for _, in := range []string{"2023-02-29", "2024-13-01", "2024-1-01", "2024/01/01", "20240101", "2024-01-01 ", "0000-01-01", "abcd-ef-gh"} {
		if _, err := parseDate(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parseDate(%q) err = %v", in, err)
		}
	}
}

func TestParseDatetime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want string
	}{
		{"2024-03-01 10:00:00", nil, "2024-03-01T10:00:00Z"},
		{"2024-03-01T10:00:00", nil, "2024-03-01T10:00:00Z"},
		{"2024-03-01 10:00:00.12345", nil, "2024-03-01T10:00:00.12345Z"},
		{"2024-03-01T10:00:00.123456789Z", nil, "2024-03-01T10:00:00.123456789Z"},
		{"2024-03-01T10:00:00+01:00", nil, "2024-03-01T09:00:00Z"},
		{"2024-03-01T10:00:00-0530", nil, "2024-03-01T15:30:00Z"},
		{"2024-03-01 10:00:00 +02", nil, "2024-03-01T08:00:00Z"},
		{"2024-03-01 10:00:00 UTC", nil, "2024-03-01T10:00:00Z"},
		{"2024-03-01", nil, "2024-03-01T00:00:00Z"},
		{"2024-01-15 10:00:00", ny, "2024-01-15T15:00:00Z"},
		{"2024-01-15T10:00:00Z", ny, "2024-01-15T10:00:00Z"},
		{"Mon Nov 30 2020 16:00:00 GMT-0800 (Pacific Standard Time)", nil, "2020-12-01T00:00:00Z"},
	}
	for _, tt := range tests {
		got, err := parseDatetime(tt.in, tt.loc)
		if err != nil || got.Format(time.RFC3339Nano) != tt.want || got.Location() != time.UTC {
			t.Errorf("parseDatetime(%q) = %v, %v; want %s UTC", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "2024-03-01 25:00:00", "2024-03-01 10:00", "2024-03-01T10:00:00.", "2024-03-01T10:00:00.1234567890",
		"2024-03-01T10:00:00+1", "2024-03-01T10:00:00 PST", "2024-02-30 00:00:00", "03/01/2024 10:00:00", "2024-03-01X10:00:00"} {
		if _, err := parseDatetime(in, nil); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parseDatetime(%q) err = %v", in, err)
		}
	}
}

func TestParseDOB(t *testing.T) {
	want := braze.Date{Year: 1980, Month: 12, Day: 21}
	for _, in := range []string{"1980-12-21", "19801221", "1980/12/21", "12/21/1980", "21-Dec-1980", "21 DEC 1980", "21dec1980",
		"1980-12-21 23:30:00", "1980-12-21T23:30:00-08:00", "1980-12-21T00:30:00+09:00", "Sun Dec 21 1980 23:00:00 GMT-0800 (PST)"} {
		got, err := parseDOB(in)
		if err != nil || got != want {
			t.Errorf("parseDOB(%q) = %v, %v", in, got, err)
		}
	}
	if got, err := parseDOB("1/2/1990"); err != nil || got != (braze.Date{Year: 1990, Month: 1, Day: 2}) {
		t.Errorf("parseDOB(1/2/1990) = %v %v", got, err)
	}
	for _, in := range []string{"12/21/80", "21-Dec-80", "1980-12-32", "02/30/1990", "Dec 21 1980", "", "yesterday"} {
		if _, err := parseDOB(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parseDOB(%q) err = %v", in, err)
		}
	}
}

func TestParseInteger(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "-12": -12, "+7": 7, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63} {
		if got, err := parseInteger(in); err != nil || got != want {
			t.Errorf("parseInteger(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1.0", "1e3", "9223372036854775808", "0x10", "1_000", " 1"} {
		if _, err := parseInteger(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parseInteger(%q) err = %v", in, err)
		}
	}
}

func TestParseFloat(t *testing.T) {
	for in, want := range map[string]float64{"1.5": 1.5, "-2e-3": -0.002, "1E3": 1000, "+0.25": 0.25, "7": 7} {
		if got, err := parseFloat(in); err != nil || got != want {
			t.Errorf("parseFloat(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "NaN", "Inf", "-infinity", "0x1p-2", "1_0", ".5", "5.", "1e400", "1e", "--1"} {
		if _, err := parseFloat(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parseFloat(%q) err = %v", in, err)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	tests := map[string]string{
		"1.50": "1.5", "1.5": "1.5", "12": "12", "+12.0": "12", "-0.00": "0", "-0": "0", "0": "0", "007.10": "7.1",
		"-12.340": "-12.34", "0.0001": "0.0001", "12e-1": "1.2", "1.5E3": "1500", "-1e-3": "-0.001", "120.50": "120.5",
		"99999999999999999999.99": "99999999999999999999.99", "0.10": "0.1", "100": "100", "-100.0": "-100",
	}
	for in, want := range tests {
		got, err := parseDecimal(in)
		if err != nil || string(got) != want {
			t.Errorf("parseDecimal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.", ".5", "1,5", "NaN", "1e401", "0x10", "1.2.3", " 1"} {
		if _, err := parseDecimal(in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parseDecimal(%q) err = %v", in, err)
		}
	}
}

func TestParseSchemaErrors(t *testing.T) {
	tests := map[string]error{
		"a:String\na:Integer":  ErrDuplicateColumn,
		"a:Text":               ErrInvalidSchema,
		"just a name":          ErrInvalidSchema,
		":String":              ErrEmptyColumn,
		"ok:Decimal(10,2)\nb:": ErrInvalidSchema,
	}
	for in, want := range tests {
		_, err := ParseSchema(stringsReader(in))
		if !errors.Is(err, want) {
			t.Errorf("ParseSchema(%q) err = %v, want %v", in, err, want)
		}
	}
	s, err := ParseSchema(stringsReader("# c\n\nOne and Done : boolean\nts:DATETIME\nx:varchar(255)\nm:Decimal(12, 2)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "One and Done:Boolean\nts:Datetime\nx:String\nm:Decimal\n" {
		t.Errorf("schema = %q", got)
	}
}

func TestCivilArithmeticMatchesTimeDate(t *testing.T) {
	for y := 1; y <= 9999; y += 7 {
		for m := 1; m <= 12; m++ {
			for _, d := range []int{1, 28, 29, 30, 31} {
				want := time.Date(y, time.Month(m), d, 13, 14, 15, 16, time.UTC)
				if validDate(y, m, d) != (want.Day() == d) {
					t.Fatalf("validDate(%d,%d,%d) wrong", y, m, d)
				}
				if want.Day() != d {
					continue
				}
				w := wallClock{year: y, month: m, day: d, hour: 13, min: 14, sec: 15, nsec: 16, offset: 3600, zoned: true}
				if got := w.time(nil); !got.Equal(want.Add(-time.Hour)) {
					t.Fatalf("%v != %v", got, want.Add(-time.Hour))
				}
			}
		}
	}
}
