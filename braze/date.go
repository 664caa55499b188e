package braze

import (
	"fmt"
	"time"
)

// Date is a calendar date with no time of day and no zone, as Braze expects
// for dob ("YYYY-MM-DD"). Using a Date rather than a time.Time keeps a
// birthday from moving by a day when a zone is applied.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date in the form YYYY-MM-DD and checks that it exists
// in the calendar (no 2023-02-30) and lies in years 1 to 9999, so that
// every parsed Date also marshals.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	d := DateOf(t)
	if err != nil || !d.IsValid() {
		return Date{}, fmt.Errorf("braze: date %q is not a YYYY-MM-DD calendar date", s)
	}
	return d, nil
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// IsValid reports whether d names a real calendar day.
func (d Date) IsValid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && t.Month() == d.Month
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText encodes the date as YYYY-MM-DD. It fails for an invalid date
// so that a nonsense dob is never sent.
func (d Date) MarshalText() ([]byte, error) {
	if !d.IsValid() {
		return nil, fmt.Errorf("braze: invalid date %04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes a YYYY-MM-DD date.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
