package pg

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/schema"
)

// Unseen changes: what a script may change in the catalog that an incremental read's probe cannot see,
// so that the read after it must be whole (see Inspector.Since's force).

// catalogDML matches statements that write system catalogs directly (UPDATE pg_attribute ...), also
// inside DO blocks and function bodies: rows they delete leave no lock behind.
var catalogDML = regexp.MustCompile(`(?is)\b(insert\s+into|update|delete\s+from|merge\s+into|truncate)\s+(only\s+)?("?pg_catalog"?\s*\.\s*)?"?pg_[a-z_]+`)

// columnGrant matches GRANT and REVOKE of column privileges (GRANT SELECT (a, b), UPDATE (c) ON t ...),
// also inside DO blocks: they rewrite pg_attribute rows and take no lock on the table.
var columnGrant = regexp.MustCompile(`(?is)\b(grant|revoke)\s+(grant\s+option\s+for\s+)?((select|insert|update|references|all(\s+privileges)?)\s*(\([^)]*\))?\s*,\s*)*(select|insert|update|references|all(\s+privileges)?)\s*\(`)

// sqlComment matches SQL comments (not nested ones; text in string literals that looks like a comment
// is taken out too, which can only make UnseenChanges say yes more often).
var sqlComment = regexp.MustCompile(`(?s)--[^\n]*|/\*.*?\*/`)

// dynamicGrant matches GRANT or REVOKE that dynamic SQL may assemble (EXECUTE 'GRANT SELECT ' ||
// '(a) ON t ...' in a DO block or function): what it grants cannot be read from the text.
// (GRANT EXECUTE ON FUNCTION is no dynamic SQL: EXECUTE is followed by ON there.)
var dynamicGrant = regexp.MustCompile(`(?is)\b(grant|revoke)\b.*` + dynamicExecute + `|` + dynamicExecute + `.*\b(grant|revoke)\b`)

const dynamicExecute = `\bexecute\s+('|\$|e'|format\s*\(|\(|[a-z_][a-z0-9_.]*\s*(;|\|\||\busing\b|\binto\b))`

// rolePassword matches CREATE or ALTER ROLE (USER, GROUP) with a PASSWORD, also inside DO blocks and
// function bodies: whether a role has a password changes only its pg_authid row, which the probe's
// roles fingerprint leaves out (see state.Roles).
var rolePassword = regexp.MustCompile(`(?is)\b(alter|create)\s+(role|user|group)\b[^;]*\bpassword\b`)

// unseenWords matches REASSIGN OWNED, which changes owners without an event trigger seeing it (see
// changeLog); dblink, whose DDL runs in a session of its own, which logs it in its own log and commits
// it on its own; and a script that names the change log's setting or functions (it could rewrite the
// log) or the setting that turns event triggers off (event_triggers, PostgreSQL 17).
var unseenWords = regexp.MustCompile(`(?i)\breassign\s+owned\b|\bdblink(_exec)?\s*\(|schemagate[._](ddl|log_|reset)|\bevent_triggers\b`)

// UnseenChanges tells whether sql may change the catalog in ways an incremental read cannot see:
// direct writes to system catalogs and column privileges, also behind comments (GRANT /* why */
// SELECT (a) ...) or in dynamic SQL, REASSIGN OWNED, and DDL through dblink. The catalog is then read
// whole after it (Since's force). So does a role's password set or taken away, dynamic SQL whose
// statements are not in the text at all (EXECUTE q, EXECUTE format('%s', ...): see dynamicSQL), which
// may be any of these, and SQL built as it runs by a text that has a string literal naming a system
// catalog (EXECUTE 'UPDATE ' || 'pg_attribute SET ...', EXECUTE format('DELETE FROM %s ...',
// 'pg_description')): the statement it builds may write that catalog, which catalogDML cannot tell from
// the pieces. DDL built so (EXECUTE format('CREATE INDEX ...')) takes locks, which the probe sees: it
// stays incremental.
func UnseenChanges(sql string) bool {
	if unseenWords.MatchString(sql) || rolePassword.MatchString(sql) {
		return true
	}
	sql = sqlComment.ReplaceAllString(sql, " ")
	if catalogDML.MatchString(sql) || columnGrant.MatchString(sql) || dynamicGrant.MatchString(sql) {
		return true
	}
	built, opaque := dynamicSQL(sql)
	return opaque || built && literalNamesCatalog(sql)
}

// systemCatalog matches the name of a system catalog (pg_attribute, pg_catalog.pg_description), or
// the piece of one a built statement completes ('pg_' || name, 'pg_catalog.' || name), in the content
// of a string literal.
var systemCatalog = regexp.MustCompile(`(?i)(?:^|[^\pL\pN_$])pg_(?:catalog\s*\.|catalog\s*$|$|` +
	`aggregate|am|amop|amproc|attrdef|attribute|auth_members|authid|cast|class|collation|constraint|conversion|` +
	`database|db_role_setting|default_acl|depend|description|enum|event_trigger|extension|foreign_data_wrapper|` +
	`foreign_server|foreign_table|index|inherits|init_privs|language|largeobject|largeobject_metadata|namespace|` +
	`opclass|operator|opfamily|parameter_acl|partitioned_table|policy|proc|publication|publication_namespace|` +
	`publication_rel|range|replication_origin|rewrite|seclabel|sequence|shdepend|shdescription|shseclabel|` +
	`statistic|statistic_ext|statistic_ext_data|subscription|subscription_rel|tablespace|transform|trigger|` +
	`ts_config|ts_config_map|ts_dict|ts_parser|ts_template|type|user_mapping)(?:$|[^\pL\pN_$])`)

// literalNamesCatalog tells whether a single-quoted string literal of sql ('...', E'...'), also one in
// a dollar-quoted body (a DO block's, a function's), names a system catalog (see systemCatalog). Names
// outside such literals (SELECT relname FROM pg_class, in a loop that builds DDL) are no statement's
// pieces; a body quoted with single quotes is one literal, which costs a whole read, no more.
func literalNamesCatalog(sql string) bool {
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		if c != '\'' && !((c == 'e' || c == 'E') && i+1 < len(sql) && sql[i+1] == '\'' && (i == 0 || notWordRune(rune(sql[i-1])))) {
			continue
		}
		content, after, _ := sqlLiteral(sql[i:])
		if systemCatalog.MatchString(content) {
			return true
		}
		i += after - 1
	}
	return false
}

// executeWord finds where dynamic SQL may start (see dynamicSQL).
var executeWord = regexp.MustCompile(`(?i)\bexecute\s+`)

// dynamicSQL tells what the text after each EXECUTE of sql (without comments) runs. built: a statement
// assembled at run time, whose start the text shows (EXECUTE 'SELECT ' || f || '()', EXECUTE
// format('SELECT %I()', f)) and which may call any function by a name the text does not show. opaque:
// a statement the text does not show at all (EXECUTE q, EXECUTE r.stmt USING ..., EXECUTE (SELECT
// ...), EXECUTE format(q, ...), EXECUTE format('%s', ...)), which may do anything. A string literal
// alone is neither: its text is in sql, names and all. EXECUTE FUNCTION, PROCEDURE and ON are no
// dynamic SQL. The EXECUTE of a prepared statement (EXECUTE plan; EXECUTE plan(1)) looks like it and
// is taken for it, which costs a whole read, no more.
func dynamicSQL(sql string) (built, opaque bool) {
	for _, loc := range executeWord.FindAllStringIndex(sql, -1) {
		rest := sql[loc[1]:]
		if _, after, ok := sqlLiteral(rest); ok {
			if strings.HasPrefix(strings.TrimLeft(rest[after:], " \t\r\n"), "||") {
				built = true
			}
			continue
		}
		if strings.HasPrefix(rest, "(") || (strings.HasPrefix(rest, "$") && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9') {
			return built, true // an expression or a parameter: EXECUTE (SELECT ...), EXECUTE $1
		}
		name := identifierAt(rest)
		if name == "" {
			continue
		}
		next := strings.TrimLeft(rest[len(name):], " \t\r\n")
		if strings.HasPrefix(next, "(") { // a function builds it: format(...), concat(...)
			arg := strings.TrimLeft(next[1:], " \t\r\n")
			content, _, ok := sqlLiteral(arg)
			if !ok || strings.HasPrefix(strings.TrimLeft(content, " \t\r\n"), "%") {
				return built, true
			}
			built = true
			continue
		}
		lower := strings.ToLower(next)
		if next == "" || strings.HasPrefix(next, ";") || strings.HasPrefix(next, "||") || strings.HasPrefix(next, "::") ||
			wordAt(lower, "using") || wordAt(lower, "into") {
			return built, true // a variable: its statement is set elsewhere, if anywhere in the text
		}
	}
	return built, false
}

// sqlLiteral reads the string literal s starts with ('...', E'...', $tag$...$tag$), returning its
// content and where it ends; ok is false when s starts with none.
func sqlLiteral(s string) (content string, after int, ok bool) {
	switch {
	case strings.HasPrefix(s, "'"):
		for i := 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				return s[1:i], i + 1, true
			}
		}
		return s[1:], len(s), true
	case len(s) > 1 && (s[0] == 'e' || s[0] == 'E') && s[1] == '\'':
		for i := 2; i < len(s); i++ {
			switch {
			case s[i] == '\\':
				i++
			case s[i] == '\'' && i+1 < len(s) && s[i+1] == '\'':
				i++
			case s[i] == '\'':
				return s[2:i], i + 1, true
			}
		}
		return s[2:], len(s), true
	case strings.HasPrefix(s, "$"):
		end := strings.IndexByte(s[1:], '$')
		if end < 0 {
			return "", 0, false
		}
		tag := s[:end+2]
		if strings.IndexFunc(tag[1:len(tag)-1], notWordRune) >= 0 || (len(tag) > 2 && tag[1] >= '0' && tag[1] <= '9') {
			return "", 0, false
		}
		body := s[len(tag):]
		if close := strings.Index(body, tag); close >= 0 {
			return body[:close], len(tag) + close + len(tag), true
		}
		return body, len(s), true
	}
	return "", 0, false
}

// identifierAt returns the unquoted, possibly qualified, identifier s starts with (r.stmt, format).
func identifierAt(s string) string {
	for i, r := range s {
		if (notWordRune(r) && r != '.') || (i == 0 && (r == '$' || unicode.IsNumber(r) || r == '.')) {
			return s[:i]
		}
	}
	return s
}

// wordAt tells whether s starts with the word w.
func wordAt(s, w string) bool {
	if !strings.HasPrefix(s, w) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[len(w):])
	return len(s) == len(w) || notWordRune(r)
}

// CallsUnseen tells whether sql may run the code of a function that changes the catalog in ways an
// incremental read cannot see (one whose definition UnseenChanges matches: grant_col() running GRANT
// UPDATE (a) through EXECUTE format(...)) when run on the database before marks: the script's own text
// shows nothing then. A script may run such a function when it names it (as a word, in any case; a
// name that only looks like it costs a whole read, no more), and whenever the function is a trigger or
// event trigger function, which may fire on anything the script does.
//
// Calls are followed from function to function (see reachUnseen): SELECT wrapper() runs grant_col() as
// surely as SELECT grant_col() does when wrapper's body names grant_col, whether it does so by
// PERFORM, CALL, SELECT, in SQL or PL/pgSQL, qualified by a schema or not; and a trigger function that
// names it may fire on anything too. A name stands for all its overloads, in every schema. A function
// the script itself creates is in its text, so the names its body calls are found there. SQL built as
// it runs (EXECUTE format('SELECT %I()', f), see dynamicSQL) may call any function: a function or a
// script (a DO block) that builds some counts as calling every function while one of them may change
// what the probe cannot see. A function whose statements are not in its text at all (EXECUTE q) may do
// anything, and is one of those itself (see UnseenChanges).
//
// What is found in each definition is kept: the round trip asks after every step, and a long history's
// catalog holds the same definitions step after step. An Inspector is not for concurrent use.
func (in *Inspector) CallsUnseen(sql string, before *Mark) bool {
	if before == nil {
		return false // the read after it is whole anyway
	}
	reach := in.reachUnseen(before.raw.Functions)
	if len(reach) == 0 {
		return false
	}
	for _, f := range reach {
		if f.Result == "trigger" || f.Result == "event_trigger" {
			return true
		}
	}
	// SQL the script builds as it runs may call any of them by a name its text does not show.
	if built, _ := dynamicSQL(sqlComment.ReplaceAllString(sql, " ")); built {
		return true
	}
	seen := make(map[string]bool, len(reach))
	for _, f := range reach {
		if !seen[f.Name] {
			seen[f.Name] = true
			if in.namePattern(f.Name).MatchString(sql) {
				return true
			}
		}
	}
	return false
}

// builtInWords matches the statements that may write rows of built-in objects (see TouchesBuiltIns):
// GRANT and REVOKE; DROP OWNED, which revokes what a role was granted on them; and ALTER ... OWNER TO,
// RENAME TO and SET SCHEMA, as an ACL names its object's owner and deparsed text quotes names.
var builtInWords = regexp.MustCompile(`(?i)\b(grant|revoke|owned|owner|rename)\b|\bset\s+schema\b`)

// TouchesBuiltIns tells whether sql may write the catalog rows of built-in objects (OIDs below 16384:
// pg_catalog's and information_schema's relations, columns, functions and types, the built-in
// languages), whose privileges whole reads compare and which the probe finds by a pass over the
// built-in rows of four catalogs: a third of its cost, which a script that does none of this need not
// pay (see Ran). It matches the text, comments and string literals too (a comment that names GRANT
// costs a pass, no more), the text without its comments (SET /* why */ SCHEMA), and SQL built as it
// runs (EXECUTE 'GR' || 'ANT ...'), whose words the text may not show; SQL the text does not show at
// all (EXECUTE q) has the read be whole anyway (see UnseenChanges). A direct write to a catalog
// (UPDATE pg_proc ...) is one of those too.
func TouchesBuiltIns(sql string) bool {
	if builtInWords.MatchString(sql) {
		return true
	}
	code := sqlComment.ReplaceAllString(sql, " ")
	if builtInWords.MatchString(code) {
		return true
	}
	built, opaque := dynamicSQL(code)
	return built || opaque
}

// CallsBuiltIns tells whether a script run on the database before marks may run a function of its
// catalog that may write rows of built-in objects: one whose definition TouchesBuiltIns or
// UnseenChanges matches (a function that calls one has one in the catalog). Unlike CallsUnseen it does
// not ask whether the script names the function, or whether it is a trigger's, so it takes no script:
// any script may run any function of the database, from a view, a column's or a domain's default, a
// CHECK constraint, a generated column, a rule, an operator, a cast or an index expression its
// statements reach, or by a name it builds as it runs (query_to_xml('SELECT f' || '()', ...)), and the
// pass it asks for costs a fraction of a millisecond, where a whole read costs tens. So the probe looks
// after every script while the database has such a function, and skips its pass only where it has
// none, which is most databases.
func (in *Inspector) CallsBuiltIns(before *Mark) bool {
	if before == nil {
		return false
	}
	for _, f := range before.raw.Functions {
		if r := in.routine(f.Definition); r.unseen || r.builtIns {
			return true
		}
	}
	return false
}

// Ran is what an incremental read is told about the SQL that ran since its mark (see Inspector.Since).
// The zero value says it did nothing the probe does not look for by default.
type Ran struct {
	// Unseen says it may have changed the catalog in ways no probe can see (see UnseenChanges and
	// Inspector.CallsUnseen): the read is whole.
	Unseen bool
	// BuiltIns says it may have written rows of built-in objects (see TouchesBuiltIns and
	// Inspector.CallsBuiltIns): the probe looks for them.
	BuiltIns bool
}

// Ran tells what sql, run on the database before marks, may have done that the probe needs to know
// (see Ran): by its own text, or through the functions of before's catalog it may run.
func (in *Inspector) Ran(sql string, before *Mark) Ran {
	return Ran{Unseen: UnseenChanges(sql) || in.CallsUnseen(sql, before), BuiltIns: TouchesBuiltIns(sql) || in.CallsBuiltIns(before)}
}

// routine is what CallsUnseen and CallsBuiltIns find in a function's definition: whether its own text
// changes what the probe cannot see (UnseenChanges) or may write rows of built-in objects
// (TouchesBuiltIns), whether it builds SQL as it runs (see dynamicSQL), which may call any function, and
// the words it is made of, among which the names of the functions it calls (left nil until asked for:
// most catalogs have no function to follow calls to).
type routine struct {
	unseen, builtIns, dynamic bool
	words                     map[string]bool
}

// routine returns what is found in def, kept.
func (in *Inspector) routine(def string) *routine {
	r, ok := in.routines[def]
	if !ok {
		if in.routines == nil {
			in.routines = map[string]*routine{}
		}
		r = &routine{unseen: UnseenChanges(def), builtIns: TouchesBuiltIns(def)}
		if !r.unseen {
			r.dynamic, _ = dynamicSQL(sqlComment.ReplaceAllString(def, " "))
		}
		in.routines[def] = r
	}
	return r
}

// mentions tells whether def, whose routine is r, names one of names (lower-case words, see namePattern)
// or of others (names with characters an unquoted identifier has not, "x-y", looked for with their
// patterns).
func (in *Inspector) mentions(def string, r *routine, names map[string]bool, others []string) bool {
	if r.words == nil {
		r.words = map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(def), notWordRune) {
			r.words[w] = true
		}
	}
	small, large := names, r.words // look the fewer words up in the more
	if len(small) > len(large) {
		small, large = large, small
	}
	for w := range small {
		if large[w] {
			return true
		}
	}
	for _, name := range others {
		if in.namePattern(name).MatchString(def) {
			return true
		}
	}
	return false
}

// notWordRune tells the runes that end a word of namePattern.
func notWordRune(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '_' && r != '$'
}

// reachUnseen returns the functions of funcs that may change what the probe cannot see when they run:
// those whose definition does itself, then those whose definition names one of those or builds SQL as
// it runs (which may name any), and so on until a round adds none. Each round adds a function or ends
// the search, so it ends within as many rounds as there are functions, however the functions call each
// other (recursion, cycles); a round asks only about the names the round before added, as a function
// that named none of the older ones still does not. Without a function of the first kind, which is most
// catalogs, it costs a look-up per function.
func (in *Inspector) reachUnseen(funcs map[string]*schema.Function) []*schema.Function {
	// Marks share the functions that did not change (see merge), and a round trip asks about the same
	// ones step after step: comparing them by their keys and pointers costs less than finding their
	// definitions again.
	if len(funcs) == len(in.lastFuncs) && in.lastFuncs != nil {
		same := true
		for k, f := range funcs {
			if in.lastFuncs[k] != f {
				same = false
				break
			}
		}
		if same {
			return in.lastReach
		}
	}
	reach := in.reach(funcs)
	in.lastFuncs, in.lastReach = funcs, reach
	return reach
}

// reach is reachUnseen without its memory.
func (in *Inspector) reach(funcs map[string]*schema.Function) []*schema.Function {
	var reach []*schema.Function
	for _, f := range funcs {
		if in.routine(f.Definition).unseen {
			reach = append(reach, f)
		}
	}
	if len(reach) == 0 {
		return nil
	}
	rest := make([]*schema.Function, 0, len(funcs)-len(reach))
	for _, f := range funcs {
		if !in.routine(f.Definition).unseen {
			rest = append(rest, f)
		}
	}
	added, known := reach, map[string]bool{}
	for len(added) > 0 && len(rest) > 0 {
		names, others := map[string]bool{}, []string(nil)
		for _, f := range added {
			name := strings.ToLower(f.Name)
			if known[name] {
				continue
			}
			known[name] = true
			if strings.IndexFunc(name, notWordRune) >= 0 || name == "" {
				others = append(others, f.Name)
			} else {
				names[name] = true
			}
		}
		added = nil
		kept := rest[:0]
		for _, f := range rest {
			r := in.routine(f.Definition)
			if r.dynamic || (len(names) > 0 || len(others) > 0) && in.mentions(f.Definition, r, names, others) {
				added = append(added, f)
			} else {
				kept = append(kept, f)
			}
		}
		reach, rest = append(reach, added...), kept
	}
	return reach
}

// namePattern matches name as a word, in any case, with or without quotes around it. Word characters
// are those of an unquoted identifier: grant_col is not named by grant_columns() nor by x$grant_col.
func (in *Inspector) namePattern(name string) *regexp.Regexp {
	re, ok := in.names[name]
	if !ok {
		if in.names == nil {
			in.names = map[string]*regexp.Regexp{}
		}
		re = regexp.MustCompile(`(?i)(?:^|[^\pL\pN_$])` + regexp.QuoteMeta(name) + `(?:$|[^\pL\pN_$])`)
		in.names[name] = re
	}
	return re
}
