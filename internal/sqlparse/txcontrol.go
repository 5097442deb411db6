package sqlparse

import (
	"encoding/json"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// CommitsInside reports whether the statement is a DO block whose PL/pgSQL body runs COMMIT or ROLLBACK
// (ROLLBACK TO SAVEPOINT is not one), at any depth of its blocks, loops and conditions. PostgreSQL runs
// such a body only when the DO is not in a transaction block: inside one, or in a query of several
// statements (an implicit transaction block), the COMMIT fails with "invalid transaction termination"
// (SQLSTATE 2D000). The body is read with PostgreSQL's own PL/pgSQL parser, so COMMIT in a string or a
// comment does not count.
func CommitsInside(n *pg_query.Node) bool {
	c, _ := doControl(n)
	return c.commits
}

// MayEndTransaction reports whether the statement may commit or roll back, from inside, the transaction it
// runs in: a DO block whose body does (CommitsInside), a CALL (the procedure may, and nothing in the
// file tells), a DO block that calls a procedure, or one whose body cannot be read (another language
// than PL/pgSQL, a body the parser refuses). Like CommitsInside, it only works outside a transaction
// block.
func MayEndTransaction(n *pg_query.Node) bool {
	if n.GetCallStmt() != nil {
		return true
	}
	c, ok := doControl(n)
	return ok && (c.commits || c.calls || !c.read)
}

// txControl is what a DO block's body does with transactions.
type txControl struct {
	read    bool // the body was parsed (PL/pgSQL, and the parser took it)
	commits bool // COMMIT or ROLLBACK
	calls   bool // CALL, or a DO inside the body
}

// doControl reads a DO block's body; ok is false when n is no DO block.
func doControl(n *pg_query.Node) (c txControl, ok bool) {
	d := n.GetDoStmt()
	if d == nil {
		return c, false
	}
	tree, read := DoBlockTree(d)
	if !read {
		return c, true
	}
	c.read = true
	walkPlpgsql(tree, &c)
	return c, true
}

// DoBlockTree parses a PL/pgSQL DO block's body with PostgreSQL's PL/pgSQL parser and returns its tree
// (pg_query's JSON, decoded: {"PLpgSQL_function": ...}); ok is false for another language, a body
// too deep for the parser's C stack, or one that does not parse.
func DoBlockTree(d *pg_query.DoStmt) (tree any, ok bool) {
	lang, body := "plpgsql", ""
	for _, a := range d.GetArgs() {
		switch e := a.GetDefElem(); strings.ToLower(e.GetDefname()) {
		case "language":
			lang = strings.ToLower(e.GetArg().GetString_().GetSval())
		case "as":
			body = e.GetArg().GetString_().GetSval()
		}
	}
	if lang != "plpgsql" || nesting(body) > MaxNesting {
		return nil, false
	}
	// The PL/pgSQL parser takes a CREATE FUNCTION: a DO block's body compiles as a function without
	// arguments returning void (plpgsql_compile_inline), so it is wrapped in one.
	// The tag must first appear where it closes the body (the body may end with part of it).
	tag := "$sgbody$"
	for i := 0; strings.Index(body+tag, tag) < len(body); i++ {
		tag = "$sgbody" + strconv.Itoa(i) + "$"
	}
	out, err := pg_query.ParsePlPgSqlToJSON("CREATE FUNCTION pg_temp.schemagate_do() RETURNS void LANGUAGE plpgsql AS " + tag + body + tag)
	if err != nil {
		return nil, false
	}
	var functions []any
	if json.Unmarshal([]byte(out), &functions) != nil || len(functions) != 1 {
		return nil, false
	}
	return functions[0], true
}

// walkPlpgsql notes the transaction control statements of a PL/pgSQL parse tree (pg_query's JSON: every
// statement is an object keyed by its node type).
func walkPlpgsql(v any, c *txControl) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			switch k {
			case "PLpgSQL_stmt_commit", "PLpgSQL_stmt_rollback":
				c.commits = true
			case "PLpgSQL_stmt_call": // CALL, and DO inside PL/pgSQL
				c.calls = true
			}
			walkPlpgsql(sub, c)
		}
	case []any:
		for _, sub := range v {
			walkPlpgsql(sub, c)
		}
	}
}
