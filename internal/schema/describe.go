package schema

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
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
	var out []string
	for _, s := range DescribeChanges(d, p) {
		out = append(out, s.Text)
	}
	return out
}

// Sentence is one sentence of Describe with the change it tells.
type Sentence struct {
	Text   string
	Change Change
	// Side is +1 for an object only in the second catalog (Extra), -1 for one only in the first
	// (Missing), 0 for one in both that differs.
	Side int
}

// DescribeChanges is Describe, each sentence with its change.
func DescribeChanges(d *Diff, p Phrasing) []Sentence {
	if d.Empty() {
		return nil
	}
	whole := map[string]bool{}
	for _, c := range d.Added {
		if c.Kind == KindTable || c.Kind == KindForeignTable {
			whole[c.Name] = true
		}
	}
	for _, c := range d.Removed {
		if c.Kind == KindTable || c.Kind == KindForeignTable {
			whole[c.Name] = true
		}
	}
	// The index of a primary key, unique or exclusion constraint comes and goes with it, under its name:
	// the constraint's sentence says it all.
	constraintIndex := func(list []Change) map[string]bool {
		m := map[string]bool{}
		for _, c := range list {
			if c.Kind == KindConstraint {
				m[c.Table+" "+lastName(c.Name)] = true
			}
		}
		return m
	}
	addedWith, removedWith := constraintIndex(d.Added), constraintIndex(d.Removed)
	var out []Sentence
	for _, c := range d.Added {
		if (c.Table == "" || !whole[c.Table]) && !(c.Kind == KindIndex && addedWith[c.Table+" "+lastName(c.Name)]) {
			out = append(out, Sentence{Text: subject(c) + " " + p.Extra, Change: c, Side: 1})
		}
	}
	for _, c := range d.Removed {
		if (c.Table == "" || !whole[c.Table]) && !(c.Kind == KindIndex && removedWith[c.Table+" "+lastName(c.Name)]) {
			out = append(out, Sentence{Text: subject(c) + " " + p.Missing, Change: c, Side: -1})
		}
	}
	for _, c := range d.Changed {
		for _, pc := range c.Properties {
			if c.Kind == KindMembership && pc.Property == "name" {
				continue // a role renamed: the role's own sentence tells it
			}
			if pc.Property == "identity sequence name" && (pc.Old == "" || pc.New == "") {
				continue // a column made an identity or no longer one: its identity's sentence tells it
			}
			out = append(out, Sentence{Text: propertySentence(c, pc, p.When), Change: c})
		}
	}
	return out
}

// ObjectName is the object's own name, unqualified and without a function's arguments: what a
// statement creating or altering it names it by.
func ObjectName(c Change) string { return keyName(c.Name) }

// display drops the public schema from a qualified name.
func display(name string) string {
	return strings.TrimPrefix(name, "public.")
}

// displayList is display of each name of a list joined by ", " (a table's parents).
func displayList(names string) string {
	if names == "" {
		return ""
	}
	list := strings.Split(names, ", ")
	for i, n := range list {
		list[i] = display(n)
	}
	return strings.Join(list, ", ")
}

// subject is "kind name", with the table for objects whose names are only unique per table.
func subject(c Change) string {
	switch c.Kind {
	case KindColumn:
		return "column " + display(c.Name)
	case KindConstraint, KindTrigger, KindPolicy, KindRule:
		return c.Kind + " " + lastName(c.Name) + " on " + display(c.Table)
	case KindIndex:
		return "index " + display(c.Name)
	case KindRole:
		return "role " + c.Name
	case KindMembership:
		return "membership of " + c.Name
	case KindPrivilege:
		return "privilege " + c.Name
	}
	return c.Kind + " " + display(c.Name)
}

func propertySentence(c Change, pc PropertyChange, when string) string {
	switch c.Kind {
	case KindDefaultPrivileges:
		return defaultPrivilegesSentence(pc, when)
	case KindDatabase:
		return databaseSentence(pc, when)
	case KindPrivilege:
		return builtInPrivilegeSentence(c, pc, when)
	}
	s := subject(c)
	if c.Kind == KindRole || c.Kind == KindMembership {
		if r := roleSentence(c, pc, when); r != "" {
			return r
		}
	}
	switch pc.Property {
	case "name":
		old := c
		old.Name = strings.TrimSuffix(c.Name, pc.New) + pc.Old
		if oldName, _, ok := strings.Cut(pc.Old, "("); ok && strings.HasPrefix(pc.New, oldName+"(") {
			// A routine of the same name and argument types: its parameters are named otherwise.
			return fmt.Sprintf("%s has its parameters renamed %s: %s", subject(old), when, pc.New)
		}
		return fmt.Sprintf("%s is named %s %s", subject(old), pc.New, when)
	case "qualified name":
		// Moved to another schema: both names in full, public too.
		return fmt.Sprintf("%s %s is named %s %s", c.Kind, pc.Old, pc.New, when)
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
	case "populated":
		return fmt.Sprintf("%s is %s %s, was %s", s, validity(pc.New, "populated", "not populated (WITH NO DATA)"), when,
			validity(pc.Old, "populated", "not populated (WITH NO DATA)"))
	case "values":
		return fmt.Sprintf("%s has values %s %s, was %s", s, pc.New, when, pc.Old)
	case "state", "volatility", "strictness", "security", "leakproof", "parallel":
		return fmt.Sprintf("%s is %s %s, was %s", s, value(pc.New), when, value(pc.Old))
	case "cost", "rows":
		w := strings.ToUpper(pc.Property)
		return fmt.Sprintf("%s has %s %s %s, was %s %s", s, w, value(pc.New), when, w, value(pc.Old))
	case "inheritance":
		return fmt.Sprintf("%s is %s %s, was %s", s, or(pc.New, "declared locally"), when, or(pc.Old, "declared locally"))
	case "owned by":
		return fmt.Sprintf("%s is owned by %s %s, was owned by %s", s, orNothing(pc.New), when, orNothing(pc.Old))
	case "inherits":
		return fmt.Sprintf("%s inherits %s %s, was %s", s, orNothing(displayList(pc.New)), when, orNothing(displayList(pc.Old)))
	case "partition of":
		switch {
		case pc.New == "":
			return fmt.Sprintf("%s is no longer a partition of %s %s", s, display(pc.Old), when)
		case pc.Old == "":
			return fmt.Sprintf("%s is a partition of %s %s, was not a partition", s, display(pc.New), when)
		}
		return fmt.Sprintf("%s is a partition of %s %s, was of %s", s, display(pc.New), when, display(pc.Old))
	case "generated":
		// The expression of a stored generated column, in parentheses.
		switch {
		case pc.New == "":
			return fmt.Sprintf("%s is no longer generated %s, was generated as %s", s, when, pc.Old)
		case pc.Old == "":
			return fmt.Sprintf("%s is generated as %s %s, was not generated", s, pc.New, when)
		}
		return fmt.Sprintf("%s is generated as %s %s, was generated as %s", s, pc.New, when, pc.Old)
	case "of type":
		switch {
		case pc.New == "":
			return fmt.Sprintf("%s is no longer of type %s %s", s, pc.Old, when)
		case pc.Old == "":
			return fmt.Sprintf("%s is of type %s %s, was not a typed table", s, pc.New, when)
		}
		return fmt.Sprintf("%s is of type %s %s, was of type %s", s, pc.New, when, pc.Old)
	case "persistence":
		// Empty: logged.
		return fmt.Sprintf("%s is %s %s, was %s", s, or(pc.New, "logged"), when, or(pc.Old, "logged"))
	case "identity sequence type":
		// Empty: the column's type.
		const dflt = "the column's"
		return fmt.Sprintf("%s has identity sequence type %s %s, was %s", s, or(pc.New, dflt), when, or(pc.Old, dflt))
	case "identity sequence persistence":
		// Empty: logged.
		return fmt.Sprintf("%s has its identity sequence %s %s, was %s", s, or(pc.New, "logged"), when, or(pc.Old, "logged"))
	case "collation":
		// Empty: the default collation (the type's, or the database's).
		coll := func(v string) string {
			if v == "" {
				return "the default collation"
			}
			return "collation " + v
		}
		return fmt.Sprintf("%s has %s %s, was %s", s, coll(pc.New), when, coll(pc.Old))
	case "permissive":
		kind := func(v string) string { return validity(v, "PERMISSIVE", "RESTRICTIVE") }
		return fmt.Sprintf("%s is %s %s, was %s", s, kind(pc.New), when, kind(pc.Old))
	case "access method":
		// Empty: heap (or none, for a partitioned table).
		return fmt.Sprintf("%s's access method is %s %s, was %s", s, or(pc.New, "heap"), when, or(pc.Old, "heap"))
	case extensionsProperty:
		// A list of extensions: "hstore", "hstore, pg_trgm".
		ext := func(v string) string {
			if strings.Contains(v, ", ") {
				return "extensions " + v
			}
			return "extension " + v
		}
		switch {
		case pc.Old == "":
			return fmt.Sprintf("%s depends on %s %s, not before", s, ext(pc.New), when)
		case pc.New == "":
			return fmt.Sprintf("%s no longer depends on %s %s", s, ext(pc.Old), when)
		}
		return fmt.Sprintf("%s depends on %s %s, was on %s", s, ext(pc.New), when, ext(pc.Old))
	case "tablespace":
		// Empty: the database's default.
		return fmt.Sprintf("%s is in tablespace %s %s, was %s", s, or(pc.New, "pg_default"), when, or(pc.Old, "pg_default"))
	case "replica identity":
		const dflt = "default (primary key)"
		return fmt.Sprintf("%s has replica identity %s %s, was %s", s, or(pc.New, dflt), when, or(pc.Old, dflt))
	case "compression", "storage", "statistics target":
		// Empty: the column follows its type's (or the server's) default.
		return fmt.Sprintf("%s has %s %s %s, was %s", s, pc.Property, or(pc.New, "default"), when, or(pc.Old, "default"))
	case "position":
		// A column's rank among its table's columns.
		return fmt.Sprintf("%s is column %s %s, was column %s", s, pc.New, when, pc.Old)
	case "publish":
		return fmt.Sprintf("%s publishes %s %s, was %s", s, or(pc.New, "no operation"), when, or(pc.Old, "no operation"))
	case "all tables":
		forAll := func(v string) string { return validity(v, "FOR ALL TABLES", "not FOR ALL TABLES") }
		return fmt.Sprintf("%s is %s %s, was %s", s, forAll(pc.New), when, forAll(pc.Old))
	case "row security", "forced row security", "publish_via_partition_root":
		onOff := func(v string) string { return map[bool]string{true: "on", false: "off"}[v == "true"] }
		return fmt.Sprintf("%s has %s %s %s, was %s", s, pc.Property, onOff(pc.New), when, onOff(pc.Old))
	case "comment":
		return fmt.Sprintf("%s has comment %s %s, was %s", s, quotedComment(pc.New), when, quotedComment(pc.Old))
	case "identity sequence name":
		return fmt.Sprintf("%s has its identity sequence named %s %s, was %s", s, pc.New, when, pc.Old)
	case "identity sequence privileges":
		// Empty: the owner's, as GENERATED ... AS IDENTITY leaves them.
		const dflt = "the owner's only"
		return fmt.Sprintf("%s has identity sequence privileges %s %s, was %s", s, or(pc.New, dflt), when, or(pc.Old, dflt))
	case "identity sequence comment":
		return fmt.Sprintf("%s has identity sequence comment %s %s, was %s", s, quotedComment(pc.New), when, quotedComment(pc.Old))
	case "internal triggers":
		list := func(v string) string {
			if v == "" {
				return "none"
			}
			return "(" + v + ")"
		}
		return fmt.Sprintf("%s has internal or cloned triggers not enabled %s: %s, was %s", s, when, list(pc.New), list(pc.Old))
	}
	if strings.HasPrefix(pc.Property, "comment on ") {
		// The comment on a part of the object (a composite type's attribute, a domain's constraint).
		return fmt.Sprintf("%s has %s %s %s, was %s", s, pc.Property, quotedComment(pc.New), when, quotedComment(pc.Old))
	}
	if m, ok := strings.CutPrefix(pc.Property, extensionMemberProperty); ok && c.Kind == KindExtension {
		// The member is the subject: "function public.f(integer) is no longer a member of extension hstore
		// after the down".
		if pc.New == "" {
			return fmt.Sprintf("%s is no longer a member of extension %s %s", m, c.Name, when)
		}
		return fmt.Sprintf("%s is a member of extension %s %s, not before", m, c.Name, when)
	}
	if c.Kind == KindPublication {
		if t, ok := strings.CutPrefix(pc.Property, publishedTableProperty); ok {
			switch {
			case pc.New == "":
				return fmt.Sprintf("%s no longer publishes table %s %s", s, display(t), when)
			case pc.Old == "":
				return fmt.Sprintf("%s publishes %s of table %s %s, did not before", s, pc.New, display(t), when)
			}
			return fmt.Sprintf("%s publishes %s of table %s %s, was %s", s, pc.New, display(t), when, pc.Old)
		}
		if n, ok := strings.CutPrefix(pc.Property, publishedSchemaProperty); ok {
			if pc.New == "" {
				return fmt.Sprintf("%s no longer publishes the tables in schema %s %s", s, n, when)
			}
			return fmt.Sprintf("%s publishes the tables in schema %s %s, did not before", s, n, when)
		}
	}
	if slot, ok := strings.CutPrefix(pc.Property, memberProperty); ok {
		// A member of an operator family or class.
		switch {
		case pc.New == "":
			return fmt.Sprintf("%s no longer has %s %s %s", s, slot, pc.Old, when)
		case pc.Old == "":
			return fmt.Sprintf("%s has %s %s %s, did not before", s, slot, pc.New, when)
		}
		return fmt.Sprintf("%s has %s %s %s, was %s", s, slot, pc.New, when, pc.Old)
	}
	if pc.Property == "default" && c.Kind == KindConversion {
		isDefault := func(v string) string {
			return validity(v, "the default for its encodings", "not the default for its encodings")
		}
		return fmt.Sprintf("%s is %s %s, was %s", s, isDefault(pc.New), when, isDefault(pc.Old))
	}
	if pc.Property == "trusted" && c.Kind == KindLanguage {
		trusted := func(v string) string { return validity(v, "TRUSTED", "not TRUSTED") }
		return fmt.Sprintf("%s is %s %s, was %s", s, trusted(pc.New), when, trusted(pc.Old))
	}
	if pc.Property == "default" && c.Kind == KindOpClass {
		isDefault := func(v string) string { return validity(v, "the default for its type", "not the default for its type") }
		return fmt.Sprintf("%s is %s %s, was %s", s, isDefault(pc.New), when, isDefault(pc.Old))
	}
	if tok, ok := strings.CutPrefix(pc.Property, mappingProperty); ok {
		// A text search configuration's mapping of one token type.
		return fmt.Sprintf("%s maps %s to %s %s, was %s", s, tok, or(pc.New, "nothing"), when, or(pc.Old, "nothing"))
	}
	if strings.Contains(pc.Old, "\n") || strings.Contains(pc.New, "\n") {
		// Bodies and view definitions: the region that differs, from its first line to its last.
		was, is := differingRegion(pc.Old, pc.New)
		if was == is {
			return fmt.Sprintf("%s has its %s changed in white space only %s: %s", s, pc.Property, when, whiteSpaceDifference(pc.Old, pc.New))
		}
		return fmt.Sprintf("%s has its %s changed %s: %s, was %s", s, pc.Property, when, is, was)
	}
	if pc.Property == "definition" && pc.Old != "" && pc.New != "" && len(pc.Old)+len(pc.New) > 120 {
		// A long one-line definition (an aggregate's): the words that differ, with two before them.
		was, is := differingWords(pc.Old, pc.New)
		if was == is {
			return fmt.Sprintf("%s has its %s changed in white space only %s: %s", s, pc.Property, when, whiteSpaceDifference(pc.Old, pc.New))
		}
		return fmt.Sprintf("%s has its %s changed %s: %s, was %s", s, pc.Property, when, is, was)
	}
	return fmt.Sprintf("%s has %s %s %s, was %s", s, pc.Property, value(pc.New), when, value(pc.Old))
}

// quotedComment is a comment as the sentences quote it, cut to a readable length; "none" when empty.
func quotedComment(v string) string {
	if v == "" {
		return "none"
	}
	if r := []rune(v); len(r) > 100 {
		return strconv.Quote(string(r[:100])) + "…"
	}
	return strconv.Quote(v)
}

// or is v, or what stands for it when it is empty.
func or(v, empty string) string {
	if v == "" {
		return empty
	}
	return v
}

func orNothing(v string) string {
	if v == "" {
		return "nothing"
	}
	return display(v)
}

// differingRegion is the part of two multi-line texts that differs: the lines from the first that
// differs to the last, the lines both start and end with left out (one line of what precedes is kept
// when a side would be empty), each side on one line with its white space collapsed, quoted and cut
// to a readable length.
func differingRegion(old, new string) (string, string) {
	ol, nl := strings.Split(old, "\n"), strings.Split(new, "\n")
	i := 0
	for i < len(ol) && i < len(nl) && strings.TrimSpace(ol[i]) == strings.TrimSpace(nl[i]) {
		i++
	}
	j := 0
	for j < len(ol)-i && j < len(nl)-i && strings.TrimSpace(ol[len(ol)-1-j]) == strings.TrimSpace(nl[len(nl)-1-j]) {
		j++
	}
	if (i == len(ol)-j || i == len(nl)-j) && i > 0 {
		i--
	}
	return region(ol[i : len(ol)-j]), region(nl[i : len(nl)-j])
}

// differingWords is differingRegion for one-line texts, word by word, with up to two words of what
// precedes the difference ("…" marks what is left out).
func differingWords(old, new string) (string, string) {
	ow, nw := strings.Fields(old), strings.Fields(new)
	i := 0
	for i < len(ow) && i < len(nw) && ow[i] == nw[i] {
		i++
	}
	j := 0
	for j < len(ow)-i && j < len(nw)-i && ow[len(ow)-1-j] == nw[len(nw)-1-j] {
		j++
	}
	from := max(i-2, 0)
	quote := func(ws []string, end int) string {
		r := strings.Join(ws[from:end], " ")
		if from > 0 {
			r = "… " + r
		}
		if end < len(ws) {
			r += " …"
		}
		return region([]string{r})
	}
	return quote(ow, len(ow)-j), quote(nw, len(nw)-j)
}

// whiteSpaceDifference shows where two texts that differ only in white space part: the first line
// that differs, on each side, with its white space written out ("line 3 is \"    SELECT 1;\", was
// \"  SELECT 1;\""), after the line counts when they differ (blank lines, or a line broken in two).
func whiteSpaceDifference(old, new string) string {
	ol, nl := strings.Split(old, "\n"), strings.Split(new, "\n")
	counts := ""
	if len(ol) != len(nl) {
		counts = fmt.Sprintf("%d lines, was %d; ", len(nl), len(ol))
	}
	for i := 0; i < len(ol) && i < len(nl); i++ {
		if ol[i] != nl[i] {
			return fmt.Sprintf("%sline %d is %s, was %s", counts, i+1, visible(nl[i]), visible(ol[i]))
		}
	}
	return strings.TrimSuffix(counts, "; ")
}

// visible quotes a line with its white space written out, cut to a readable length.
func visible(line string) string {
	if r := []rune(line); len(r) > 100 {
		return strconv.Quote(string(r[:100])) + "…"
	}
	return strconv.Quote(line)
}

func region(lines []string) string {
	if len(lines) == 0 {
		return "nothing"
	}
	r := strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	if n := 160; len(r) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(r[cut]) {
			cut--
		}
		r = r[:cut] + "…"
	}
	return fmt.Sprintf("%q", r)
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
