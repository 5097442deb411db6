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
