package migrate

import (
	"strings"
	"testing"
)

// TestStatementBlock: goose and sql-migrate get StatementBegin/StatementEnd around a statement they would
// cut (a line before its last ends with ';'), and only there; the other tools never.
func TestStatementBlock(t *testing.T) {
	body := "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND $$;"
	for _, tc := range []struct {
		name, stmt string
		format     Format
		begin      string
	}{
		{"goose body", body, FormatGoose, "-- +goose StatementBegin"},
		{"sql-migrate body", body, FormatSQLMigrate, "-- +migrate StatementBegin"},
		{"goose one line", "DROP TABLE t;", FormatGoose, ""},
		{"goose lines without inner ;", "CREATE TABLE t (\n  id int\n);", FormatGoose, ""},
		{"goose string", "COMMENT ON TABLE t IS 'a;\nb';", FormatGoose, "-- +goose StatementBegin"},
		{"dbmate body", body, FormatDbmate, ""},
		{"flyway body", body, FormatFlyway, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			begin, end := StatementBlock(tc.format, tc.stmt)
			if begin != tc.begin || (begin == "") != (end == "") || begin != "" && end != strings.Replace(begin, "Begin", "End", 1) {
				t.Errorf("StatementBlock = %q, %q, want %q", begin, end, tc.begin)
			}
		})
	}
}

// TestReadDown: a down read as goose reads it under its Down annotation keeps its own line numbers, and
// a statement goose would cut is an error at its line.
func TestReadDown(t *testing.T) {
	ok := "-- re-create f\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND $$;\n-- +goose StatementEnd\n\nDROP TABLE t;\n"
	sc, err := ReadDown(FormatGoose, "1.generated.down.sql", ok)
	if err != nil {
		t.Fatalf("ReadDown: %v", err)
	}
	if len(sc.Statements) != 2 || sc.Statements[0].Pos.Line != 3 || sc.Statements[1].Pos.Line != 9 {
		t.Fatalf("statements %+v, want two at lines 3 and 9", sc.Statements)
	}
	cut := strings.NewReplacer("-- +goose StatementBegin\n", "", "-- +goose StatementEnd\n", "").Replace(ok)
	if _, err := ReadDown(FormatGoose, "1.generated.down.sql", cut); err == nil || !strings.Contains(err.Error(), "1.generated.down.sql:4: goose ends a statement at this line") {
		t.Errorf("ReadDown of a cut body: %v, want goose's cut at line 4", err)
	}
	if _, err := ReadDown(FormatSQLMigrate, "1.generated.down.sql", strings.ReplaceAll(ok, "goose", "migrate")); err != nil {
		t.Errorf("ReadDown sql-migrate: %v", err)
	}
}
