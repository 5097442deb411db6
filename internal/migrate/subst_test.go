package migrate

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func readMap(t *testing.T, format Format, files map[string]string) (*Set, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return Read(fsys, format)
}

// TestFlywayPlaceholders: placeholders are replaced as the Flyway CLI replaces them (user ones from
// FLYWAY_PLACEHOLDERS_*, case-insensitively, and the built-ins), a missing one is an error at its line,
// placeholderReplacement=false leaves a script alone, and the checksum is that of the text as written.
func TestFlywayPlaceholders(t *testing.T) {
	t.Setenv("FLYWAY_PLACEHOLDERS_SCHEMA", "app")
	t.Setenv("FLYWAY_PLACEHOLDERS_OWNER_ROLE", "app_owner")
	t.Setenv("FLYWAY_USER", "deployer")
	os.Unsetenv("FLYWAY_PLACEHOLDER_REPLACEMENT")
	files := map[string]string{
		"V1__init.sql": "CREATE SCHEMA IF NOT EXISTS ${schema};\n" +
			"CREATE TABLE ${Schema}.t (id int, who text DEFAULT '${flyway:user}', src text DEFAULT '${flyway:filename}');\n" +
			"ALTER TABLE ${schema}.t OWNER TO ${owner.role};\n",
		"V2__raw.sql":      "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT '${not_a_placeholder}' $$;\n",
		"V2__raw.sql.conf": "placeholderReplacement=false\n",
	}
	set, err := readMap(t, FormatFlyway, files)
	if err != nil {
		t.Fatal(err)
	}
	up := set.Migrations[0].Up
	want := []string{
		"CREATE SCHEMA IF NOT EXISTS app",
		"CREATE TABLE app.t (id int, who text DEFAULT 'deployer', src text DEFAULT 'V1__init.sql')",
		"ALTER TABLE app.t OWNER TO app_owner",
	}
	if len(up.Statements) != len(want) {
		t.Fatalf("statements %+v", up.Statements)
	}
	for i, st := range up.Statements {
		if st.SQL != want[i] || st.Node == nil || st.Pos.Line != i+1 {
			t.Errorf("statement %d: %q at line %d, want %q at line %d", i, st.SQL, st.Pos.Line, want[i], i+1)
		}
	}
	if up.Source != files["V1__init.sql"] {
		t.Errorf("Source %q, want the file as written", up.Source)
	}
	if raw := set.Migrations[1].Up.SQL; !strings.Contains(raw, "${not_a_placeholder}") || set.Migrations[1].Up.Source != "" {
		t.Errorf("placeholderReplacement=false script changed: %q", raw)
	}

	// Another value gives other SQL but the same checksum: a deploy elsewhere matches the approval.
	sum := set.Migrations[0].Checksum
	t.Setenv("FLYWAY_PLACEHOLDERS_SCHEMA", "tenant_7")
	again, err := readMap(t, FormatFlyway, files)
	if err != nil {
		t.Fatal(err)
	}
	if again.Migrations[0].Checksum != sum || !strings.Contains(again.Migrations[0].Up.SQL, "tenant_7.t") {
		t.Errorf("checksum %s (was %s), SQL %q", again.Migrations[0].Checksum, sum, again.Migrations[0].Up.SQL)
	}

	// A placeholder without a value: an error at its line that says how to give it one.
	_, err = readMap(t, FormatFlyway, map[string]string{"V1__init.sql": "SELECT 1;\n\nCREATE TABLE ${tenant}.t (id int);\n"})
	if err == nil || !strings.Contains(err.Error(), "V1__init.sql:3") || !strings.Contains(err.Error(), "${tenant}") ||
		!strings.Contains(err.Error(), "FLYWAY_PLACEHOLDERS_TENANT") {
		t.Errorf("missing placeholder: %v", err)
	}

	// Flyway reads everything from ${ to the next } as a placeholder's name, and fails the migration
	// on any it has no value for: one with a space, an empty one, one never closed
	// (PlaceholderReplacingReader). A $ read ahead that no { follows is given back as it is, so the
	// $ after it starts no placeholder: $${schema} stays as written, $$${schema} is replaced.
	for src, want := range map[string]string{
		"SELECT 1;\nSELECT '${a b}';\n":                 "V1__init.sql:2: no value for Flyway placeholder ${a b}",
		"SELECT 1;\nSELECT '${}';\n":                    "V1__init.sql:2: no value for Flyway placeholder ${}",
		"SELECT 1;\nSELECT '${schema';\nSELECT '}';\n":  "V1__init.sql:2: no value for Flyway placeholder ${schema';\nSELECT '}",
		"SELECT 1;\n\nSELECT '${schema\n":               "V1__init.sql:3: Flyway placeholder ${ is never closed with }",
		"SELECT '${schema}', 1;\n-- a ${ b } comment\n": "V1__init.sql:2: no value for Flyway placeholder ${ b }",
	} {
		_, err = readMap(t, FormatFlyway, map[string]string{"V1__init.sql": src})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	for src, want := range map[string]string{
		"SELECT '$${schema}';\n":  "SELECT '$${schema}'",
		"SELECT '$$${schema}';\n": "SELECT '$$tenant_7'",
		"SELECT '$a${schema}';\n": "SELECT '$atenant_7'",
	} {
		set, err := readMap(t, FormatFlyway, map[string]string{"V1__init.sql": src})
		if err != nil || set.Migrations[0].Up.Statements[0].SQL != want {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}

	// FLYWAY_PLACEHOLDER_REPLACEMENT=false turns placeholders off everywhere.
	t.Setenv("FLYWAY_PLACEHOLDER_REPLACEMENT", "false")
	set, err = readMap(t, FormatFlyway, map[string]string{"V1__init.sql": "SELECT '${tenant}';\n"})
	if err != nil || set.Migrations[0].Up.Statements[0].SQL != "SELECT '${tenant}'" {
		t.Errorf("with replacement off: %v, %+v", err, set)
	}
}

// TestGooseEnvSub: goose's ENVSUB ON … OFF regions are expanded as goose expands them (line by line,
// with the library goose uses): ${VAR}, $VAR, ${VAR:-word}, ${VAR-word}, $$ for a dollar sign (dollar
// quotes too); text outside the regions is left alone, positions stay on their lines, and what goose
// refuses (${VAR?msg} without a value, ${VAR:+word}, $1) is an error at its line.
func TestGooseEnvSub(t *testing.T) {
	t.Setenv("GREETING", "hello")
	os.Unsetenv("SG_TABLE")
	os.Unsetenv("SG_REQUIRED")
	src := "-- +goose Up\n" +
		"CREATE TABLE t (id int);\n" +
		"-- +goose ENVSUB ON\n" +
		"CREATE TABLE ${SG_TABLE:-fallback} (greeting text DEFAULT '${GREETING}', alt text DEFAULT '$GREETING-${SG_TABLE-x}');\n" +
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$$$ SELECT 1 $$$$;\n" +
		"-- +goose ENVSUB OFF\n" +
		"COMMENT ON TABLE t IS '${GREETING}';\n" +
		"-- +goose Down\n" +
		"-- +goose ENVSUB ON\n" +
		"DROP TABLE ${SG_TABLE:-fallback};\n" +
		"DROP TABLE t;\n"
	set, err := readMap(t, FormatGoose, map[string]string{"00001_init.sql": src})
	if err != nil {
		t.Fatal(err)
	}
	m := set.Migrations[0]
	got := []string{}
	for _, s := range []*Script{m.Up, m.Down} {
		for _, st := range s.Statements {
			got = append(got, st.Pos.String()+" "+st.SQL)
		}
	}
	want := []string{
		"2:1 CREATE TABLE t (id int)",
		"4:1 CREATE TABLE fallback (greeting text DEFAULT 'hello', alt text DEFAULT 'hello-x')",
		"5:1 CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
		"7:1 COMMENT ON TABLE t IS '${GREETING}'",
		"10:1 DROP TABLE fallback",
		"11:1 DROP TABLE t",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !m.EnvSub || !strings.Contains(m.Up.Source, "CREATE TABLE ${SG_TABLE:-fallback} (greeting") {
		t.Errorf("EnvSub %v, Source %q: want the text as written", m.EnvSub, m.Up.Source)
	}

	// interpolate v0.2.0 (goose v3.30.1) keeps a $ before a digit and knows ${VAR:+word}.
	for line, want := range map[string]string{
		"SELECT '${GREETING:+alt}';":                                      "SELECT 'alt'",
		"CREATE FUNCTION g(int) RETURNS int LANGUAGE sql AS 'SELECT $1';": "CREATE FUNCTION g(int) RETURNS int LANGUAGE sql AS 'SELECT $1'",
		"SELECT '$5', 'a\\$b', '$GREETING';":                              "SELECT '$5', 'a$b', 'hello'",
	} {
		set, err := readMap(t, FormatGoose, map[string]string{"00001_init.sql": "-- +goose ENVSUB ON\n-- +goose Up\n" + line + "\n"})
		if err != nil || len(set.Migrations) != 1 || len(set.Migrations[0].Up.Statements) != 1 || set.Migrations[0].Up.Statements[0].SQL != want {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
	for line, bad := range map[string]string{
		"SELECT '${SG_REQUIRED?set it to the tenant}';": "SG_REQUIRED: set it to the tenant",
	} {
		_, err = readMap(t, FormatGoose, map[string]string{"00001_init.sql": "-- +goose ENVSUB ON\n-- +goose Up\nSELECT 1;\n" + line + "\n"})
		if err == nil || !strings.Contains(err.Error(), "00001_init.sql:4") || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v, want an error at line 4 with %q", line, err, bad)
		}
	}
}

// TestGooseEnvSubComments: goose (internal/sqlparser/parser.go) expands a line as it writes it to its
// statement buffer, so a comment line it skips (the buffer empty: before a statement, at the start of a
// StatementBegin block) stays as written, and one inside a statement is expanded like any other line,
// a bad reference in it failing the file.
func TestGooseEnvSubComments(t *testing.T) {
	t.Setenv("SG_TEST_VAR", "expanded")
	os.Unsetenv("SG_UNSET")
	up := "-- +goose Up\n-- +goose ENVSUB ON\n"
	for _, tc := range []struct {
		name, body string
		want       []string // the up statements
		err        string   // "file:line: substring" of the one error, else ""
	}{
		{
			name: "comment line inside a statement is expanded",
			body: up + "INSERT INTO t VALUES ('first line\n-- ${SG_TEST_VAR}\nlast line');\n",
			want: []string{"INSERT INTO t VALUES ('first line\n-- expanded\nlast line')"},
		},
		{
			name: "bad reference in a comment line inside a statement fails the file",
			body: up + "SELECT 1,\n-- ${SG_UNSET?set it}\n2;\n",
			err:  "00001_a.sql:4: goose ENVSUB: $SG_UNSET: set it",
		},
		{
			name: "comment line before a statement is skipped, not expanded",
			body: up + "-- ${SG_UNSET?set it}\nSELECT '${SG_TEST_VAR}';\n-- ${SG_UNSET?set it}\n\n--${SG_UNSET?set it}\nSELECT 2;\n",
			want: []string{"SELECT 'expanded'", "SELECT 2"},
		},
		{
			// goose skips only an empty line before a statement: a line of white space is statement
			// text, and so is the comment after it.
			name: "comment line after a line of white space is expanded",
			body: up + "  \n-- ${SG_UNSET?set it}\nSELECT 1;\n",
			err:  "00001_a.sql:4: goose ENVSUB: $SG_UNSET: set it",
		},
		{
			name: "StatementBegin block: leading comments skipped, later ones expanded",
			body: up + "-- +goose StatementBegin\n-- ${SG_UNSET?set it}\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$$$\n-- ${SG_TEST_VAR}\nSELECT 'x';\n$$$$;\n-- +goose StatementEnd\n",
			want: []string{"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$\n-- expanded\nSELECT 'x';\n$$"},
		},
		{
			name: "StatementBegin block: a bad reference in a comment inside the statement fails the file",
			body: up + "-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$$$\n-- ${SG_UNSET?set it}\nSELECT 'x';\n$$$$;\n-- +goose StatementEnd\n",
			err:  "00001_a.sql:5: goose ENVSUB: $SG_UNSET: set it",
		},
		{
			// The buffer holds the statement begun before the block: goose carries it into the block.
			name: "StatementBegin block after unended text: comments are statement text",
			body: up + "SELECT 1\n-- +goose StatementBegin\n-- ${SG_UNSET?set it}\n, 2;\n-- +goose StatementEnd\n",
			err:  "00001_a.sql:5: goose ENVSUB: $SG_UNSET: set it",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := readMap(t, FormatGoose, map[string]string{"00001_a.sql": tc.body})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, st := range set.Migrations[0].Up.Statements {
				got = append(got, st.SQL)
			}
			if strings.Join(got, "\n;;\n") != strings.Join(tc.want, "\n;;\n") {
				t.Errorf("statements %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFlywayConfigFiles: placeholders and the built-ins' values come from flyway.toml or flyway.conf in the
// working directory (or FLYWAY_CONFIG_FILES), as in the Flyway CLI, and the environment overrides them;
// a broken file is an error with its line.
func TestFlywayConfigFiles(t *testing.T) {
	for _, k := range []string{"FLYWAY_PLACEHOLDERS_SCHEMA", "FLYWAY_PLACEHOLDERS_OWNER", "FLYWAY_USER", "FLYWAY_URL",
		"FLYWAY_PLACEHOLDER_REPLACEMENT", "FLYWAY_CONFIG_FILES", "FLYWAY_ENVIRONMENT", "FLYWAY_DEFAULT_SCHEMA", "FLYWAY_SCHEMAS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	script := map[string]string{"V1__init.sql": "CREATE TABLE ${schema}.t (who text DEFAULT '${flyway:user}', db text DEFAULT '${flyway:database}', s text DEFAULT '${flyway:defaultSchema}', o text DEFAULT '${owner}');\n"}
	sqlOf := func(t *testing.T) string {
		t.Helper()
		set, err := readMap(t, FormatFlyway, script)
		if err != nil {
			t.Fatal(err)
		}
		return set.Migrations[0].Up.Statements[0].SQL
	}

	dir := t.TempDir()
	t.Chdir(dir)
	toml := `[environments.ci]
url = "jdbc:postgresql://db.internal:5432/billing"
user = "deployer"
schemas = ["billing", "public"]

[flyway]
environment = "ci"

[flyway.placeholders]
schema = "billing"
owner = "toml-owner"
`
	if err := os.WriteFile("flyway.toml", []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "CREATE TABLE billing.t (who text DEFAULT 'deployer', db text DEFAULT 'billing', s text DEFAULT 'billing', o text DEFAULT 'toml-owner')"
	if got := sqlOf(t); got != want {
		t.Errorf("from flyway.toml:\n got %s\nwant %s", got, want)
	}
	t.Setenv("FLYWAY_PLACEHOLDERS_OWNER", "env-owner")
	if got := sqlOf(t); !strings.Contains(got, "'env-owner'") {
		t.Errorf("the environment does not override flyway.toml: %s", got)
	}

	// A legacy flyway.conf named by FLYWAY_CONFIG_FILES.
	conf := "# legacy\nflyway.url=jdbc:postgresql://localhost/shop\nflyway.user=legacy\nflyway.placeholders.schema=shop\nflyway.defaultSchema=shop\n"
	if err := os.WriteFile("legacy.conf", []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLYWAY_CONFIG_FILES", "legacy.conf")
	want = "CREATE TABLE shop.t (who text DEFAULT 'legacy', db text DEFAULT 'shop', s text DEFAULT 'shop', o text DEFAULT 'env-owner')"
	if got := sqlOf(t); got != want {
		t.Errorf("from FLYWAY_CONFIG_FILES:\n got %s\nwant %s", got, want)
	}

	// Broken files: errors with their lines.
	if err := os.WriteFile("legacy.conf", []byte("flyway.url=x\nflyway.mixed=maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readMap(t, FormatFlyway, script); err == nil || !strings.Contains(err.Error(), "legacy.conf:2") {
		t.Errorf("broken flyway.conf: %v", err)
	}
	os.Unsetenv("FLYWAY_CONFIG_FILES")
	if err := os.WriteFile("flyway.toml", []byte("[flyway]\nenvironment = \"ci\"\n[flyway.placeholders\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readMap(t, FormatFlyway, script); err == nil || !regexp.MustCompile(`flyway\.toml:[34]: read Flyway configuration`).MatchString(err.Error()) {
		t.Errorf("broken flyway.toml: %v", err)
	}
}

// TestFlywayTransactionSettings: executeInTransaction=false runs every script outside a transaction,
// mixed=true a script that mixes CREATE INDEX CONCURRENTLY with other statements; from flyway.toml,
// flyway.conf or the environment. A script's own .conf setting wins. Without mixed=true Flyway refuses
// the mixed script (ParserSqlScript.parse), whatever executeInTransaction says.
func TestFlywayTransactionSettings(t *testing.T) {
	for _, k := range []string{"FLYWAY_CONFIG_FILES", "FLYWAY_MIXED", "FLYWAY_EXECUTE_IN_TRANSACTION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	files := map[string]string{
		"V1__t.sql":        "CREATE TABLE t (a int);\n",
		"V2__mixed.sql":    "CREATE TABLE u (a int);\nCREATE INDEX CONCURRENTLY u_a ON u (a);\n",
		"V3__own.sql":      "CREATE TABLE w (a int);\n",
		"V3__own.sql.conf": "executeInTransaction=true\n",
	}
	t.Chdir(t.TempDir())
	const refused = "V2__mixed.sql:2: Flyway refuses a script that mixes statements it runs outside a transaction with others while mixed is false"
	mixedFalse := false
	check := func(t *testing.T, what string, want ...string) {
		t.Helper()
		set, err := readMap(t, FormatFlyway, files)
		if mixedFalse != (err != nil) || err != nil && !strings.HasPrefix(err.Error(), refused) {
			t.Fatalf("%s: error %v, want %q: %v", what, err, refused, mixedFalse)
		}
		if got := summaries(set); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	mixedFalse = true
	check(t, "defaults", "1_t up:1 down:-", "2_mixed up:2 down:-", "3_own up:1 down:-")
	write := func(name, content string) {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("flyway.toml", "[flyway]\nmixed = true\n")
	mixedFalse = false
	check(t, "flyway.toml mixed", "1_t up:1 down:-", "2_mixed up:2 down:- notx", "3_own up:1 down:-")
	write("flyway.toml", "[flyway]\nexecuteInTransaction = false\n")
	mixedFalse = true
	check(t, "flyway.toml executeInTransaction", "1_t up:1 down:- notx", "2_mixed up:2 down:- notx", "3_own up:1 down:-")
	os.Remove("flyway.toml")
	write("flyway.conf", "flyway.mixed=true\n")
	mixedFalse = false
	check(t, "flyway.conf mixed", "1_t up:1 down:-", "2_mixed up:2 down:- notx", "3_own up:1 down:-")
	write("flyway.conf", "flyway.executeInTransaction=false\n")
	mixedFalse = true
	check(t, "flyway.conf executeInTransaction", "1_t up:1 down:- notx", "2_mixed up:2 down:- notx", "3_own up:1 down:-")
	os.Remove("flyway.conf")
	t.Setenv("FLYWAY_MIXED", "true")
	mixedFalse = false
	check(t, "FLYWAY_MIXED", "1_t up:1 down:-", "2_mixed up:2 down:- notx", "3_own up:1 down:-")
	t.Setenv("FLYWAY_MIXED", "")
	t.Setenv("FLYWAY_EXECUTE_IN_TRANSACTION", "false")
	mixedFalse = true
	check(t, "FLYWAY_EXECUTE_IN_TRANSACTION", "1_t up:1 down:- notx", "2_mixed up:2 down:- notx", "3_own up:1 down:-")
}

// TestGooseEnvSubLongerValue: a value longer than the text it replaces used to panic the reader (the
// script's text as written was cut from the file at the substituted text's length), and a shorter one
// made the checksum depend on the environment. The checksum covers the script as written.
func TestGooseEnvSubLongerValue(t *testing.T) {
	src := "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE ${SG_NAME} (id int);\n-- +goose Down\nDROP TABLE t;\n"
	var sums []string
	for _, v := range []string{strings.Repeat("long_", 40) + "name", "t"} {
		t.Setenv("SG_NAME", v)
		set, err := readMap(t, FormatGoose, map[string]string{"00001_init.sql": src})
		if err != nil {
			t.Fatal(err)
		}
		m := set.Migrations[0]
		if want := "CREATE TABLE " + v + " (id int)"; m.Up.Statements[0].SQL != want {
			t.Errorf("SG_NAME=%s: statement %q, want %q", v, m.Up.Statements[0].SQL, want)
		}
		if !strings.HasPrefix(m.Up.Source, "-- +goose ENVSUB ON\nCREATE TABLE ${SG_NAME} (id int);\n") {
			t.Errorf("SG_NAME=%s: Source %q, want the section as written", v, m.Up.Source)
		}
		sums = append(sums, m.Checksum)
	}
	if sums[0] != sums[1] {
		t.Errorf("checksums %v depend on the environment", sums)
	}
}
