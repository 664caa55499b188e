package e2e

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
)

// kind says how a Braze attribute is compared once it has gone through
// the whole pipeline.
type kind uint8

const (
	kindString kind = iota
	kindDate        // braze.Date; the fake keeps "YYYY-MM-DD"
	kindTime        // time.Time; the fake keeps the ISO-8601 text sent
	kindNumber      // int64, float64 or json.Number; compared by exact value
	kindBool
)

// column is one column of the generated export: its header, its Amperity
// type, and the Braze attribute the mapper is expected to produce from it.
// The expectation is written here independently of the mapper, so the
// suite checks the mapper's aliasing and normalisation too.
type column struct {
	name     string // header in the CSV
	typ      string // schema type
	attr     string // expected Braze attribute name ("" = not sent)
	kind     kind
	audience bool
	// gen draws the value for a user (nil = NULL) in its canonical form:
	// the form the fake should end up holding.
	gen func(r *rand.Rand, u int) any
	// render spells a non-nil value in the export, choosing among the
	// equivalent spellings an Amperity export may use.
	render func(r *rand.Rand, v any) string
	// renderNull spells NULL ("" is an empty unquoted field).
	renderNull func(r *rand.Rand) string
}

var (
	firstNames = []string{"Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Günther", "Hiro", "Ines", "José", "Kim", "Li", "Mary-Jane", "Nadia", "Olu", "Priya"}
	lastNames  = []string{"Lee", "O'Neil, Jr.", "Smith", "Müller", "García", "Nakamura", "Dupont", "Silva", "Okafor", `Van "The Man" Dyke`, "Ng", "Østergaard"}
	cities     = []string{"Boston", "Winston-Salem", "São Paulo", "Boston, MA", "Coeur d'Alene", "Zürich", "Tokyo", "Paris", "Lagos", "Berlin"}
	stores     = []string{"Downtown", "Mall of America", "Café Zürich", `Store "North"`, "Outlet, Route 9", "Pier 39\nSan Francisco", "Online", "東京店"}
	domains    = []string{"example.com", "Example.org", "mail.example.net"}
)

// spellings lists equivalent ways an export spells a canonical value.
var (
	countrySpellings = map[string][]string{
		"US": {"US", "us", "USA", "United States"},
		"DE": {"DE", "DEU", "Germany"},
		"GB": {"GB", "gbr", "United Kingdom"},
		"FR": {"FR", "FRA", "France"},
		"JP": {"JP", "JPN", "Japan"},
		"BR": {"BR", "BRA", "Brazil"},
		"CI": {"CI", "CIV", "Côte d'Ivoire"},
	}
	countryCodes      = []string{"US", "DE", "GB", "FR", "JP", "BR", "CI"}
	genderSpellings   = map[string][]string{"F": {"F", "female", "Female"}, "M": {"M", "male", "MALE"}, "O": {"O", "other"}}
	genderCodes       = []string{"F", "M", "O"}
	languageSpellings = map[string][]string{
		"en": {"en", "EN", "English", "en-US"},
		"de": {"de", "German", "de-DE"},
		"fr": {"fr", "French", "fr_FR"},
		"ja": {"ja", "Japanese"},
		"pt": {"pt", "Portuguese", "pt_BR"},
	}
	languageCodes = []string{"en", "de", "fr", "ja", "pt"}
	trueSpellings = []string{"true", "TRUE", "yes", "1", "t"}
	falseSpell    = []string{"false", "FALSE", "no", "0", "f"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// maybeNull returns nil with probability p, else v().
func maybeNull(r *rand.Rand, p float64, v func() any) any {
	if r.Float64() < p {
		return nil
	}
	return v()
}

func plainNull(*rand.Rand) string { return "" }

var epoch2024 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// exportColumns is the layout of the generated "Braze Customer Attributes"
// export. Column 1 is the identifier.
func exportColumns() []column {
	str := func(r *rand.Rand, v any) string { return v.(string) }
	return []column{
		{name: "amperity_id", typ: "String",
			gen:    func(r *rand.Rand, u int) any { return fmt.Sprintf("amp-%016x", r.Uint64()) },
			render: str},
		{name: "external_id", typ: "String"}, // identifier: filled by the writer
		{name: "given_name", typ: "String", attr: "first_name",
			gen:    func(r *rand.Rand, u int) any { return maybeNull(r, 0.05, func() any { return pick(r, firstNames) }) },
			render: str, renderNull: plainNull},
		{name: "surname", typ: "String", attr: "last_name",
			gen:    func(r *rand.Rand, u int) any { return maybeNull(r, 0.05, func() any { return pick(r, lastNames) }) },
			render: str, renderNull: plainNull},
		{name: "Email", typ: "String", attr: "email",
			gen: func(r *rand.Rand, u int) any {
				return maybeNull(r, 0.1, func() any {
					return fmt.Sprintf("%s.%d@%s", pick(r, firstNames[:5]), u, pick(r, domains))
				})
			},
			render: func(r *rand.Rand, v any) string {
				if r.IntN(8) == 0 {
					return "  " + v.(string) + " " // the mapper trims
				}
				return v.(string)
			}, renderNull: plainNull},
		{name: "Birthdate", typ: "String", attr: "dob", kind: kindDate,
			gen: func(r *rand.Rand, u int) any {
				return maybeNull(r, 0.1, func() any {
					return braze.DateOf(time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365*65)))
				})
			},
			render: renderDOB, renderNull: plainNull},
		{name: "gender", typ: "String", attr: "gender",
			gen:    func(r *rand.Rand, u int) any { return maybeNull(r, 0.15, func() any { return pick(r, genderCodes) }) },
			render: func(r *rand.Rand, v any) string { return pick(r, genderSpellings[v.(string)]) },
			// "U" and "unknown" mean null for Braze.
			renderNull: func(r *rand.Rand) string { return pick(r, []string{"", "U", "unknown"}) }},
		{name: "country", typ: "String", attr: "country",
			gen:        func(r *rand.Rand, u int) any { return maybeNull(r, 0.05, func() any { return pick(r, countryCodes) }) },
			render:     func(r *rand.Rand, v any) string { return pick(r, countrySpellings[v.(string)]) },
			renderNull: plainNull},
		{name: "city", typ: "String", attr: "home_city",
			gen:    func(r *rand.Rand, u int) any { return maybeNull(r, 0.1, func() any { return pick(r, cities) }) },
			render: str, renderNull: plainNull},
		{name: "language", typ: "String", attr: "language",
			gen:        func(r *rand.Rand, u int) any { return maybeNull(r, 0.1, func() any { return pick(r, languageCodes) }) },
			render:     func(r *rand.Rand, v any) string { return pick(r, languageSpellings[v.(string)]) },
			renderNull: plainNull},
		{name: "phone_number", typ: "Varchar", attr: "phone",
			gen: func(r *rand.Rand, u int) any {
				return maybeNull(r, 0.2, func() any { return fmt.Sprintf("+1%03d555%04d", 200+r.IntN(700), r.IntN(10000)) })
			},
			render: str, renderNull: plainNull},
		{name: "L12M_revenue", typ: "Decimal(12,2)", attr: "L12M_revenue", kind: kindNumber,
			gen: func(r *rand.Rand, u int) any {
				return maybeNull(r, 0.1, func() any { return centsNumber(r.Int64N(5_000_00)) })
			},
			render: renderDecimal, renderNull: plainNull},
		{name: "order_count", typ: "Integer", attr: "order_count", kind: kindNumber,
			gen:    func(r *rand.Rand, u int) any { return maybeNull(r, 0.05, func() any { return r.Int64N(200) }) },
			render: func(r *rand.Rand, v any) string { return strconv.FormatInt(v.(int64), 10) }, renderNull: plainNull},
		{name: "predicted_clv", typ: "Float", attr: "predicted_clv", kind: kindNumber,
			gen: func(r *rand.Rand, u int) any {
				return maybeNull(r, 0.1, func() any { return float64(r.IntN(10_000_000)) / 100 })
			},
			render: func(r *rand.Rand, v any) string {
				if r.IntN(3) == 0 {
					return strconv.FormatFloat(v.(float64), 'e', -1, 64)
				}
				return strconv.FormatFloat(v.(float64), 'g', -1, 64)
			}, renderNull: plainNull},
		{name: "last_order_at", typ: "Datetime", attr: "last_order_at", kind: kindTime,
			gen: func(r *rand.Rand, u int) any {
				return maybeNull(r, 0.1, func() any {
					return epoch2024.Add(time.Duration(r.Int64N(int64(700 * 24 * time.Hour))).Truncate(time.Millisecond))
				})
			},
			render: renderDatetime, renderNull: plainNull},
		{name: "first_order_date", typ: "Date", attr: "first_order_date", kind: kindDate,
			gen: func(r *rand.Rand, u int) any {
				return maybeNull(r, 0.1, func() any {
					return braze.DateOf(time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(3000)))
				})
			},
			render: func(r *rand.Rand, v any) string { return v.(braze.Date).String() }, renderNull: plainNull},
		{name: "is_member", typ: "Boolean", attr: "is_member", kind: kindBool,
			gen: func(r *rand.Rand, u int) any { return maybeNull(r, 0.1, func() any { return r.IntN(2) == 0 }) },
			render: func(r *rand.Rand, v any) string {
				if v.(bool) {
					return pick(r, trueSpellings)
				}
				return pick(r, falseSpell)
			}, renderNull: plainNull},
		{name: "favorite_store", typ: "String", attr: "favorite_store",
			gen:    func(r *rand.Rand, u int) any { return maybeNull(r, 0.2, func() any { return pick(r, stores) }) },
			render: str, renderNull: plainNull},
		audienceColumn("aud_vip", 0.1),
		audienceColumn("aud_churn_risk", 0.2),
		audienceColumn("aud_winback", 0.05),
	}
}

// audienceColumn is a membership flag: the expected attribute is true for
// members and false (never null) for everyone else.
func audienceColumn(name string, share float64) column {
	return column{name: name, typ: "Boolean", attr: name, kind: kindBool, audience: true,
		gen: func(r *rand.Rand, u int) any { return r.Float64() < share },
		render: func(r *rand.Rand, v any) string {
			if v.(bool) {
				return pick(r, []string{"true", "TRUE", "1"})
			}
			return pick(r, []string{"", "false"}) // NULL means "not a member"
		}}
}

func renderDOB(r *rand.Rand, v any) string {
	d := v.(braze.Date)
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	switch r.IntN(8) {
	case 0:
		return t.Format("01/02/2006")
	case 1:
		return t.Format("20060102")
	case 2:
		return t.Format("02-Jan-2006")
	case 3:
		return t.Format("02 Jan 2006")
	case 4:
		// Late evening west of UTC: the birthday must not move a day.
		return t.Add(23*time.Hour+30*time.Minute).Format("2006-01-02 15:04:05") + "-05:00"
	case 5:
		return t.Format("2006/01/02")
	}
	return d.String()
}

func renderDatetime(r *rand.Rand, v any) string {
	t := v.(time.Time)
	switch r.IntN(4) {
	case 0:
		return t.UTC().Format("2006-01-02 15:04:05.000") // no zone: UTC
	case 1:
		return t.In(time.FixedZone("", 3600)).Format(time.RFC3339Nano)
	case 2:
		return t.In(time.FixedZone("", -7*3600-1800)).Format("2006-01-02T15:04:05.999-07:00")
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// centsNumber is the canonical decimal text of an amount in cents.
func centsNumber(c int64) json.Number {
	s := fmt.Sprintf("%d.%02d", c/100, c%100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return json.Number(s)
}

func renderDecimal(r *rand.Rand, v any) string {
	s := string(v.(json.Number))
	whole, frac, _ := strings.Cut(s, ".")
	switch r.IntN(3) {
	case 0:
		return s
	case 1:
		return whole + "." + (frac + "00")[:2] // as a Decimal(12,2) export writes it
	}
	return whole + "." + frac + "000"
}

// user is one customer: the canonical value of every column (nil = NULL).
type user struct {
	key  string
	vals []any // by column index; vals[idColumn] unused
	// badDOB, when set, is written instead of the Birthdate value: a row the
	// mapper must report, not drop.
	badDOB string
}

const idColumn = 1

// snapshot is one export: the users in file order.
type snapshot struct {
	cols  []column
	users []*user
}

func userKey(u int) string { return fmt.Sprintf("cust-%07d", u) }

// generate builds the first export of n users.
func generate(seed uint64, n int) *snapshot {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &snapshot{cols: exportColumns()}
	for u := range n {
		s.users = append(s.users, newUser(r, s.cols, u))
	}
	// A few rows carry a birthdate that does not exist.
	for range max(1, n/5000) {
		s.users[r.IntN(n)].badDOB = pick(r, []string{"1985-02-30", "13/45/1990", "not a date"})
	}
	return s
}

func newUser(r *rand.Rand, cols []column, u int) *user {
	us := &user{key: userKey(u), vals: make([]any, len(cols))}
	for i, c := range cols {
		if c.gen != nil {
			us.vals[i] = c.gen(r, u)
		}
	}
	return us
}

// evolution records what changed between two snapshots.
type evolution struct {
	vanished map[string]bool
	added    map[string]bool
	// changed maps a key to the attributes whose canonical value changed.
	changed map[string]map[string]bool
}

// nextDay derives the export of the day after: some users changed, some
// left or joined audiences, some disappeared, some are new, the rows are
// shuffled and every value may be spelled differently.
func nextDay(seed uint64, prev *snapshot) (*snapshot, evolution) {
	r := rand.New(rand.NewPCG(seed, 2))
	ev := evolution{vanished: map[string]bool{}, added: map[string]bool{}, changed: map[string]map[string]bool{}}
	s := &snapshot{cols: prev.cols}
	for _, old := range prev.users {
		if r.Float64() < 0.01 {
			ev.vanished[old.key] = true
			continue
		}
		nu := &user{key: old.key, vals: append([]any(nil), old.vals...)}
		change := func(i int, v any) { nu.vals[i] = v }
		if r.Float64() < 0.10 {
			for range 1 + r.IntN(3) {
				i := 2 + r.IntN(len(s.cols)-2)
				c := s.cols[i]
				if c.audience {
					continue
				}
				v := c.gen(r, len(prev.users)+r.IntN(1000))
				if r.Float64() < 0.2 {
					v = nil // the attribute is gone: Braze must forget it
				}
				change(i, v)
			}
		}
		if r.Float64() < 0.05 {
			i := len(s.cols) - 1 - r.IntN(3)
			change(i, !nu.vals[i].(bool))
		}
		for i, c := range s.cols {
			if c.attr != "" && canonical(c.kind, old.vals[i]) != canonical(c.kind, nu.vals[i]) {
				if ev.changed[nu.key] == nil {
					ev.changed[nu.key] = map[string]bool{}
				}
				ev.changed[nu.key][c.attr] = true
			}
		}
		s.users = append(s.users, nu)
	}
	for u := len(prev.users); u < len(prev.users)+max(1, len(prev.users)/100); u++ {
		nu := newUser(r, s.cols, u)
		ev.added[nu.key] = true
		s.users = append(s.users, nu)
	}
	r.Shuffle(len(s.users), func(i, j int) { s.users[i], s.users[j] = s.users[j], s.users[i] })
	return s, ev
}

// schema returns the export's Amperity schema.
func (s *snapshot) schema() (amperity.Schema, error) {
	var cols []amperity.Column
	for _, c := range s.cols {
		t, err := amperity.ParseType(c.typ)
		if err != nil {
			return amperity.Schema{}, err
		}
		cols = append(cols, amperity.Column{Name: c.name, Type: t})
	}
	return amperity.NewSchema(cols...)
}

func (s *snapshot) audienceAttrs() []string {
	var out []string
	for _, c := range s.cols {
		if c.audience {
			out = append(out, c.attr)
		}
	}
	return out
}

// writeCSV writes the export and returns the 1-based data row of each key.
func (s *snapshot) writeCSV(path string, seed uint64) (map[string]int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	r := rand.New(rand.NewPCG(seed, 3))
	w.UseCRLF = r.IntN(2) == 0
	header := make([]string, len(s.cols))
	for i, c := range s.cols {
		header[i] = c.name
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	rows := make(map[string]int64, len(s.users))
	rec := make([]string, len(s.cols))
	for n, u := range s.users {
		rows[u.key] = int64(n + 1)
		for i, c := range s.cols {
			switch {
			case i == idColumn:
				rec[i] = u.key
			case c.name == "Birthdate" && u.badDOB != "":
				rec[i] = u.badDOB
			case u.vals[i] == nil:
				rec[i] = ""
				if c.renderNull != nil {
					rec[i] = c.renderNull(r)
				}
			default:
				rec[i] = c.render(r, u.vals[i])
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return rows, f.Close()
}

// desired is what the fake should hold for a user: every non-null
// attribute, and every audience flag (false when not a member).
func (s *snapshot) desired(u *user) map[string]any {
	out := make(map[string]any, len(s.cols))
	for i, c := range s.cols {
		if c.attr != "" && u.vals[i] != nil {
			out[c.attr] = u.vals[i]
		}
	}
	return out
}

// kinds maps each expected attribute to its comparison kind.
func (s *snapshot) kinds() map[string]kind {
	out := map[string]kind{}
	for _, c := range s.cols {
		if c.attr != "" {
			out[c.attr] = c.kind
		}
	}
	return out
}

// rejectedByBraze is the predicate the fake uses to reject users one by
// one (about 1%), seeded so a replay rejects the same users.
func rejectedByBraze(seed uint64) func(string) bool {
	return func(key string) bool {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s", seed, key)
		return h.Sum64()%100 == 0
	}
}
