package amperity

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Action is what the mapper does with a column.
type Action uint8

// The mapper's actions.
const (
	// ActionIdentifier: the column is the record's Key.
	ActionIdentifier Action = iota + 1
	// ActionStandard: the column feeds a standard Braze profile field.
	ActionStandard
	// ActionCustom: the column is a custom attribute.
	ActionCustom
	// ActionAudience: the column is an audience membership flag.
	ActionAudience
	// ActionIgnored: the column is not sent.
	ActionIgnored
	// ActionConsentDisabled: a consent field, not sent unless enabled.
	ActionConsentDisabled
	// ActionRequestFlag: no column; a flag of Braze's request in every
	// record (UpdateExistingOnly).
	ActionRequestFlag
)

var actionNames = [...]string{ActionIdentifier: "identifier", ActionStandard: "standard", ActionCustom: "custom",
	ActionAudience: "audience", ActionIgnored: "ignored", ActionConsentDisabled: "consent-disabled", ActionRequestFlag: "request-flag"}

// String returns the action's lower-case name.
func (a Action) String() string {
	if int(a) < len(actionNames) && actionNames[a] != "" {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Decision is the mapper's plan for one column (or, with an empty Column,
// for an InAudience attribute or a request flag).
type Decision struct {
	Column string
	Type   Type
	Action Action
	Field  string // the Braze name; empty when the column is not sent
	Reason string
}

// Plan returns the decision for every column, in column order, followed by
// InAudience attributes and the request flag of UpdateExistingOnly.
func (m *Mapper) Decisions() []Decision { return append([]Decision(nil), m.decisions...) }

// Explain renders the plan as an aligned text table, one line per column:
// column, type, action, Braze field and reason.
func (m *Mapper) Explain() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tACTION\tBRAZE FIELD\tWHY")
	for _, d := range m.decisions {
		col, typ, field := d.Column, d.Type.String(), d.Field
		if col == "" {
			col, typ = "-", "-"
		}
		if field == "" {
			field = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", col, typ, d.Action, field, d.Reason)
	}
	tw.Flush()
	return b.String()
}
