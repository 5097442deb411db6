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
	got := map[int]lint.Finding{}
	for _, f := range rep.Migrations[1].Findings {
		if f.Rule == "add-column-default-nonvolatile" || f.Rule == "add-column-volatile-default" {
			got[f.Line] = f
		}
	}
	tests := []struct {
		line int
		rule string
		risk lint.Risk
		msg  string
	}{
		{2, "add-column-default-nonvolatile", lint.Safe, "the rehearsal saw no rewrite of public.users"},
		{3, "add-column-volatile-default", lint.Dangerous, "the rehearsal saw the DEFAULT rewrite"},
	}
	for _, tt := range tests {
		f, ok := got[tt.line]
		if !ok || f.Rule != tt.rule || f.Risk != tt.risk || !strings.Contains(f.Message, tt.msg) || f.Source != lint.SourceBoth {
			t.Errorf("line %d: %s, want %s %s saying %q from both sources (all: %v)", tt.line, describe(f, ok), tt.risk, tt.rule, tt.msg, rep.Migrations[1].Findings)
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
	got := map[int]lint.Finding{}
	for _, f := range rep.Migrations[1].Findings {
		if f.Rule == "add-column-default-nonvolatile" || f.Rule == "add-column-volatile-default" {
			got[f.Line] = f
		}
	}
	tests := []struct {
		line int
		rule string
		risk lint.Risk
		msg  string
	}{
		{2, "add-column-default-nonvolatile", lint.Safe, "my_imm() is IMMUTABLE"},
		{3, "add-column-volatile-default", lint.Dangerous, "volatile DEFAULT my_vol()"},
	}
	for _, tt := range tests {
		if f, ok := got[tt.line]; !ok || f.Rule != tt.rule || f.Risk != tt.risk || !strings.Contains(f.Message, tt.msg) {
			t.Errorf("line %d: %s, want %s %s saying %q", tt.line, describe(f, ok), tt.risk, tt.rule, tt.msg)
		}
	}
}
