package schema

import (
	"fmt"
	"strings"
)

// Phrasing words the sentences of Describe for one comparison of a round trip.
type Phrasing struct {
	// Extra ends the sentence for an object only in the second catalog, e.g. "is left behind by the down".
	Extra string
	// Missing ends the sentence for an object only in the first catalog, e.g. "is not restored by the down".
	Missing string
	// When says when the second catalog was taken, e.g. "after the down".
	When string
}

// DownPhrasing describes Compare(beforeUp, afterDown).
var DownPhrasing = Phrasing{
	Extra:   "is left behind by the down",
	Missing: "is not restored by the down",
	When:    "after the down",
}

// ReUpPhrasing describes Compare(afterUp, afterReUp).
var ReUpPhrasing = Phrasing{
	Extra:   "exists after re-up but did not after the first up",
	Missing: "is missing after re-up",
	When:    "after re-up",
}

// MigrationPhrasing describes Compare(beforeUp, afterUp): what a migration changes, for reviewers.
var MigrationPhrasing = Phrasing{
	Extra:   "is added",
	Missing: "is dropped",
	When:    "after the migration",
}

// Describe turns d into one precise sentence per difference, e.g. "index users_email_idx is left behind
// by the down" or "column orders.note is character varying(20) after re-up, was text". Parts of a table
// that is itself extra or missing are not repeated.
func Describe(d *Diff, p Phrasing) []string {
	if d.Empty() {
		return nil
	}
	whole := map[string]bool{}
	for _, c := range d.Added {
		if c.Kind == KindTable {
			whole[c.Name] = true
		}
	}
	for _, c := range d.Removed {
		if c.Kind == KindTable {
			whole[c.Name] = true
		}
	}
	var out []string
	for _, c := range d.Added {
		if c.Table == "" || !whole[c.Table] {
			out = append(out, subject(c)+" "+p.Extra)
		}
	}
	for _, c := range d.Removed {
		if c.Table == "" || !whole[c.Table] {
			out = append(out, subject(c)+" "+p.Missing)
		}
	}
	for _, c := range d.Changed {
		for _, pc := range c.Properties {
			out = append(out, propertySentence(c, pc, p.When))
		}
	}
	return out
}

// display drops the public schema from a qualified name.
func display(name string) string {
	return strings.TrimPrefix(name, "public.")
}

// subject is "kind name", with the table for objects whose names are only unique per table.
func subject(c Change) string {
	switch c.Kind {
	case KindColumn:
		return "column " + display(c.Name)
	case KindConstraint, KindTrigger, KindPolicy:
		return c.Kind + " " + lastName(c.Name) + " on " + display(c.Table)
	case KindIndex:
		return "index " + display(c.Name)
	}
	return c.Kind + " " + display(c.Name)
}

func propertySentence(c Change, pc PropertyChange, when string) string {
	s := subject(c)
	switch pc.Property {
	case "name":
		old := c
		old.Name = strings.TrimSuffix(c.Name, pc.New) + pc.Old
		return fmt.Sprintf("%s is named %s %s", subject(old), pc.New, when)
	case "type", "base type":
		return fmt.Sprintf("%s is %s %s, was %s", s, shortType(pc.New), when, shortType(pc.Old))
	case "not null":
		return fmt.Sprintf("%s is %s %s, was %s", s, nullability(pc.New), when, nullability(pc.Old))
	case "validated":
		return fmt.Sprintf("%s is %s %s, was %s", s, validity(pc.New, "validated", "NOT VALID"), when,
			validity(pc.Old, "validated", "NOT VALID"))
	case "valid":
		return fmt.Sprintf("%s is %s %s, was %s", s, validity(pc.New, "valid", "invalid"), when,
			validity(pc.Old, "valid", "invalid"))
	case "values":
		return fmt.Sprintf("%s has values %s %s, was %s", s, pc.New, when, pc.Old)
	}
	if strings.Contains(pc.Old, "\n") || strings.Contains(pc.New, "\n") {
		// Bodies and view definitions: point at the first line that differs.
		ol, nl := strings.Split(pc.Old, "\n"), strings.Split(pc.New, "\n")
		i := 0
		for i < len(ol) && i < len(nl) && ol[i] == nl[i] {
			i++
		}
		return fmt.Sprintf("%s has its %s changed at line %d %s: %s, was %s", s, pc.Property, i+1, when,
			lineAt(nl, i), lineAt(ol, i))
	}
	return fmt.Sprintf("%s has %s %s %s, was %s", s, pc.Property, value(pc.New), when, value(pc.Old))
}

func lineAt(lines []string, i int) string {
	if i >= len(lines) {
		return "no such line"
	}
	l := strings.TrimSpace(lines[i])
	if len(l) > 100 {
		l = l[:100] + "…"
	}
	return fmt.Sprintf("%q", l)
}

func nullability(v string) string {
	if v == "true" {
		return "NOT NULL"
	}
	return "nullable"
}

func validity(v, yes, no string) string {
	if v == "true" {
		return yes
	}
	return no
}

func value(v string) string {
	switch {
	case v == "":
		return "none"
	case len(v) > 120:
		return fmt.Sprintf("%q…", v[:100])
	}
	return v
}

// shortTypes are the everyday spellings of format_type's long names, for sentences only.
var shortTypes = strings.NewReplacer(
	"character varying", "varchar",
	"timestamp with time zone", "timestamptz",
	"timestamp without time zone", "timestamp",
	"time with time zone", "timetz",
	"time without time zone", "time",
)

func shortType(t string) string { return shortTypes.Replace(t) }
