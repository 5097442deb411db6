package pg

import "regexp"

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
// whole after it (Since's force). So does a role's password set or taken away.
func UnseenChanges(sql string) bool {
	if unseenWords.MatchString(sql) || rolePassword.MatchString(sql) {
		return true
	}
	sql = sqlComment.ReplaceAllString(sql, " ")
	return catalogDML.MatchString(sql) || columnGrant.MatchString(sql) || dynamicGrant.MatchString(sql)
}

// CallsUnseen tells whether sql may run the code of a function that changes the catalog in ways an
// incremental read cannot see (one whose definition UnseenChanges matches: grant_col() running GRANT
// UPDATE (a) through EXECUTE format(...)) when run on the database before marks: the script's own text
// shows nothing then. A script may run such a function when it names it (as a word, in any case; a
// name that only looks like it costs a whole read, no more), and whenever the function is a trigger or
// event trigger function, which may fire on anything the script does. A function that calls one of
// those through a name of its own is not followed.
//
// The answers for each definition are kept: the round trip asks after every step, and a long history's
// catalog holds the same definitions step after step. An Inspector is not for concurrent use.
func (in *Inspector) CallsUnseen(sql string, before *Mark) bool {
	if before == nil {
		return false // the read after it is whole anyway
	}
	for _, f := range before.raw.Functions {
		if !in.unseenDefinition(f.Definition) {
			continue
		}
		if f.Result == "trigger" || f.Result == "event_trigger" || in.namePattern(f.Name).MatchString(sql) {
			return true
		}
	}
	return false
}

// unseenDefinition is UnseenChanges(def), kept.
func (in *Inspector) unseenDefinition(def string) bool {
	w, ok := in.unseenDefs[def]
	if !ok {
		if in.unseenDefs == nil {
			in.unseenDefs = map[string]bool{}
		}
		w = UnseenChanges(def)
		in.unseenDefs[def] = w
	}
	return w
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
