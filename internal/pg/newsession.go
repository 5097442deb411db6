package pg

import (
	"regexp"

	"github.com/schemagate/schemagate/internal/migrate"
)

// ChangesNewSessions tells whether s may change the settings a new session starts with (the per-role and
// per-database ones of pg_db_role_setting): ALTER ROLE or USER … SET or RESET, ALTER DATABASE … SET or
// RESET, or a DO block or function body whose text mentions one (EXECUTE format('ALTER DATABASE %I SET
// …', current_database())). ResetSession cannot give a session those: RESET ALL goes back to what the
// session started with, so a later script on the same connection runs under the old search path where
// psql, sqitch or the next deploy, in a session of its own, runs under the new one. A caller that keeps
// one connection opens a new one after such a script. It reads only the parse trees, and the text of
// code bodies, so it costs nothing measurable on scripts that do neither. A function that does it, made
// in one script and called in another, is seen where it is made.
func ChangesNewSessions(s *migrate.Script) bool {
	if s == nil {
		return false
	}
	for i := range s.Statements {
		n := s.Statements[i].Node
		switch {
		case n == nil:
		case n.GetAlterRoleSetStmt() != nil, n.GetAlterDatabaseSetStmt() != nil:
			return true
		case n.GetDoStmt() != nil, n.GetCreateFunctionStmt() != nil:
			if sessionDefaultsText.MatchString(s.Statements[i].SQL) {
				return true
			}
		}
	}
	return false
}

// sessionDefaultsText finds, in code the server runs from text, an ALTER ROLE, USER or DATABASE followed
// by SET or RESET in the same statement, the words possibly split by string concatenation.
var sessionDefaultsText = regexp.MustCompile(`(?is)\balter\b[\s'"|+,()]*\b(role|user|database)\b[^;]*?\b(re)?set\b`)
