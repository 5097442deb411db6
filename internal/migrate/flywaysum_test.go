package migrate

import "testing"

// TestFlywayChecksum: the checksum Flyway computes (ChecksumCalculator.calculateChecksumForResource): a
// CRC-32 of each line's UTF-8 bytes, line breaks and a byte order mark left out, lines not trimmed.
// The values are java.util.zip.CRC32 of the lines put together (zlib's crc32 of the same bytes), as
// signed 32-bit numbers.
func TestFlywayChecksum(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       int32
	}{
		{"two lines", "a\nb", -1635563411},
		{"one line ending in a newline", "CREATE TABLE a (id int);\n", -623083431},
		{"no final newline", "CREATE TABLE a (id int);", -623083431},
		{"line breaks at the end", "CREATE TABLE a (id int);\n\n\n", -623083431},
		{"an empty line inserted", "\nCREATE TABLE a (id int);\n", -623083431},
		{"CRLF", "CREATE TABLE a (id int);\r\n", -623083431},
		{"CR alone", "CREATE TABLE a (id int);\r", -623083431},
		{"byte order mark", "\uFEFFCREATE TABLE a (id int);\n", -623083431},
		{"trailing spaces on the last line", "CREATE TABLE a (id int);   \n", -1100117815},
		{"trailing spaces, no final newline", "CREATE TABLE a (id int);   ", -1100117815},
		{"a blank line of spaces counts", "SELECT 1;\n  \n", FlywayChecksum("SELECT 1;  ")},
		{"select", "SELECT 1;\n", 78787420},
	} {
		if got := FlywayChecksum(tc.text); got != tc.want {
			t.Errorf("%s: FlywayChecksum(%q) = %d, want %d", tc.name, tc.text, got, tc.want)
		}
	}
}

// TestFlywaySameText: an applied Flyway script is judged by Flyway's checksum, which the deploy and the
// rehearsal then agree with: an empty line inserted, other line endings or a byte order mark leave it
// the same script; blank space added at the end of its last line, which Flyway's validate refuses,
// does not. Other formats keep trimming the script's end.
func TestFlywaySameText(t *testing.T) {
	const applied = "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n"
	for _, tc := range []struct {
		name   string
		format Format
		file   string
		now    string
		same   bool
	}{
		{"flyway, empty line inserted", FormatFlyway, "V1__a.sql", "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n", true},
		{"flyway, trailing spaces on the last line", FormatFlyway, "V1__a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);   \n", false},
		{"flyway, CRLF", FormatFlyway, "V1__a.sql", "CREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\n", true},
		{"flyway, byte order mark", FormatFlyway, "V1__a.sql", "\uFEFF" + applied, true},
		{"flyway, line breaks at the end", FormatFlyway, "V1__a.sql", applied + "\n\n", true},
		{"flyway, edited", FormatFlyway, "V1__a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (2);\n", false},
		// Flyway's checksum is the same (the lines put together do not change), but a new database runs
		// other statements: an edit still.
		{"flyway, a line split in two", FormatFlyway, "V1__a.sql", "CREATE TABLE a (id int);INSERT\n INTO a VALUES (1);\n", false},
		{"golang-migrate, trailing spaces", FormatGolangMigrate, "1_a.up.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);   \n", true},
		{"golang-migrate, empty line inserted", FormatGolangMigrate, "1_a.up.sql", "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := func(text string) *Migration {
				set, err := Read(mapFS(map[string]string{tc.file: text}), tc.format)
				if err != nil || len(set.Migrations) != 1 {
					t.Fatalf("read: %v", err)
				}
				return set.Migrations[0]
			}
			was, now := read(applied), read(tc.now)
			if got := now.SameText(was); got != tc.same {
				t.Errorf("SameText = %v, want %v", got, tc.same)
			}
			if got := SameScript(now.Up, was.Up); got != tc.same {
				t.Errorf("SameScript = %v, want %v", got, tc.same)
			}
			if tc.format != FormatFlyway {
				return
			}
			split := tc.name == "flyway, a line split in two"
			if FlywayChecksum(now.Up.text()) == FlywayChecksum(was.Up.text()) != (tc.same || split) {
				t.Errorf("Flyway's checksums %d and %d, want them equal = %v", FlywayChecksum(now.Up.text()), FlywayChecksum(was.Up.text()), tc.same || split)
			}
			// A deploy records the up's checksum in Flyway's form: the deploy takes the up for the
			// applied one as the rehearsal does.
			if got := now.UpChecksumMatches(was.UpChecksum()); got != tc.same {
				t.Errorf("UpChecksumMatches = %v, want %v", got, tc.same)
			}
			// The whole migration's checksum is of its text as written (approvals are of it): an empty
			// line inserted within cannot be told from it, the other forms can.
			if tc.name != "flyway, empty line inserted" {
				if got := now.ChecksumMatches(was.Checksum); got != tc.same {
					t.Errorf("ChecksumMatches = %v, want %v", got, tc.same)
				}
			}
			// A row recorded before the up's checksum was Flyway's form holds the up as written.
			legacy := upChecksum(was.Up, func(s string) string { return s })
			if got := now.UpChecksumMatches(legacy); got != (tc.same && tc.name != "flyway, empty line inserted") {
				t.Errorf("UpChecksumMatches(the up as written) = %v, want %v", got, !got)
			}
		})
	}
}
