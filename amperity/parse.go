package amperity

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

// The type parsers are strict: they accept the documented text forms of
// each Amperity type and nothing that would need guessing. Errors wrap
// ErrInvalidValue and say what was expected; the mapper adds the place.

// parseBoolean accepts true/false, t/f, 1/0 and yes/no, ignoring case.
func parseBoolean(s string) (bool, error) {
	switch len(s) {
	case 1:
		switch s[0] {
		case 't', 'T', '1':
			return true, nil
		case 'f', 'F', '0':
			return false, nil
		}
	case 2:
		if strings.EqualFold(s, "no") {
			return false, nil
		}
	case 3:
		if strings.EqualFold(s, "yes") {
			return true, nil
		}
	case 4:
		if strings.EqualFold(s, "true") {
			return true, nil
		}
	case 5:
		if strings.EqualFold(s, "false") {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: not a Boolean (true/false, t/f, 1/0, yes/no)", ErrInvalidValue)
}

// parseDate accepts an ISO-8601 calendar date, YYYY-MM-DD, that exists.
func parseDate(s string) (braze.Date, error) {
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		if ok1 && ok2 && ok3 {
			if validDate(y, m, d) {
				return braze.Date{Year: y, Month: time.Month(m), Day: d}, nil
			}
			return braze.Date{}, fmt.Errorf("%w: no such calendar date", ErrInvalidValue)
		}
	}
	return braze.Date{}, fmt.Errorf("%w: not a Date (YYYY-MM-DD)", ErrInvalidValue)
}

// validDate checks a civil date without building a time.Time (the parsers
// run once per cell).
func validDate(y, m, d int) bool {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	dim := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		dim = 29
	}
	return d <= dim
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here, since y >= 1 before the decrement
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// digits parses a short run of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

// wallClock is a parsed date and time as written, before any zone is
// applied. The dob rule needs the written date, not the UTC one.
type wallClock struct {
	year, month, day, hour, min, sec, nsec int
	offset                                 int // seconds east of UTC
	zoned                                  bool
}

// errNotDatetime is built once: the parser runs per cell, and building a
// message per failure would cost more than the parse.
var errNotDatetime = fmt.Errorf("%w: not %s", ErrInvalidValue, datetimeForms)

const datetimeForms = "a Datetime (YYYY-MM-DD HH:MM:SS[.fraction], YYYY-MM-DDTHH:MM:SS[.fraction], RFC 3339 with offset, or YYYY-MM-DD)"

// parseDatetime accepts RFC 3339 with an offset, `YYYY-MM-DD HH:MM:SS[.f]`
// and `YYYY-MM-DDTHH:MM:SS[.f]` with or without a zone (Z, UTC or ±HH:MM,
// optionally after a space), a bare date (midnight), and the JavaScript
// Date.toString form Amperity documents ("Mon Nov 30 2020 16:00:00
// GMT-0800 (Pacific Standard Time)"). A value without a zone is read in loc
// (UTC when loc is nil). The result is in UTC.
func parseDatetime(s string, loc *time.Location) (time.Time, error) {
	w, err := parseWallClock(s)
	if err != nil {
		return time.Time{}, err
	}
	t := w.time(loc)
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%w: the instant falls outside the years 1 to 9999 in UTC", ErrInvalidValue)
	}
	return t, nil
}

func (w wallClock) time(loc *time.Location) time.Time {
	if w.zoned || loc == nil || loc == time.UTC {
		// Direct arithmetic: time.Date is the slow part of a parse.
		sec := daysFromCivil(w.year, w.month, w.day)*86400 + int64(w.hour*3600+w.min*60+w.sec) - int64(w.offset)
		return time.Unix(sec, int64(w.nsec)).UTC()
	}
	return time.Date(w.year, time.Month(w.month), w.day, w.hour, w.min, w.sec, w.nsec, loc).UTC()
}

func parseWallClock(s string) (wallClock, error) {
	if len(s) > 0 && s[0] >= 'A' && s[0] <= 'Z' {
		return parseJSDate(s)
	}
	var w wallClock
	if len(s) < 10 {
		return w, errNotDatetime
	}
	d, err := parseDate(s[:10])
	if err != nil {
		return w, err
	}
	w.year, w.month, w.day = d.Year, int(d.Month), d.Day
	rest := s[10:]
	if rest == "" {
		return w, nil
	}
	if rest[0] != 'T' && rest[0] != ' ' || len(rest) < 9 || rest[3] != ':' || rest[6] != ':' {
		return w, errNotDatetime
	}
	h, ok1 := digits(rest[1:3])
	mi, ok2 := digits(rest[4:6])
	sec, ok3 := digits(rest[7:9])
	if !ok1 || !ok2 || !ok3 {
		return w, errNotDatetime
	}
	if h > 23 || mi > 59 || sec > 59 {
		return w, fmt.Errorf("%w: time of day out of range", ErrInvalidValue)
	}
	w.hour, w.min, w.sec = h, mi, sec
	rest = rest[9:]
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		frac := rest[1:i]
		if len(frac) == 0 || len(frac) > 9 {
			return w, fmt.Errorf("%w: fraction of a second must have 1 to 9 digits", ErrInvalidValue)
		}
		n, _ := digits(frac)
		for k := len(frac); k < 9; k++ {
			n *= 10
		}
		w.nsec = n
		rest = rest[i:]
	}
	if rest == "" {
		return w, nil
	}
	if rest[0] == ' ' {
		rest = rest[1:]
	}
	switch {
	case rest == "Z" || rest == "UTC":
		w.zoned = true
		return w, nil
	case len(rest) >= 3 && (rest[0] == '+' || rest[0] == '-'):
		off, ok := parseOffset(rest[1:])
		if !ok {
			return w, fmt.Errorf("%w: zone offset must be ±HH:MM, ±HHMM or ±HH", ErrInvalidValue)
		}
		if rest[0] == '-' {
			off = -off
		}
		w.offset, w.zoned = off, true
		return w, nil
	}
	return w, errNotDatetime
}

// parseOffset reads HH:MM, HHMM or HH as seconds.
func parseOffset(s string) (int, bool) {
	var hh, mm string
	switch len(s) {
	case 2:
		hh = s
	case 4:
		hh, mm = s[:2], s[2:]
	case 5:
		if s[2] != ':' {
			return 0, false
		}
		hh, mm = s[:2], s[3:]
	default:
		return 0, false
	}
	h, ok := digits(hh)
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	if mm != "" {
		if m, ok = digits(mm); !ok || m > 59 {
			return 0, false
		}
	}
	return h*3600 + m*60, true
}

// parseJSDate reads JavaScript's Date.toString text, which Amperity's
// documentation shows in domain tables.
func parseJSDate(s string) (wallClock, error) {
	text := s
	if i := strings.IndexByte(text, '('); i > 0 && strings.HasSuffix(text, ")") {
		text = strings.TrimSpace(text[:i])
	}
	t, err := time.Parse("Mon Jan 02 2006 15:04:05 GMT-0700", text)
	if err != nil {
		return wallClock{}, fmt.Errorf("%w: not %s", ErrInvalidValue, datetimeForms)
	}
	_, off := t.Zone()
	return wallClock{year: t.Year(), month: int(t.Month()), day: t.Day(), hour: t.Hour(), min: t.Minute(),
		sec: t.Second(), offset: off, zoned: true}, nil
}

// parseDOB reads a date of birth in any of the forms Amperity documents for
// dates and datetimes and returns the calendar date as written: a datetime
// keeps its own date, whatever its zone, so a birthday never moves by a day.
// Accepted: YYYY-MM-DD, the parseDatetime forms, yyyyMMdd, yyyy/MM/dd,
// MM/dd/yyyy (one- or two-digit month and day), dd-MMM-yyyy, dd MMM yyyy and
// ddMMMyyyy (English month abbreviations, any case). Two-digit years are
// rejected: a birth year cannot be placed in a century safely.
func parseDOB(s string) (braze.Date, error) {
	if d, err := parseDate(s); err == nil {
		return d, nil
	}
	if len(s) > 10 && s[4] == '-' {
		w, err := parseWallClock(s)
		if err != nil {
			return braze.Date{}, err
		}
		return braze.Date{Year: w.year, Month: time.Month(w.month), Day: w.day}, nil
	}
	if len(s) > 0 && s[0] >= 'A' && s[0] <= 'Z' && strings.Contains(s, "GMT") {
		w, err := parseJSDate(s)
		if err != nil {
			return braze.Date{}, err
		}
		return braze.Date{Year: w.year, Month: time.Month(w.month), Day: w.day}, nil
	}
	y, m, d, ok := dobPattern(s)
	if !ok {
		return braze.Date{}, fmt.Errorf("%w: not a date of birth (YYYY-MM-DD, yyyyMMdd, yyyy/MM/dd, MM/dd/yyyy, dd-MMM-yyyy, dd MMM yyyy, ddMMMyyyy or a datetime)", ErrInvalidValue)
	}
	date := braze.Date{Year: y, Month: time.Month(m), Day: d}
	if !date.IsValid() {
		return braze.Date{}, fmt.Errorf("%w: no such calendar date", ErrInvalidValue)
	}
	return date, nil
}

var monthAbbrev = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func monthByAbbrev(s string) (int, bool) {
	for i, a := range monthAbbrev {
		if strings.EqualFold(s, a) {
			return i + 1, true
		}
	}
	return 0, false
}

func dobPattern(s string) (y, m, d int, ok bool) {
	switch {
	case strings.Count(s, "/") == 2 && (len(s) < 5 || s[4] != '/'): // M/d/yyyy
		parts := strings.Split(s, "/")
		if len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[1]) < 1 || len(parts[1]) > 2 || len(parts[2]) != 4 {
			return 0, 0, 0, false
		}
		m, ok1 := digits(parts[0])
		d, ok2 := digits(parts[1])
		y, ok3 := digits(parts[2])
		return y, m, d, ok1 && ok2 && ok3
	case len(s) == 8: // yyyyMMdd
		y, ok1 := digits(s[:4])
		m, ok2 := digits(s[4:6])
		d, ok3 := digits(s[6:])
		return y, m, d, ok1 && ok2 && ok3
	case len(s) == 10 && s[4] == '/' && s[7] == '/': // yyyy/MM/dd
		y, ok1 := digits(s[:4])
		m, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:])
		return y, m, d, ok1 && ok2 && ok3
	case len(s) == 11 && (s[2] == '-' && s[6] == '-' || s[2] == ' ' && s[6] == ' '): // dd-MMM-yyyy, dd MMM yyyy
		d, ok1 := digits(s[:2])
		m, ok2 := monthByAbbrev(s[3:6])
		y, ok3 := digits(s[7:])
		return y, m, d, ok1 && ok2 && ok3
	case len(s) == 9: // ddMMMyyyy
		d, ok1 := digits(s[:2])
		m, ok2 := monthByAbbrev(s[2:5])
		y, ok3 := digits(s[5:])
		return y, m, d, ok1 && ok2 && ok3
	}
	return 0, 0, 0, false
}

// parseInteger accepts a base-10 signed 64-bit integer, with an optional
// sign and no separators, fraction or exponent.
func parseInteger(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%w: Integer out of the 64-bit range", ErrInvalidValue)
		}
		return 0, fmt.Errorf("%w: not an Integer", ErrInvalidValue)
	}
	return n, nil
}

// parseFloat accepts decimal and exponent notation ("1.5", "-2e-3"). Hex
// floats, underscores, NaN and infinities are rejected: JSON cannot carry
// the last two, and the first two are not what an export writes.
func parseFloat(s string) (float64, error) {
	if f, ok := parseShortDecimal(s); ok {
		return f, nil
	}
	if !isNumberText(s) {
		return 0, fmt.Errorf("%w: not a Float", ErrInvalidValue)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: Float beyond the range of a double (about ±1.8e308)", ErrInvalidValue)
	}
	if f == 0 && hasNonZeroDigit(s) {
		return 0, fmt.Errorf("%w: Float too close to zero for a double (below about 4.9e-324): it would be sent as 0", ErrInvalidValue)
	}
	return f, nil
}

// hasNonZeroDigit reports whether the mantissa of number text has a digit
// other than 0, that is whether the number is not zero.
func hasNonZeroDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'e' || c == 'E':
			return false
		case c >= '1' && c <= '9':
			return true
		}
	}
	return false
}

// exactPow10 are the powers of ten that a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseShortDecimal parses the common [-+]digits[.digits] with at most 15
// digits, without strconv: the digits as an integer and the power of ten
// are both exact in a float64, so their quotient is the correctly rounded
// value, the same float64 strconv.ParseFloat returns (Clinger's fast
// path). ok is false for anything else, which takes the general path.
func parseShortDecimal(s string) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	var mant uint64
	nd, frac, point := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			nd++
			if point {
				frac++
			}
		case c == '.' && !point && nd > 0:
			point = true
		default:
			return 0, false
		}
	}
	if nd == 0 || nd > 15 || point && frac == 0 {
		return 0, false
	}
	f := float64(mant) / exactPow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// isNumberText reports whether s is [+-]digits[.digits][(e|E)[+-]digits].
func isNumberText(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		f := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == f {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == e {
			return false
		}
	}
	return i == len(s)
}

// maxDecimalExponent bounds how far an exponent may move the point, so that
// "1e999999999" cannot make a gigabyte of zeros.
const maxDecimalExponent = 400

// parseDecimal reads an exact decimal and returns its canonical text: no
// '+' sign, no leading zeros, no trailing fractional zeros, no "-0", and an
// exponent folded into plain digits ("1.50" -> "1.5", "-0.0" -> "0",
// "12e-1" -> "1.2"). Equal values give equal text, so formatting never
// looks like a change. The value is never rounded through a float.
//
// Braze reads every JSON number as a double, so a value beyond a double's
// range ("1e400", about ±1.8e308) or so close to zero that a double holds
// it as 0 ("1e-400") is rejected rather than sent as a number Braze cannot
// hold. Digits beyond a double's precision are kept: Braze rounds them.
func parseDecimal(s string) (json.Number, error) {
	if t, ok := plainDecimal(s); ok {
		return checkDecimalRange(t)
	}
	if !isNumberText(s) {
		return "", fmt.Errorf("%w: not a Decimal", ErrInvalidValue)
	}
	neg := s[0] == '-'
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxDecimalExponent || e < -maxDecimalExponent {
			return "", fmt.Errorf("%w: Decimal exponent out of range (±%d)", ErrInvalidValue, maxDecimalExponent)
		}
		exp = e
	}
	intPart, fracPart, _ := strings.Cut(mant, ".")
	digitsAll := intPart + fracPart
	point := len(intPart) + exp // position of the point within digitsAll
	// Trim leading zeros (moving the point) and trailing zeros (after it).
	lead := 0
	for lead < len(digitsAll) && digitsAll[lead] == '0' {
		lead++
	}
	digitsAll = digitsAll[lead:]
	point -= lead
	end := len(digitsAll)
	for end > 0 && digitsAll[end-1] == '0' && end > point {
		end--
	}
	digitsAll = digitsAll[:end]
	if digitsAll == "" {
		return "0", nil
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digitsAll)
	case point >= len(digitsAll):
		b.WriteString(digitsAll)
		b.WriteString(strings.Repeat("0", point-len(digitsAll)))
	default:
		b.WriteString(digitsAll[:point])
		b.WriteByte('.')
		b.WriteString(digitsAll[point:])
	}
	return checkDecimalRange(b.String())
}

// decimalSafeLen is a length of canonical decimal text below which the
// value is surely within a double's range: fewer than 300 integer digits
// (below 1e300), and a nonzero fraction shorter than 300 digits (at least
// 1e-299).
const decimalSafeLen = 300

// checkDecimalRange rejects canonical decimal text that a double, which is
// what Braze reads JSON numbers as, cannot hold: beyond ±MaxFloat64, or
// not zero but rounded to zero.
func checkDecimalRange(t string) (json.Number, error) {
	if len(t) < decimalSafeLen {
		return json.Number(t), nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) {
		return "", fmt.Errorf("%w: Decimal beyond the range of a double (about ±1.8e308), the largest number Braze holds", ErrInvalidValue)
	}
	if f == 0 && t != "0" {
		return "", fmt.Errorf("%w: Decimal too close to zero for a double (below about 4.9e-324), which Braze would hold as 0", ErrInvalidValue)
	}
	return json.Number(t), nil
}

// plainDecimal is the allocation-free fast path for what exports usually
// hold: -?digits[.digits] without leading zeros. Trailing fractional zeros
// ("120.50", "3.00") are cut by slicing. Anything else (a '+', leading
// zeros, an exponent, "-0", or text that is not a number) goes to the
// general path.
func plainDecimal(s string) (string, bool) {
	i := 0
	if len(s) > 0 && s[0] == '-' {
		i = 1
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intLen := i - start
	if intLen == 0 || intLen > 1 && s[start] == '0' {
		return "", false
	}
	end := len(s)
	if i < len(s) {
		if s[i] != '.' || i+1 == len(s) {
			return "", false
		}
		lastNonZero := i // the point itself when the fraction is all zeros
		for k := i + 1; k < len(s); k++ {
			c := s[k]
			if c < '0' || c > '9' {
				return "", false
			}
			if c != '0' {
				lastNonZero = k
			}
		}
		end = lastNonZero + 1
		if lastNonZero == i {
			end = i
		}
	}
	t := s[:end]
	if start == 1 && end == 2 && s[1] == '0' {
		return "", false // "-0" and "-0.00" become "0" on the general path
	}
	return t, true
}
