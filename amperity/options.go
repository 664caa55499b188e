package amperity

import (
	"time"
)

// MapperOption configures a Mapper.
type MapperOption func(*mapperConfig)

type mapperConfig struct {
	idField       string
	consent       bool
	omitNulls     bool
	emptyAsNull   bool
	lowerEmails   bool
	loc           *time.Location
	explicit      map[string]string // column -> Braze name
	ignored       map[string]bool
	raw           map[string]bool
	precedence    map[string][]string // Braze name -> columns, first wins
	audienceCols  []string
	constAudience []string
	audienceArray string
	order         []named // the columns options name, in option order, for messages
	names         map[string]string
	updateOnly    bool
	reuse         bool
	workers       int // -1: the default (see Records)
}

// ReuseRecords makes Mapper.Records reuse the memory of the records' Attrs
// slices, as encoding/csv's ReuseRecord does. Use it only when the consumer
// is done with a record's Attrs slice (not its values, which are never
// reused) before asking for the next record; a diff.Plan is such a
// consumer (it copies the slice).
func ReuseRecords() MapperOption { return func(c *mapperConfig) { c.reuse = true } }

// MapWorkers sets how many goroutines map rows in Mapper.Records, beside
// the one reading them. The default is GOMAXPROCS, at most 4 (none on a
// single core). With n = 0 rows are read and mapped on the caller's
// goroutine, one at a time, and nothing is read ahead.
func MapWorkers(n int) MapperOption {
	return func(c *mapperConfig) { c.workers = max(n, 0) }
}

// IdentifyBy chooses the identifier: "external_id" (the default) or
// "braze_id". The column holding it becomes each record's Key and is never
// an attribute.
func IdentifyBy(field string) MapperOption { return func(c *mapperConfig) { c.idField = field } }

// WithConsentFields lets the consent fields (email_subscribe,
// push_subscribe, subscription_groups) through. By default they are
// ignored, because Braze, not Amperity, is the source of truth for consent.
func WithConsentFields() MapperOption { return func(c *mapperConfig) { c.consent = true } }

// OmitNulls leaves a NULL cell out of the record instead of sending null,
// which would remove the attribute in Braze.
func OmitNulls() MapperOption { return func(c *mapperConfig) { c.omitNulls = true } }

// EmptyStringsAsNull treats an empty string in a String column as NULL.
func EmptyStringsAsNull() MapperOption { return func(c *mapperConfig) { c.emptyAsNull = true } }

// LowercaseEmails lower-cases the email field (it is only trimmed by default).
func LowercaseEmails() MapperOption { return func(c *mapperConfig) { c.lowerEmails = true } }

// InLocation reads datetimes written without a zone in loc instead of UTC.
func InLocation(loc *time.Location) MapperOption { return func(c *mapperConfig) { c.loc = loc } }

// MapColumn sends a column to the Braze attribute with exactly this name:
// a standard field ("dob"), the identifier, or a custom attribute
// (Braze names are case-sensitive). It overrides every automatic decision,
// including the consent rule and the amperity_id rule.
func MapColumn(column, field string) MapperOption {
	return func(c *mapperConfig) {
		if c.explicit == nil {
			c.explicit = map[string]string{}
		}
		c.explicit[column] = field
		c.order = append(c.order, named{column, "MapColumn"})
	}
}

// IgnoreColumns keeps columns out of the records.
func IgnoreColumns(columns ...string) MapperOption {
	return func(c *mapperConfig) {
		if c.ignored == nil {
			c.ignored = map[string]bool{}
		}
		for _, col := range columns {
			c.ignored[col] = true
			c.order = append(c.order, named{col, "IgnoreColumns"})
		}
	}
}

// KeepAsWritten skips the normalisation of standard fields (country to
// alpha-2, gender letters, language codes, email trimming) for these
// columns; their values are still checked against their column type.
func KeepAsWritten(columns ...string) MapperOption {
	return func(c *mapperConfig) {
		if c.raw == nil {
			c.raw = map[string]bool{}
		}
		for _, col := range columns {
			c.raw[col] = true
			c.order = append(c.order, named{col, "KeepAsWritten"})
		}
	}
}

// Precedence allows several columns to feed one Braze attribute: per row,
// the first column (in the order given) whose cell is not NULL wins. Without
// it, two columns landing on one attribute is a configuration error.
func Precedence(field string, columns ...string) MapperOption {
	return func(c *mapperConfig) {
		if c.precedence == nil {
			c.precedence = map[string][]string{}
		}
		c.precedence[field] = append([]string(nil), columns...)
		for _, col := range columns {
			c.order = append(c.order, named{col, "Precedence"})
		}
	}
}

// AudienceColumns marks membership columns, which must be typed Boolean in
// the schema (NewMapper refuses any other type; NULL means not a member).
// Each becomes a boolean custom attribute
// named after the column (or its MapColumn name), listed by
// Mapper.AudienceAttributes so the delta engine can send false when a user
// leaves.
func AudienceColumns(columns ...string) MapperOption {
	return func(c *mapperConfig) {
		c.audienceCols = append(c.audienceCols, columns...)
		for _, col := range columns {
			c.order = append(c.order, named{col, "AudienceColumns"})
		}
	}
}

// InAudience marks every row of the file as a member of the named audience,
// for audience exports that are plain lists of users: each record gets the
// boolean attribute name = true.
func InAudience(name string) MapperOption {
	return func(c *mapperConfig) { c.constAudience = append(c.constAudience, name) }
}

// AudienceArray gathers all audiences (AudienceColumns and InAudience) into
// one string-array attribute with this name, holding the names of the
// audiences the user is in (empty when none), instead of one boolean per
// audience.
func AudienceArray(attribute string) MapperOption {
	return func(c *mapperConfig) { c.audienceArray = attribute }
}

// UpdateExistingOnly adds the request flag _update_existing_only: true to
// every record, so that Braze updates the profiles it already holds and
// creates none (Amperity's "Update existing profiles only?"). Braze answers
// success for a user it skipped, so nothing tells the sender which users
// were skipped: a consumer that records what was sent (a diff.Plan) would
// take a skipped user's attributes as held by Braze and never send them
// once that user is created, and would send later changes without the
// flag, which creates the profile. Send such records in full every run
// through a plan that records nothing (diff.WithDryRun on a scope that
// holds no users), as amperity-to-braze's -update-existing-only does.
func UpdateExistingOnly() MapperOption { return func(c *mapperConfig) { c.updateOnly = true } }

// OptionNames names the options in NewMapper's errors and in the reasons
// of Plan and Explain, for a program whose users configure the mapper
// through a file or flags rather than in Go. names maps an option's Go
// name ("MapColumn", "IgnoreColumns", "KeepAsWritten", "Precedence",
// "AudienceColumns", "AudienceArray", "InAudience", "WithConsentFields")
// to what the program's user writes, such as `mapping "ignore"`; an option
// it leaves out keeps its Go name.
func OptionNames(names map[string]string) MapperOption {
	return func(c *mapperConfig) {
		if c.names == nil {
			c.names = map[string]string{}
		}
		for k, v := range names {
			c.names[k] = v
		}
	}
}

// named is a column as an option named it.
type named struct{ column, option string }

// opt is how messages name the option whose Go name is goName.
func (c *mapperConfig) opt(goName string) string {
	if n, ok := c.names[goName]; ok {
		return n
	}
	return goName
}
