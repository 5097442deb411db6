package migrate

import (
	"maps"
	"os"
	"strings"
	"testing"
)

// tinyurl is a folder Atlas wrote (testdata/atlas/tinyurl): its atlas.sum is Atlas's own.
func tinyurl(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range []string{"20230824215746.sql", "20230824221251.sql", "atlas.sum"} {
		b, err := os.ReadFile("testdata/atlas/tinyurl/" + name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	return files
}

// withSum returns files with an atlas.sum for their .sql files (the algorithm is checked against
// Atlas's own file by the tinyurl case).
func withSum(files map[string]string) map[string]string {
	out := maps.Clone(files)
	out["atlas.sum"] = AtlasSum(files)
	return out
}

func TestReadAtlas(t *testing.T) {
	t.Parallel()
	real := tinyurl(t)
	edited := maps.Clone(real)
	edited["20230824221251.sql"] += "-- one more comment\n"
	added := maps.Clone(real)
	added["20230901000000_more.sql"] = "CREATE TABLE more (id bigint);\n"
	removed := maps.Clone(real)
	delete(removed, "20230824215746.sql")
	handEdited := maps.Clone(real)
	handEdited["atlas.sum"] = strings.Replace(real["atlas.sum"], "ub5Y", "XXXX", 1)
	const concurrently = "CREATE INDEX CONCURRENTLY urls_visits ON urls (visits);\n"
	runReadCases(t, FormatAtlas, []readCase{
		{name: "a folder Atlas wrote, detected by atlas.sum", format: FormatAuto, files: real,
			want: []string{"20230824215746 up:1 down:-", "20230824221251 up:2 down:-"}},
		{name: "a file edited after atlas.sum", files: edited,
			want: []string{"20230824215746 up:1 down:-", "20230824221251 up:2 down:-"},
			errs: []string{"20230824221251.sql:0: 20230824221251.sql changed since atlas.sum was written"}},
		{name: "a file atlas.sum does not list", files: added,
			want: []string{"20230824215746 up:1 down:-", "20230824221251 up:2 down:-", "20230901000000_more up:1 down:-"},
			errs: []string{"20230901000000_more.sql:0: 20230901000000_more.sql is not in atlas.sum"}},
		{name: "a file atlas.sum lists is gone", files: removed,
			want: []string{"20230824221251 up:2 down:-"},
			errs: []string{"atlas.sum:2: atlas.sum lists 20230824215746.sql, which is not in the folder"}},
		{name: "atlas.sum edited by hand", files: handEdited,
			want: []string{"20230824215746 up:1 down:-", "20230824221251 up:2 down:-"},
			errs: []string{"atlas.sum:1: atlas.sum was edited by hand"}},
		{name: "no atlas.sum", files: map[string]string{"1_a.sql": "SELECT 1;"},
			want: []string{"1_a up:1 down:-"}, errs: []string{"atlas.sum:0: atlas.sum is missing"}},
		{name: "transaction mode directives", files: withSum(map[string]string{
			"1_none.sql":       "-- atlas:txmode none\n\n" + concurrently,
			"2_file.sql":       "-- atlas:txmode file\n\nCREATE TABLE a (id int);\n",
			"3_attached.sql":   "-- atlas:txmode none\n" + concurrently, // no blank line: a statement comment, ignored by Atlas
			"4_unknown.sql":    "-- a note\n-- atlas:txmode sometimes\n\nSELECT 1;\n",
			"5_delim.sql":      "-- atlas:delimiter \\n\\n\n\nSELECT 1\n\nSELECT 2\n",
			"6_ignored.sql":    "-- atlas:sum ignore\nSELECT 6;\n",
			"7_checkpoint.sql": "-- atlas:checkpoint v1\n\nCREATE TABLE b (id int);\n",
		}),
			want: []string{"1_none up:1 down:- notx", "2_file up:1 down:-", "3_attached up:1 down:-", "4_unknown up:1 down:-",
				"5_delim up:1 down:-", "6_ignored up:1 down:-", "7_checkpoint up:1 down:-"},
			errs: []string{"4_unknown.sql:2: unknown atlas:txmode \"sometimes\"", "5_delim.sql:1: atlas:delimiter is not supported",
				"7_checkpoint.sql:1: atlas:checkpoint files are not supported"}},
		// Atlas's LocalFile.comments (sql/migrate/dir.go): the block must start the file with "--" or
		// "#", each line is trimmed, and what follows it must be spaces or tabs, then "\n". A CRLF blank
		// line or a byte-order mark hides the directive, and Atlas runs the file in a transaction.
		{name: "transaction mode directives as Atlas reads them", files: withSum(map[string]string{
			"1_crlf.sql":   "-- atlas:txmode none\r\n\r\n" + concurrently,
			"2_bom.sql":    "\uFEFF-- atlas:txmode none\n\n" + concurrently,
			"3_blanks.sql": "-- atlas:txmode none\n \t\n" + concurrently,
			"4_hash.sql":   "# atlas:txmode none\n\n" + concurrently,
			"5_prefix.sql": "-- NOTE atlas:txmode none\n\n" + concurrently,
			"6_crline.sql": "-- atlas:txmode none\r\n\n" + concurrently,
			"7_only.sql":   "-- atlas:txmode none\n-- atlas:txmode sometimes",
		}),
			want: []string{"1_crlf up:1 down:-", "2_bom up:1 down:-", "3_blanks up:1 down:- notx", "4_hash up:1 down:- notx",
				"5_prefix up:1 down:- notx", "6_crline up:1 down:- notx", "7_only up:0 down:-"},
			warns: []string{"1_crlf.sql:1: Atlas ignores", "2_bom.sql:1: Atlas ignores", "7_only.sql:0: migration 7_only has no SQL statement"}},
	})
}

// Atlas also keeps an atlas.sum for folders in another tool's format (--dir-format golang-migrate...).
func TestDetectAtlasSumNextToAnotherFormat(t *testing.T) {
	t.Parallel()
	f, err := Detect(mapFS(map[string]string{"1_a.up.sql": "SELECT 1;", "1_a.down.sql": "SELECT 2;", "atlas.sum": "h1:x\n"}))
	if err != nil || f != FormatGolangMigrate {
		t.Errorf("Detect = %s, %v; want golang-migrate", f, err)
	}
}
