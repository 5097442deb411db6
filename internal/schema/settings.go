package schema

import "strings"

// SettingSQL is "name TO value" for a setting of a role or database as pg_db_role_setting.setconfig
// keeps it ("name=value", cut at the first =), for ALTER ROLE or DATABASE … SET: the rehearsal puts a
// database's settings on its copy with it, and a generated down a role's back. The value is stored as
// SHOW prints it: a list whose elements are identifiers (search_path = app, "my app") comes back a list
// only when each element is its own literal ('app', 'my app'; one literal 'app, public' would be a
// single schema of that name), as pg_dump's makeAlterConfigCommand writes it; any other value is one
// literal.
func SettingSQL(name, value string) string {
	if !listQuoted[strings.ToLower(name)] {
		return Ident(name) + " TO " + settingLiteral(value)
	}
	elems := splitGUCList(value)
	lits := make([]string, len(elems))
	for i, e := range elems {
		lits[i] = settingLiteral(e)
	}
	return Ident(name) + " TO " + strings.Join(lits, ", ")
}

// listQuoted are the settings whose values PostgreSQL stores as a list of quoted identifiers
// (GUC_LIST_QUOTE), as pg_dump's variable_is_guc_list_quote names them.
var listQuoted = map[string]bool{
	"local_preload_libraries": true, "search_path": true, "session_preload_libraries": true,
	"shared_preload_libraries": true, "temp_tablespaces": true, "unix_socket_directories": true,
}

// splitGUCList splits a list setting's stored value into its elements as PostgreSQL's SplitGUCList
// does: separated by commas, each either bare (up to the comma or white space) or in double quotes,
// where "" stands for one.
func splitGUCList(s string) []string {
	var out []string
	i := 0
	skipSpace := func() {
		for i < len(s) && strings.ContainsRune(" \t\n\r\f\v", rune(s[i])) {
			i++
		}
	}
	skipSpace()
	if i == len(s) {
		return nil
	}
	for {
		var b strings.Builder
		if s[i] == '"' {
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						i++
					} else {
						i++
						break
					}
				}
				b.WriteByte(s[i])
			}
		} else {
			for ; i < len(s) && s[i] != ',' && !strings.ContainsRune(" \t\n\r\f\v", rune(s[i])); i++ {
				b.WriteByte(s[i])
			}
		}
		out = append(out, b.String())
		skipSpace()
		if i >= len(s) || s[i] != ',' {
			return out
		}
		i++
		skipSpace()
	}
}

// settingLiteral quotes s as a string constant, as quote_literal does: E'…' when it holds a backslash,
// so that it reads the same whatever standard_conforming_strings says.
func settingLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}
