package amperity

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// Mapper turns typed rows into diff.Records whose attribute names are Braze
// field names: standard profile fields recognised by name or alias, custom
// attributes under their column names, audience flags, and the identifier
// as the record's Key. Its plan is fixed, and checked, by NewMapper before
// any row is read. It finds its columns in each row by name (see
// Row.Schema), whatever order its schema lists them in. A Mapper is
// immutable (but for a cache of the last column order it met) and safe for
// concurrent use.
type Mapper struct {
	schema    Schema
	cfg       mapperConfig
	targets   []target // by the schema's column positions
	decisions []Decision
	flags     []string // boolean audience attributes
	own       *layout  // the plan for rows in the schema's own order
	last      atomic.Pointer[layout]
}

// target is one output attribute and the columns that feed it.
type target struct {
	name      string
	sources   []source
	audience  bool // NULL means false
	constant  bool // InAudience: always true
	omitNull  bool // NULL leaves the attribute out
	emptyNull bool // "" counts as NULL (String columns)
}

type source struct {
	col  int
	conv converter
}

type audienceSource struct {
	name string
	col  int // -1 for InAudience
	conv converter
}

// NewMapper plans how the columns of schema map to Braze and reports any
// configuration error: no identifier column, two columns on one attribute
// without Precedence, an option naming a missing column, an invalid custom
// attribute name, or a column that cannot feed its Braze field.
func NewMapper(schema Schema, opts ...MapperOption) (*Mapper, error) {
	cfg := mapperConfig{idField: "external_id", workers: -1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.idField != "external_id" && cfg.idField != "braze_id" {
		return nil, &ConfigError{Field: cfg.idField, Err: ErrInvalidOption, Detail: "the identifier must be external_id or braze_id"}
	}
	for _, n := range cfg.order {
		if _, ok := schema.Lookup(n.column); !ok {
			return nil, &ConfigError{Column: n.column, Err: ErrNoSuchColumn, Detail: "named in " + cfg.opt(n.option) + " but not in the schema, whose columns are " + strings.Join(schema.Names(), ", ")}
		}
	}
	m := &Mapper{schema: schema, cfg: cfg}
	if err := m.plan(); err != nil {
		return nil, err
	}
	return m, nil
}

// columnDecision decides one column without looking at the others.
func (m *Mapper) columnDecision(col Column) Decision {
	cfg := &m.cfg
	d := Decision{Column: col.Name, Type: col.Type}
	isAudience := slices.Contains(cfg.audienceCols, col.Name)
	if field, ok := cfg.explicit[col.Name]; ok {
		d.Field, d.Reason = field, "mapped explicitly"
		switch {
		case field == cfg.idField:
			d.Action = ActionIdentifier
		case isAudience:
			d.Action = ActionAudience
		default:
			if _, std := braze.StandardField(field); std {
				d.Action = ActionStandard
			} else {
				d.Action = ActionCustom
			}
		}
		return d
	}
	if cfg.ignored[col.Name] {
		d.Action, d.Reason = ActionIgnored, "ignored by "+cfg.opt("IgnoreColumns")
		return d
	}
	if isAudience {
		d.Action, d.Field, d.Reason = ActionAudience, col.Name, "audience membership column"
		return d
	}
	key := nameKey(col.Name)
	if key == "amperity_id" {
		d.Action, d.Reason = ActionIgnored, "Amperity's own ID is not sent unless mapped with "+cfg.opt("MapColumn")
		return d
	}
	std, how := key, "standard field (name matched ignoring case)"
	if alias, ok := fieldAliases[key]; ok {
		std, how = alias, fmt.Sprintf("alias of the standard field %s", alias)
	}
	if std == col.Name {
		how = "standard field"
	}
	if std == cfg.idField {
		d.Action, d.Field, d.Reason = ActionIdentifier, cfg.idField, "identifier column"
		return d
	}
	if f, ok := braze.StandardField(std); ok {
		d.Field = f.Name
		switch {
		case f.Name == "external_id" || f.Name == "braze_id" || f.Name == "user_alias":
			d.Action, d.Field = ActionIgnored, ""
			d.Reason = fmt.Sprintf("%s is an identifier, and this mapping identifies users by %s", f.Name, cfg.idField)
		case f.Consent && !cfg.consent:
			d.Action = ActionConsentDisabled
			d.Reason = "consent field; Braze is the source of truth (enable with " + cfg.opt("WithConsentFields") + ")"
		default:
			d.Action, d.Reason = ActionStandard, how
		}
		return d
	}
	d.Action, d.Field, d.Reason = ActionCustom, col.Name, "custom attribute under the column name"
	return d
}

// nameKey folds a column name for matching standard fields: lower case,
// with spaces and hyphens as underscores ("Birth Date" -> "birth_date").
func nameKey(name string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(name)))
}

// fieldAliases folds the usual Amperity and CDP column names onto Braze's
// standard fields. Keys are nameKey forms.
var fieldAliases = map[string]string{
	"birthdate": "dob", "birthday": "dob", "birth_date": "dob", "date_of_birth": "dob", "dateofbirth": "dob", "birth_day": "dob",
	"given_name": "first_name", "givenname": "first_name", "firstname": "first_name", "fname": "first_name",
	"surname": "last_name", "family_name": "last_name", "familyname": "last_name", "lastname": "last_name", "lname": "last_name",
	"city": "home_city", "homecity": "home_city",
	"email_address": "email", "emailaddress": "email", "e_mail": "email",
	"phone_number": "phone", "phonenumber": "phone", "mobile_phone": "phone", "mobile_number": "phone", "mobile": "phone",
	"country_code":       "country",
	"sex":                "gender",
	"preferred_language": "language", "language_code": "language",
	"timezone": "time_zone", "tz": "time_zone",
	"externalid": "external_id", "brazeid": "braze_id",
}

func (m *Mapper) plan() error {
	cfg := &m.cfg
	cols := m.schema.cols
	m.decisions = make([]Decision, len(cols))
	byField := map[string][]int{}
	var fieldOrder []string
	for i, col := range cols {
		d := m.columnDecision(col)
		m.decisions[i] = d
		switch d.Action {
		case ActionIgnored, ActionConsentDisabled:
			continue
		case ActionAudience:
			if cfg.audienceArray != "" {
				continue
			}
		}
		if _, seen := byField[d.Field]; !seen {
			fieldOrder = append(fieldOrder, d.Field)
		}
		byField[d.Field] = append(byField[d.Field], i)
	}
	if cfg.audienceArray != "" {
		if _, seen := byField[cfg.audienceArray]; seen {
			return &ConfigError{Field: cfg.audienceArray, Err: ErrDuplicateTarget, Detail: "the name of " + cfg.opt("AudienceArray") + " is also a column's attribute"}
		}
	}
	for _, a := range cfg.constAudience {
		if _, seen := byField[a]; seen && cfg.audienceArray == "" {
			return &ConfigError{Field: a, Err: ErrDuplicateTarget, Detail: cfg.opt("InAudience") + " names an attribute that a column also feeds"}
		}
	}
	// Precedence lists must name exactly the columns that land on the field.
	for field, order := range cfg.precedence {
		have := byField[field]
		for _, name := range order {
			i := slices.IndexFunc(cols, func(c Column) bool { return c.Name == name })
			if !slices.Contains(have, i) {
				return &ConfigError{Column: name, Field: field, Err: ErrInvalidOption, Detail: cfg.opt("Precedence") + " names a column that does not map to this field"}
			}
		}
		if len(order) != len(have) {
			return &ConfigError{Field: field, Err: ErrInvalidOption, Detail: fmt.Sprintf("%s lists %d of the %d columns that map to it", cfg.opt("Precedence"), len(order), len(have))}
		}
		idx := make([]int, len(order))
		for k, name := range order {
			idx[k] = slices.IndexFunc(cols, func(c Column) bool { return c.Name == name })
		}
		byField[field] = idx
	}
	for _, field := range fieldOrder {
		idx := byField[field]
		if len(idx) > 1 && cfg.precedence[field] == nil {
			var parts []string
			for _, i := range idx {
				parts = append(parts, fmt.Sprintf("%q (%s)", cols[i].Name, m.decisions[i].Reason))
			}
			return &ConfigError{Field: field, Err: ErrDuplicateTarget,
				Detail: fmt.Sprintf("columns %s; drop one with %s or order them with %s", strings.Join(parts, " and "), cfg.opt("IgnoreColumns"), cfg.opt("Precedence"))}
		}
		if len(idx) > 1 {
			for k, i := range idx {
				m.decisions[i].Reason += fmt.Sprintf("; precedence %d of %d", k+1, len(idx))
			}
		}
	}
	// The identifier.
	idIdx, ok := byField[cfg.idField]
	if !ok {
		hint := ""
		if _, has := m.schema.Lookup("amperity_id"); has {
			hint = "; to use amperity_id, map it to " + cfg.idField + " with " + cfg.opt("MapColumn")
			if _, renamed := cfg.names["MapColumn"]; !renamed {
				hint = `; to use amperity_id, add MapColumn("amperity_id", "` + cfg.idField + `")`
			}
		}
		return &ConfigError{Field: cfg.idField, Err: ErrNoIdentifier, Detail: "no column is named " + cfg.idField + " or mapped to it" + hint}
	}
	own := &layout{n: len(cols), names: m.schema.Names(), idCols: idIdx}
	if len(cols) > 0 {
		own.first = &cols[0]
	}
	m.own = own
	// Attributes, in column order.
	for _, field := range fieldOrder {
		if field == cfg.idField {
			continue
		}
		if err := checkAttributeName(field); err != nil {
			return &ConfigError{Column: cols[byField[field][0]].Name, Field: field, Err: err}
		}
		t := target{name: field, omitNull: cfg.omitNulls}
		for _, i := range byField[field] {
			d := m.decisions[i]
			conv, err := m.converterFor(d)
			if err != nil {
				return &ConfigError{Column: d.Column, Field: field, Err: err}
			}
			t.sources = append(t.sources, source{col: i, conv: conv})
			if d.Action == ActionAudience {
				t.audience = true
			}
			if d.Type == TypeString && cfg.emptyAsNull {
				t.emptyNull = true
			}
			if d.Action == ActionStandard {
				if f, _ := braze.StandardField(field); !f.Nullable {
					t.omitNull = true
				}
			}
		}
		if t.audience {
			m.flags = append(m.flags, field)
		}
		m.targets = append(m.targets, t)
	}
	// Audiences.
	for i, d := range m.decisions {
		if d.Action == ActionAudience && cfg.audienceArray != "" {
			conv, err := audienceConverter(d.Type)
			if err != nil {
				return &ConfigError{Column: d.Column, Err: err}
			}
			own.arrayAud = append(own.arrayAud, audienceSource{name: d.Field, col: i, conv: conv})
			m.decisions[i].Field = cfg.audienceArray
			m.decisions[i].Reason = fmt.Sprintf("audience column; listed as %q in the array attribute %s when true", d.Field, cfg.audienceArray)
		}
	}
	for _, a := range cfg.constAudience {
		if err := checkAttributeName(a); err != nil {
			return &ConfigError{Field: a, Err: err}
		}
		if cfg.audienceArray != "" {
			own.arrayAud = append(own.arrayAud, audienceSource{name: a, col: -1})
			m.decisions = append(m.decisions, Decision{Action: ActionAudience, Field: cfg.audienceArray,
				Reason: fmt.Sprintf("every row is in audience %q (%s)", a, cfg.opt("InAudience"))})
			continue
		}
		m.targets = append(m.targets, target{name: a, constant: true, audience: true})
		m.flags = append(m.flags, a)
		m.decisions = append(m.decisions, Decision{Action: ActionAudience, Field: a, Reason: "every row is in this audience (" + cfg.opt("InAudience") + ")"})
	}
	if cfg.audienceArray != "" {
		if err := checkAttributeName(cfg.audienceArray); err != nil {
			return &ConfigError{Field: cfg.audienceArray, Err: err}
		}
	}
	if cfg.updateOnly {
		m.decisions = append(m.decisions, Decision{Action: ActionRequestFlag, Field: updateExistingOnlyFlag,
			Reason: "every record updates only a profile Braze already holds (" + cfg.opt("UpdateExistingOnly") + ")"})
	}
	own.targets = m.targets
	return nil
}

func (m *Mapper) converterFor(d Decision) (converter, error) {
	col := m.schema.cols[slices.IndexFunc(m.schema.cols, func(c Column) bool { return c.Name == d.Column })]
	switch d.Action {
	case ActionAudience:
		return audienceConverter(col.Type)
	case ActionStandard:
		f, _ := braze.StandardField(d.Field)
		return standardConverter(f, col.Type, m.cfg.raw[col.Name], &m.cfg)
	}
	return typedConverter(col.Type, m.cfg.loc), nil
}

// checkAttributeName applies Braze's rules for attribute names: not empty,
// at most 255 characters, not starting with the operator prefix '$'.
func checkAttributeName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidName)
	case utf8.RuneCountInString(name) > maxStringChars:
		return fmt.Errorf("%w: longer than 255 characters", ErrInvalidName)
	case name[0] == '$':
		return fmt.Errorf("%w: '$' starts Braze operators", ErrInvalidName)
	}
	return nil
}

// IDField returns the Braze identifier the records' Keys hold:
// "external_id" or "braze_id".
func (m *Mapper) IDField() string { return m.cfg.idField }

// AudienceAttributes returns the names of the boolean audience attributes.
// When a user leaves an audience, the delta engine should send false (not
// null, which would break segment filters).
func (m *Mapper) AudienceAttributes() []string { return slices.Clone(m.flags) }

// AudienceArrayAttribute returns the name of the audience array attribute,
// or "" when audiences are boolean flags. It is present on every record,
// empty when the user is in no audience.
func (m *Mapper) AudienceArrayAttribute() string { return m.cfg.audienceArray }

// Schema returns the schema the mapper was planned for. A reader may be
// given it (WithSchema) or not: the mapper finds its columns in the rows
// by name, whatever their order.
func (m *Mapper) Schema() Schema { return m.schema }

// Attributes returns the names of the attributes a record may carry, in
// record order.
func (m *Mapper) Attributes() []string {
	out := make([]string, 0, len(m.targets)+1)
	for _, t := range m.targets {
		out = append(out, t.name)
	}
	if m.cfg.audienceArray != "" {
		out = append(out, m.cfg.audienceArray)
	}
	if m.cfg.updateOnly {
		out = append(out, updateExistingOnlyFlag)
	}
	return out
}

// Map converts one row. Errors about the row are *InputErrors naming the
// row, column and value; when the row's identifier was read, the error
// comes with a Record that holds only the Key (see Records). Rows whose
// Schema has a column the mapper's schema does not, or lacks one it has,
// cannot be mapped at all: the error is a *FatalError wrapping an
// *InputError with ErrHeaderMismatch.
func (m *Mapper) Map(row Row) (diff.Record, error) { return m.mapRow(row, nil) }

// mapRow converts a row, appending the attributes to attrs[:0] when attrs
// is not nil.
func (m *Mapper) mapRow(row Row, attrs []diff.Attr) (diff.Record, error) {
	l, err := m.layoutOf(row)
	if err != nil {
		return diff.Record{}, err
	}
	if len(row.Cells) != l.n {
		return diff.Record{}, &InputError{Source: row.Source, Row: row.Number, Line: row.Line,
			Err: fmt.Errorf("%w: %d cells for %d columns", ErrRaggedRow, len(row.Cells), l.n)}
	}
	var rec diff.Record
	cellErr := func(col int, err error) error {
		c := row.Cells[col]
		return &InputError{Source: row.Source, Row: row.Number, Line: row.Line, Key: rec.Key, Column: l.names[col], Value: shorten(c.Text), Err: err}
	}
	for _, i := range l.idCols {
		c := row.Cells[i]
		if !c.Null && strings.TrimSpace(c.Text) != "" {
			if err := noJSON(c); err != nil {
				return diff.Record{}, cellErr(i, err)
			}
			rec.Key = c.Text
			break
		}
	}
	if rec.Key == "" {
		return diff.Record{}, cellErr(l.idCols[0], fmt.Errorf("%w: %s is empty", ErrMissingIdentifier, m.cfg.idField))
	}
	n := m.attrsPerRecord()
	if attrs != nil {
		rec.Attrs = attrs[:0]
	} else {
		rec.Attrs = make([]diff.Attr, 0, n)
	}
	for ti := range l.targets {
		t := &l.targets[ti]
		if t.constant {
			rec.Attrs = append(rec.Attrs, diff.Attr{Name: t.name, Value: diff.BoolValue(true)})
			continue
		}
		var v diff.Value
		found := false
		for _, s := range t.sources {
			c := row.Cells[s.col]
			if c.Null || t.emptyNull && c.Text == "" && !c.JSON {
				continue
			}
			val, err := s.conv(c)
			if err != nil {
				return diff.Record{Key: rec.Key}, cellErr(s.col, err)
			}
			v, found = val, true
			break
		}
		if !found || v.IsNull() {
			switch {
			case t.audience:
				v = diff.BoolValue(false)
			case t.omitNull:
				continue
			}
		}
		rec.Attrs = append(rec.Attrs, diff.Attr{Name: t.name, Value: v})
	}
	if m.cfg.audienceArray != "" {
		in := []string{}
		for _, a := range l.arrayAud {
			if a.col < 0 {
				in = append(in, a.name)
				continue
			}
			c := row.Cells[a.col]
			if c.Null {
				continue
			}
			member, err := a.conv(c)
			if err != nil {
				return diff.Record{Key: rec.Key}, cellErr(a.col, err)
			}
			if member.Any() == true {
				in = append(in, a.name)
			}
		}
		rec.Attrs = append(rec.Attrs, diff.Attr{Name: m.cfg.audienceArray, Value: diff.AnyValue(in)})
	}
	if m.cfg.updateOnly {
		rec.Attrs = append(rec.Attrs, diff.Attr{Name: updateExistingOnlyFlag, Value: diff.BoolValue(true)})
	}
	return rec, nil
}

// updateExistingOnlyFlag is the key of Braze's request flag that
// UpdateExistingOnly adds to every record.
const updateExistingOnlyFlag = "_update_existing_only"
