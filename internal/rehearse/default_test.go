package rehearse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestDefaultTheParserCannotJudgeFollowsTheTrace: ADD COLUMN … DEFAULT calling a function whose
// overloads disagree (one STABLE, one VOLATILE) is caution for the rules, the rehearsal's trace
// deciding: the call of the stable one rewrites nothing and becomes safe, saying so; the call of the
// volatile one rewrites the table and becomes add-column-volatile-default.
func TestDefaultTheParserCannotJudgeFollowsTheTrace(t *testing.T) {
	files := map[string]string{
		"V1__base.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\nINSERT INTO users VALUES (1);\n" +
			"CREATE FUNCTION pick() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'x'; END $$;\n" +
			"CREATE FUNCTION pick(n int) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x' || n; END $$;\n",
		"V2__add.sql": "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN a text DEFAULT pick();\nALTER TABLE users ADD COLUMN b text DEFAULT pick(1);\n",
	}
	set := folderOf(t, migrate.FormatFlyway, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, Provider: provider(t), NoRoundtrip: true})
	if err != nil {
		t.Fatal(err)
	}
	wantDefaults(t, rep.Migrations[1].Findings, true, []defaultCase{
		{2, "add-column-default-nonvolatile", lint.Safe, "the rehearsal saw no rewrite of public.users"},
		{3, "add-column-volatile-default", lint.Dangerous, "the rehearsal saw the DEFAULT rewrite"},
	})
}

// defaultCase is the DEFAULT finding wanted at a line of the migration: its rule, risk and a part of
// its message.
type defaultCase struct {
	line int
	rule string
	risk lint.Risk
	msg  string
}

// wantDefaults checks the ADD COLUMN … DEFAULT findings of a migration against cases; both also wants
// each to come from the rules and the trace together.
func wantDefaults(t *testing.T, findings []lint.Finding, both bool, cases []defaultCase) {
	t.Helper()
	got := map[int]lint.Finding{}
	for _, f := range findings {
		if f.Rule == "add-column-default-nonvolatile" || f.Rule == "add-column-volatile-default" {
			got[f.Line] = f
		}
	}
	for _, tt := range cases {
		f, ok := got[tt.line]
		if !ok || f.Rule != tt.rule || f.Risk != tt.risk || !strings.Contains(f.Message, tt.msg) || (both && f.Source != lint.SourceBoth) {
			t.Errorf("line %d: %s, want %s %s saying %q (from both sources: %v; all: %v)", tt.line, describe(f, ok), tt.risk, tt.rule, tt.msg, both, findings)
		}
	}
}

func describe(f lint.Finding, ok bool) string {
	if !ok {
		return "no DEFAULT finding"
	}
	return fmt.Sprintf("%s %s (%s): %s", f.Risk, f.Rule, f.Source, f.Message)
}

// TestDefaultOfAFunctionOfAnEarlierMigration: the rules judge a new migration again knowing what the
// rehearsal's catalog has of what it names, functions included: ADD COLUMN … DEFAULT my_imm(), a
// function an earlier migration created IMMUTABLE, is safe, as lint --dir says, and a function created
// VOLATILE a rewrite, with no trace to tell them (--no-trace), where both were caution, the parser not
// knowing the function.
func TestDefaultOfAFunctionOfAnEarlierMigration(t *testing.T) {
	files := map[string]string{
		"001_base.sql": "CREATE FUNCTION my_imm() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'x' $$;\n" +
			"CREATE FUNCTION my_vol() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;\n" +
			"CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
		"002_test.sql": "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN zz text DEFAULT my_imm();\nALTER TABLE users ADD COLUMN zv text DEFAULT my_vol();\n",
	}
	set := folderOf(t, migrate.FormatPlain, files)
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Provider: provider(t), NoRoundtrip: true, NoTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	wantDefaults(t, rep.Migrations[1].Findings, false, []defaultCase{
		{2, "add-column-default-nonvolatile", lint.Safe, "my_imm() is IMMUTABLE"},
		{3, "add-column-volatile-default", lint.Dangerous, "volatile DEFAULT my_vol()"},
	})
}
