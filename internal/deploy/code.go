package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// codeVerb finds, in code the server runs from text (a DO block, a function's body), the words that
// start a statement destroying data, with the word after them: they may be apart, quoted and
// concatenated, as code that builds statements for EXECUTE writes them ('DROP ' || 'COLUMN ').
var codeVerb = regexp.MustCompile(`(?is)\b(drop|truncate|delete|update|setval|restart)\b([\s'"|+,()]*)(\w*)`)

// alterTable is ALTER TABLE written in code, as codeVerb reads words; alterSequence ALTER TABLE or ALTER
// SEQUENCE, whose RESTART sets a sequence's position.
var (
	alterTable    = regexp.MustCompile(`(?is)\balter\b[\s'"|+,()]*\btable\b`)
	alterSequence = regexp.MustCompile(`(?is)\balter\b[\s'"|+,()]*\b(table|sequence)\b`)
)

// keptByAlterDrop are the words after DROP in an ALTER TABLE that drop no column (DROP IDENTITY drops
// the column's sequence, and with it its position).
var keptByAlterDrop = []string{"constraint", "default", "not", "expression"}

// destroyingCode tells what in text (code run from text) destroys data as the statements upLosesData
// counts do: DROP TABLE, DROP SCHEMA, DROP OWNED, a dropped column (ALTER TABLE ... DROP [COLUMN]),
// TRUNCATE, DELETE FROM, UPDATE ... SET, and what sets a sequence's position or loses it (setval, an
// ALTER SEQUENCE's or ALTER TABLE's RESTART, DROP SEQUENCE, DROP IDENTITY: see seqpos.go). "" when it
// holds none. It errs on the side of finding one (in a
// comment or a string too): a find makes the rollback restore the snapshot rather than trust the downs.
// FOR UPDATE, ON UPDATE / ON DELETE (a foreign key's actions) and trigger events are not statements.
func destroyingCode(text string) string {
	for _, m := range codeVerb.FindAllStringSubmatchIndex(text, -1) {
		verb, next := strings.ToLower(text[m[2]:m[3]]), strings.ToLower(text[m[6]:m[7]])
		stmt := text[strings.LastIndex(text[:m[0]], ";")+1 : m[0]]
		before := strings.Fields(strings.Map(func(r rune) rune {
			if strings.ContainsRune(`'"|+,()`, r) {
				return ' '
			}
			return r
		}, stmt))
		prev := ""
		if len(before) > 0 {
			prev = strings.ToLower(before[len(before)-1])
		}
		found := ""
		switch verb {
		case "drop":
			switch {
			case next == "table" || next == "schema" || next == "column" || next == "owned" || next == "sequence":
				found = text[m[0]:m[7]]
			case alterTable.MatchString(stmt) && next != "" && !slices.Contains(keptByAlterDrop, next):
				found = text[m[0]:m[7]]
			}
		case "truncate":
			if prev != "before" && prev != "after" && prev != "or" {
				found = text[m[0]:m[3]]
			}
		case "setval":
			found = text[m[0]:m[3]]
		case "restart":
			// TRUNCATE ... RESTART IDENTITY is a TRUNCATE, found as one.
			if alterSequence.MatchString(stmt) {
				found = text[m[0]:m[3]]
			}
		case "delete":
			if next == "from" {
				found = text[m[0]:m[7]]
			}
		case "update":
			if slices.Contains([]string{"for", "key", "on", "or", "before", "after"}, prev) {
				continue
			}
			end := strings.IndexByte(text[m[3]:], ';')
			if end < 0 {
				end = len(text) - m[3]
			}
			if set := setWord.FindStringIndex(text[m[3] : m[3]+end]); set != nil {
				found = text[m[0] : m[3]+set[1]]
			}
		}
		if found != "" {
			found = strings.Join(strings.Fields(found), " ")
			if len(found) > 60 {
				found = strings.ToValidUTF8(found[:57], "") + "..."
			}
			return found
		}
	}
	return ""
}

var setWord = regexp.MustCompile(`(?i)\bset\b`)

// codeDef is a definition of a function or procedure that a migration calls: where it is (file:line, or
// the function as the database names it), and what of its text destroys data (destroyingCode; "" when
// nothing does). unknown is a name that neither the migration folder nor the database defines. calls
// are the functions and procedures its body calls (bodyCalls), followed as the migration's own calls.
type codeDef struct {
	place, destroys string
	unknown         bool
	calls           []string
	// opaque says why its calls cannot be followed (opaqueBody): a call of it may destroy data.
	opaque string
	// trigger is set for a trigger (folderCode's "on table" entries): its name, the events it fires on
	// (trigInsert, ...), and its function in calls.
	trigger string
	events  int32
}

// maxCallDepth is how deep calls are followed from function body to function body: a function whose
// calls nest deeper counts as one whose code cannot be read.
const maxCallDepth = 16

// folderCode reads the functions and procedures that the scripts of migs create (CREATE [OR REPLACE]
// FUNCTION / PROCEDURE), by name without schema, lower case: every definition of a name, as a run may
// call any of them. The triggers they create (CREATE TRIGGER) are there too, under "on " and their
// table's bare name (lower case): a write to the table calls the trigger's function (calledCodeLoss).
func folderCode(migs []*migrate.Migration) map[string][]codeDef {
	code := map[string][]codeDef{}
	for _, m := range migs {
		for _, s := range []*migrate.Script{m.Up, m.Down} {
			if s == nil {
				continue
			}
			for _, st := range s.Statements {
				if tr := st.Node.GetCreateTrigStmt(); tr != nil {
					on := "on " + strings.ToLower(tr.GetRelation().GetRelname())
					code[on] = append(code[on], codeDef{place: fmt.Sprintf("%s:%d", s.File, st.Pos.Line), trigger: tr.Trigname,
						events: tr.Events, calls: []string{funcName(tr.Funcname)}})
				}
				if f := st.Node.GetCreateFunctionStmt(); f != nil {
					name := bareName(funcName(f.Funcname))
					code[name] = append(code[name], codeDef{place: fmt.Sprintf("%s:%d", s.File, st.Pos.Line), destroys: destroyingCode(st.SQL),
						calls: bodyCalls(st.SQL), opaque: opaqueBody(st.SQL)})
				}
			}
		}
	}
	return code
}

func bareName(f string) string { return f[strings.LastIndex(f, ".")+1:] }

// funcCode is what upLosesData and downLosesData need to judge the function calls of migs' ups and
// downs: the definitions of the migration folder (d.o.Set), and the database's: the source
// (pg_get_functiondef) of its functions of that name outside pg_catalog, none for a built-in function,
// and unknown when neither the folder nor the database has a function of that name. Both count: an up
// may call the database's version before it replaces it with the folder's (CREATE OR REPLACE). A
// lookup that fails leaves the names it looked up unknown: a call then counts as one that may destroy
// data. The functions that those functions' bodies call are read too, and theirs, down to maxCallDepth
// (each name once). restorable calls it before the first migration, whatever the snapshot: the
// database's code is read as it was before the ups replaced or renamed any of it, and kept for undo.
func (d *deployer) funcCode(ctx context.Context, migs []*migrate.Migration) map[string][]codeDef {
	if d.code == nil {
		d.code = folderCode(d.o.Set.Migrations)
	}
	var names []string
	add := func(f string) {
		if n := bareName(f); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, m := range migs {
		for _, s := range []*migrate.Script{m.Up, m.Down} {
			e := analyze(s)
			for f := range e.Funcs {
				add(f)
			}
			// The functions of the folder's triggers on the tables it writes (calledCodeLoss).
			for t := range e.Written {
				for _, c := range d.code["on "+t] {
					for _, f := range c.calls {
						add(f)
					}
				}
			}
		}
	}
	seen := map[string]bool{}
	for depth := 0; depth <= maxCallDepth && len(names) > 0; depth++ {
		var ask []string
		for _, n := range names {
			if !d.codeRead[n] {
				ask = append(ask, n)
			}
		}
		d.readCode(ctx, ask)
		var next []string
		for _, n := range names {
			seen[n] = true
		}
		for _, n := range names {
			for _, c := range d.code[n] {
				for _, f := range c.calls {
					if b := bareName(f); !seen[b] && !slices.Contains(next, b) {
						next = append(next, b)
					}
				}
			}
		}
		names = next
	}
	return d.code
}

// readCode adds to d.code the database's definitions of the functions names (see funcCode).
func (d *deployer) readCode(ctx context.Context, names []string) {
	if len(names) == 0 {
		return
	}
	if d.codeRead == nil {
		d.codeRead = map[string]bool{}
	}
	for _, n := range names {
		d.codeRead[n] = true
	}
	if d.recovering != "" {
		// The database now is not what the dead run's ups ran against (see loadBefore).
		for _, n := range names {
			d.code[n] = append(d.code[n], codeDef{unknown: true, place: "run " + d.recovering + " did not read it from the database before its first migration, and the migration folder changed since"})
		}
		return
	}
	var defs map[string][]codeDef
	if d.conn == nil || d.conn.IsClosed() {
		d.unknownCode(names, errors.New("no connection"))
		return
	}
	rows, err := d.conn.Query(context.WithoutCancel(ctx), `SELECT lower(p.proname), p.oid::regprocedure::text,
			CASE WHEN p.pronamespace = 'pg_catalog'::regnamespace OR p.prokind NOT IN ('f', 'p') THEN '' ELSE pg_get_functiondef(p.oid) END
		FROM pg_proc p WHERE lower(p.proname) = ANY ($1::text[])`, names)
	if err == nil {
		defs = map[string][]codeDef{}
		var name, fn, src string
		_, err = pgx.ForEachRow(rows, []any{&name, &fn, &src}, func() error {
			def := codeDef{place: "function " + fn, destroys: destroyingCode(src)}
			if src != "" {
				def.calls, def.opaque = bodyCalls(src), opaqueBody(src)
			}
			defs[name] = append(defs[name], def)
			return nil
		})
	}
	if err != nil {
		d.unknownCode(names, err)
		return
	}
	if d.dbCode == nil {
		d.dbCode = map[string][]codeDef{}
	}
	for _, n := range names {
		d.code[n] = append(d.code[n], defs[n]...)
		d.dbCode[n] = append(d.dbCode[n], defs[n]...)
		if d.code[n] == nil {
			d.code[n] = []codeDef{{unknown: true}}
		}
	}
}

// unknownCode records that the database could not tell (err) what the functions names do: a call of one
// counts as one that may destroy data.
func (d *deployer) unknownCode(names []string, err error) {
	if d.dbCode == nil {
		d.dbCode = map[string][]codeDef{}
	}
	for _, n := range names {
		def := codeDef{unknown: true, place: "the database could not be asked: " + err.Error()}
		d.code[n], d.dbCode[n] = append(d.code[n], def), append(d.dbCode[n], def)
	}
}

// beforeRun is what a run read of the database before its first migration and judges its rollback by:
// the code of the functions its migrations call (funcCode), what the ups' DROP ... CASCADE take
// with them and the foreign keys that reference the tables the migrations' emptying reaches
// (readCascades). The run keeps it in its schemagate_runs row (before_run), for the --recover
// of a run that dies: by then its ups may have replaced or renamed those functions and dropped what the
// drops took, and the database can no longer say what they did (loadBefore).
type beforeRun struct {
	// Code are the database's definitions by name (codeDef), Read every name looked up in the database,
	// also those it has no function of.
	Code     map[string][]savedDef `json:"code"`
	Read     []string              `json:"read"`
	Cascades map[string]string     `json:"cascades"`
}

// savedDef is a codeDef as beforeRun keeps it.
type savedDef struct {
	Place    string   `json:"place,omitempty"`
	Destroys string   `json:"destroys,omitempty"`
	Unknown  bool     `json:"unknown,omitempty"`
	Calls    []string `json:"calls,omitempty"`
	Opaque   string   `json:"opaque,omitempty"`
}

// beforeRunJSON is what the run read before its first migration, as JSON (see beforeRun).
func (d *deployer) beforeRunJSON() []byte {
	b := beforeRun{Code: map[string][]savedDef{}, Read: []string{}, Cascades: map[string]string{}}
	for n := range d.codeRead {
		b.Read = append(b.Read, n)
	}
	slices.Sort(b.Read)
	for n, defs := range d.dbCode {
		for _, c := range defs {
			b.Code[n] = append(b.Code[n], savedDef{Place: c.place, Destroys: c.destroys, Unknown: c.unknown, Calls: c.calls, Opaque: c.opaque})
		}
	}
	maps.Copy(b.Cascades, d.cascades)
	js, _ := json.Marshal(b) // maps and strings: cannot fail
	return js
}

// loadBefore makes the rollback of dead run r (--recover) judge by what r read of the database before
// its first migration (beforeRun), with the code of the migration folder: the database as it is now
// holds what r's ups made of it. A name r did not read (the folder changed since) is not read now: its
// code counts as unknown. A run of an earlier release recorded nothing: the database is read as it is
// now, with a note. forgetBefore undoes it, for the deploy that follows the recovery.
func (d *deployer) loadBefore(ctx context.Context, r deadRun) error {
	d.forgetBefore()
	js, err := d.hist.beforeRun(ctx, d.conn, r.RunID)
	if err != nil {
		return fmt.Errorf("recover run %s: %w", r.RunID, err)
	}
	if js == nil {
		d.note("run %s recorded nothing of the functions its migrations call before its first migration (an earlier release): its rollback judges them by the database as it is now, after its ups", r.RunID)
		return nil
	}
	var b beforeRun
	if err := json.Unmarshal(js, &b); err != nil {
		return fmt.Errorf("recover run %s: read what it read before its first migration: %w", r.RunID, err)
	}
	d.code, d.codeRead, d.cascades, d.recovering = folderCode(d.o.Set.Migrations), map[string]bool{}, map[string]string{}, r.RunID
	maps.Copy(d.cascades, b.Cascades)
	for _, n := range b.Read {
		d.codeRead[n] = true
		for _, c := range b.Code[n] {
			d.code[n] = append(d.code[n], codeDef{place: c.Place, destroys: c.Destroys, unknown: c.Unknown, calls: c.Calls, opaque: c.Opaque})
		}
		if d.code[n] == nil {
			d.code[n] = []codeDef{{unknown: true}}
		}
	}
	return nil
}

// forgetBefore drops what funcCode and readCascades know (and what loadBefore loaded), so that they
// read the database again.
func (d *deployer) forgetBefore() {
	d.code, d.codeRead, d.dbCode, d.cascades, d.recovering = nil, nil, nil, nil, ""
}

// spiWord finds, in the body of a function in a procedural language other than SQL and PL/pgSQL, a way
// to run SQL: PL/Python's plpy.execute, prepare and cursor, PL/Perl's and PL/Tcl's spi_* functions,
// PL/v8's plv8.execute, prepare and find_function, and these words in any other language.
var spiWord = regexp.MustCompile(`(?i)\b(?:plpy\s*\.\s*)?(?:execute|prepare|cursor|find_function|spi_\w+)\b`)

// languageAndBody are a function's language (lower case; "sql" when not given) and its quoted body (""
// for none).
func languageAndBody(f *pg_query.CreateFunctionStmt) (lang, body string) {
	lang = "sql"
	for _, o := range f.GetOptions() {
		switch de := o.GetDefElem(); de.GetDefname() {
		case "language":
			lang = strings.ToLower(de.GetArg().GetString_().GetSval())
		case "as":
			if items := de.GetArg().GetList().GetItems(); len(items) > 0 {
				body = items[0].GetString_().GetSval()
			}
		}
	}
	return lang, body
}

// opaqueBody says why the calls of a function (sql, its definition, see bodyCalls) cannot be followed:
// its body, in a procedural language other than SQL and PL/pgSQL (PL/Python, PL/Perl, PL/Tcl, PL/v8,
// ...), can run SQL (spiWord). That SQL is often built at run time, from variables, prepared plans or the
// language's own functions, so the functions it calls cannot be read from the text as a DO block's
// constant EXECUTE strings are: what it calls, and so what a call of it destroys, is unknown. A body
// that runs no SQL calls no function and writes no row (its text is still searched, destroyingCode). ""
// when its calls can be followed, or for C and internal functions, which have no body to read.
func opaqueBody(sql string) string {
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.GetStmts()) == 0 || tree.GetStmts()[0].GetStmt().GetCreateFunctionStmt() == nil {
		return ""
	}
	f := tree.GetStmts()[0].GetStmt().GetCreateFunctionStmt()
	if f.GetSqlBody() != nil {
		return ""
	}
	lang, body := languageAndBody(f)
	switch lang {
	case "sql", "plpgsql", "c", "internal":
		return ""
	}
	if m := spiWord.FindString(body); m != "" {
		return fmt.Sprintf("is in %s and runs SQL (%s), whose calls are not followed", lang, strings.Join(strings.Fields(m), ""))
	}
	return ""
}

// bodyCalls are the functions and procedures that the body of a function or procedure calls, as funcName
// writes them, read from its definition (sql, a CREATE FUNCTION or CREATE PROCEDURE statement, as a
// migration or pg_get_functiondef writes it): from the parse tree of a SQL body (LANGUAGE sql, quoted
// or BEGIN ATOMIC), from the PL/pgSQL parse tree of a plpgsql one (as doCalls reads a DO block's), and
// from the defaults of its parameters. A body that does not parse yields every name written before a
// parenthesis in it (callLike). Bodies in other languages are not followed: their text is searched
// (destroyingCode), and one that runs SQL counts as code that cannot be read (opaqueBody); C and internal
// functions have no body to read.
func bodyCalls(sql string) []string {
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.GetStmts()) == 0 || tree.GetStmts()[0].GetStmt().GetCreateFunctionStmt() == nil {
		return callLike(sql)
	}
	f := tree.GetStmts()[0].GetStmt().GetCreateFunctionStmt()
	var out []string
	add := func(fc *pg_query.FuncCall) {
		if n := funcName(fc.Funcname); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	// A parameter's default runs when a call leaves that argument out, whatever the language.
	for _, p := range f.GetParameters() {
		if p.GetFunctionParameter().GetDefexpr() != nil {
			sqlparse.Walk(p.GetFunctionParameter().GetDefexpr().ProtoReflect(), add)
		}
	}
	if f.GetSqlBody() != nil {
		sqlparse.Walk(f.GetSqlBody().ProtoReflect(), add)
		slices.Sort(out)
		return out
	}
	lang, body := languageAndBody(f)
	switch lang {
	case "plpgsql":
		for _, g := range doCalls(sql) {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	case "sql":
		inner, err := pg_query.Parse(body)
		if err != nil {
			for _, g := range callLike(body) {
				if !slices.Contains(out, g) {
					out = append(out, g)
				}
			}
			break
		}
		for _, st := range inner.GetStmts() {
			calls(st.GetStmt(), add)
		}
	}
	slices.Sort(out)
	return out
}

// doCalls are the functions and procedures that a DO block (sql, the whole statement) calls, as funcName
// writes them, read from its PL/pgSQL parse tree: in its statements, expressions and assignments, and in
// a constant string that it EXECUTEs (or that an expression holds) when the string is SQL. A name built
// at run time (EXECUTE 'SELECT ' || f || '()') is not seen: the DO block's text still counts as
// destroyingCode reads it. An expression that does not parse, or a block in another language or that does
// not parse, yields every name written before a parenthesis in it (callLike): each may be a function, and
// one neither the folder nor the database defines counts as one that may destroy data.
func doCalls(sql string) []string {
	var out []string
	add := func(f string) {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	fromTree := func(tree *pg_query.ParseResult) {
		for _, st := range tree.GetStmts() {
			if st.GetStmt().GetCreateFunctionStmt() != nil {
				continue // it runs nothing of its body (calls)
			}
			calls(st.GetStmt(), func(fc *pg_query.FuncCall) { add(funcName(fc.Funcname)) })
			// A constant string that is SQL (EXECUTE 'SELECT purge()') is followed too.
			sqlparse.Walk(st.GetStmt().ProtoReflect(), func(c *pg_query.A_Const) {
				if sv := c.GetSval(); sv != nil {
					if inner, err := pg_query.Parse(sv.Sval); err == nil {
						for _, ist := range inner.GetStmts() {
							calls(ist.GetStmt(), func(fc *pg_query.FuncCall) { add(funcName(fc.Funcname)) })
						}
					}
				}
			})
		}
	}
	text, err := pg_query.ParsePlPgSqlToJSON(sql)
	var fns []any
	if err == nil {
		err = json.Unmarshal([]byte(text), &fns)
	}
	if err != nil || len(fns) == 0 {
		for _, f := range callLike(sql) {
			add(f)
		}
		slices.Sort(out)
		return out
	}
	var exprs func(v any)
	exprs = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["PLpgSQL_expr"].(map[string]any); ok {
				q, _ := e["query"].(string)
				mode, _ := e["parseMode"].(float64)
				tree, err := parseExpr(q, int(mode))
				if err != nil {
					for _, f := range callLike(q) {
						add(f)
					}
				} else {
					fromTree(tree)
				}
			}
			for _, x := range v {
				exprs(x)
			}
		case []any:
			for _, x := range v {
				exprs(x)
			}
		}
	}
	exprs(fns)
	slices.Sort(out)
	return out
}

// assignTarget is the target of a PL/pgSQL assignment ("n :=", "r.f =", "a[1] :=").
var assignTarget = regexp.MustCompile(`^\s*(?:"[^"]*"|[\w$]+)(?:\s*(?:\.\s*(?:"[^"]*"|[\w$]+)|\[[^\]]*\]))*\s*:?=`)

// parseExpr parses the query of a PL/pgSQL expression as its parse mode says (the server's RawParseMode):
// 0 a statement, 2 an expression, 3 to 5 an assignment.
func parseExpr(q string, mode int) (*pg_query.ParseResult, error) {
	switch mode {
	case 0:
		return pg_query.Parse(q)
	case 3, 4, 5:
		loc := assignTarget.FindStringIndex(q)
		if loc == nil {
			return nil, fmt.Errorf("no assignment target in %q", q)
		}
		q = q[loc[1]:]
	}
	return pg_query.Parse("SELECT " + q)
}

// callWord is a name, qualified or not, written before a parenthesis.
var callWord = regexp.MustCompile(`(?i)\b([a-z_][\w$]*(?:\s*\.\s*[a-z_][\w$]*)?)\s*\(`)

// callLike are the names written before a parenthesis in text, lower case, as funcName writes them.
func callLike(text string) []string {
	var out []string
	for _, m := range callWord.FindAllStringSubmatch(text, -1) {
		f := strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(m[1], ".", " . ")), ""))
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
