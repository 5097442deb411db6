package lint

import (
	"strings"
	"testing"
)

// TestMessagesKeepIdentifierCase: a quoted mixed-case name is a different name from its lower-case
// spelling, so findings show every name as PostgreSQL knows it (the parser has already folded the
// unquoted ones), and the SQL of a suggestion quotes the names that need it.
func TestMessagesKeepIdentifierCase(t *testing.T) {
	t.Parallel()
	schema := `CREATE TABLE "Tenant" (id bigint PRIMARY KEY);
CREATE TABLE "Action" (id bigint PRIMARY KEY, "tenantId" bigint, "ownerId" bigint, "parentId" bigint, "Name" text, "createdAt" timestamp,
  CONSTRAINT "Action_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant" (id),
  CONSTRAINT "Action_Name_check" CHECK ("Name" <> ''),
  CONSTRAINT "Action_parentId_nn" CHECK ("parentId" IS NOT NULL));
CREATE UNIQUE INDEX "Action_tenantId_id_key" ON "Action" ("tenantId", id);
CREATE TYPE "Status" AS ENUM ('a', 'b');
`
	tests := []struct {
		name       string
		src        string
		rule       string
		message    []string // what the finding's message must contain
		suggestion []string // what its suggestion must contain
		absent     bool     // the rule must not fire
	}{
		{"drop constraint", `ALTER TABLE "Action" DROP CONSTRAINT "Action_tenantId_fkey";`, "drop-constraint",
			[]string{"DROP CONSTRAINT Action_tenantId_fkey on Action"}, nil, false},
		{"drop index", `DROP INDEX "Action_tenantId_id_key";`, "drop-index-blocking", []string{"Action_tenantId_id_key"}, nil, false},
		{"rename column", `ALTER TABLE "Action" RENAME COLUMN "Name" TO "FullName";`, "rename-column", []string{"Action.Name TO FullName"}, nil, false},
		{"drop column", `ALTER TABLE "Action" DROP COLUMN "createdAt";`, "drop-column", []string{"DROP COLUMN Action.createdAt"}, nil, false},
		{"add foreign key", `ALTER TABLE "Action" ADD CONSTRAINT "Action_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "Tenant" (id);`, "add-foreign-key",
			[]string{"scans Action and Tenant"}, nil, false},
		{"foreign key without index", `ALTER TABLE "Action" ADD CONSTRAINT "Action_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "Tenant" (id);`, "fk-missing-index",
			[]string{"no index on Action (ownerId)"}, []string{`CREATE INDEX CONCURRENTLY "Action_ownerId_idx" ON "Action" ("ownerId");`}, false},
		{"foreign key with index", `ALTER TABLE "Action" ADD CONSTRAINT "Action_tenantId_fkey2" FOREIGN KEY ("tenantId") REFERENCES "Tenant" (id);`, "fk-missing-index",
			nil, nil, true},
		{"set not null", `ALTER TABLE "Action" ALTER COLUMN "tenantId" SET NOT NULL;`, "set-not-null",
			[]string{"SET NOT NULL on Action.tenantId"},
			[]string{`ALTER TABLE "Action" ADD CONSTRAINT "tenantId_not_null" CHECK ("tenantId" IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT "tenantId_not_null"`}, false},
		{"set not null proven by a quoted column's check", `ALTER TABLE "Action" ALTER COLUMN "parentId" SET NOT NULL;`, "set-not-null-proven",
			[]string{"Action.parentId", `("parentId" IS NOT NULL)`}, nil, false},
		{"drop not null", `ALTER TABLE "Action" ALTER COLUMN "tenantId" DROP NOT NULL;`, "drop-not-null", []string{"Action.tenantId"}, nil, false},
		{"type change", `ALTER TABLE "Action" ALTER COLUMN "tenantId" TYPE text;`, "change-column-type-rewrite", []string{"Action.tenantId"}, nil, false},
		{"type change of a checked column", `ALTER TABLE "Action" ALTER COLUMN "Name" TYPE varchar(10);`, "change-column-type-with-checks",
			[]string{"Action.Name is used by CHECK Action_Name_check"}, nil, false},
		{"check constraint", `ALTER TABLE "Action" ADD CONSTRAINT "Action_Positive" CHECK (id > 0);`, "add-check-constraint",
			[]string{"ADD CONSTRAINT Action_Positive CHECK scans Action"}, nil, false},
		{"validate in the same transaction", "ALTER TABLE \"Action\" ADD CONSTRAINT \"Action_Positive\" CHECK (id > 0) NOT VALID;\nALTER TABLE \"Action\" VALIDATE CONSTRAINT \"Action_Positive\";",
			"validate-in-same-transaction", []string{"VALIDATE CONSTRAINT Action_Positive"}, nil, false},
		{"column defined twice", `CREATE TABLE "Item" ("Id" bigint, "Id" bigint);`, "duplicate-column-assignment", []string{"column Id is defined twice"}, nil, false},
		{"columns differing in case", `CREATE TABLE "Item" ("Id" bigint, id bigint);`, "duplicate-column-assignment", nil, nil, true},
		{"column assigned twice", `UPDATE "Action" SET "Name" = 'x', "Name" = 'y' WHERE id = 1;`, "duplicate-column-assignment", []string{"column Name is assigned twice"}, nil, false},
		{"columns assigned differing in case", `UPDATE "Action" SET "Name" = 'x', name = 'y' WHERE id = 1;`, "duplicate-column-assignment", nil, nil, true},
		{"enum value renamed", `ALTER TYPE "Status" RENAME VALUE 'a' TO 'c';`, "enum-rename-value", []string{"of Status"}, nil, false},
		{"enum created", `CREATE TYPE "Mood" AS ENUM ('ok');`, "create-enum", []string{"enum Mood"}, nil, false},
		{"procedure called", `CALL "Backfill"();`, "opaque-statement", []string{"CALL Backfill()"}, nil, false},
		{"role switched", `SET ROLE "Deployer";`, "switch-role", []string{"SET ROLE Deployer"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: schema})
			f := find(fs, tt.rule)
			switch {
			case tt.absent && f != nil:
				t.Fatalf("%s fired: %v", tt.rule, f)
			case tt.absent:
				return
			case f == nil:
				t.Fatalf("no %s in %v", tt.rule, fs)
			}
			for _, s := range tt.message {
				if !strings.Contains(f.Message, s) {
					t.Errorf("message %q does not contain %q", f.Message, s)
				}
			}
			for _, s := range tt.suggestion {
				if !strings.Contains(f.Suggestion, s) {
					t.Errorf("suggestion %q does not contain %q", f.Suggestion, s)
				}
			}
		})
	}
}

// TestQuoteIdent: names are quoted in SQL exactly when PostgreSQL's quote_ident would quote them.
func TestQuoteIdent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"users", "users"},
		{"user_id2", "user_id2"},
		{"_x", "_x"},
		{"x$", `"x$"`}, // legal unquoted, but quote_ident quotes it too
		{"Action", `"Action"`},
		{"tenantId", `"tenantId"`},
		{"2fa", `"2fa"`},
		{"my table", `"my table"`},
		{`say"hi`, `"say""hi"`},
		{"order", `"order"`}, // reserved
		{"user", `"user"`},   // reserved
		{"int", `"int"`},     // column-name keyword
		{"name", "name"},     // unreserved keyword
		{"comment", "comment"},
		{"", `""`},
	} {
		if got := quoteIdent(c.in); got != c.want {
			t.Errorf("quoteIdent(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestNamesDifferingInCase: columns and constraints whose names differ only in letter case are
// different objects (the parser has folded the unquoted names), so the state keeps them apart: a CHECK
// on "Bar" proves nothing of bar, and a change of amount's type is judged from amount's type, not from
// that of "Amount" (each checked on PostgreSQL 15: the SET NOT NULL scans, the type change rewrites).
func TestNamesDifferingInCase(t *testing.T) {
	t.Parallel()
	schema := `CREATE TABLE w (bar int, "Bar" int, amount int, "Amount" text, baz int);
ALTER TABLE w ADD CONSTRAINT c CHECK ("Bar" IS NOT NULL);
ALTER TABLE w ADD CONSTRAINT baz_nn CHECK (baz IS NOT NULL);
`
	tests := []struct {
		name, src, rule string
		message         string
	}{
		{"check on another column", "ALTER TABLE w ALTER COLUMN bar SET NOT NULL;", "set-not-null", "SET NOT NULL on w.bar scans"},
		{"check on the column", `ALTER TABLE w ALTER COLUMN "Bar" SET NOT NULL;`, "set-not-null-proven", `("Bar" IS NOT NULL)`},
		{"check added and validated on another column", `ALTER TABLE w ADD CONSTRAINT d CHECK ("Bar" IS NOT NULL) NOT VALID;
ALTER TABLE w VALIDATE CONSTRAINT d;
ALTER TABLE w ALTER COLUMN bar SET NOT NULL;`, "set-not-null", "SET NOT NULL on w.bar scans"},
		{"type of the column, not of another", "ALTER TABLE w ALTER COLUMN amount TYPE text;", "change-column-type-rewrite", "w.amount changes type to text"},
		{"another constraint dropped", `ALTER TABLE w DROP CONSTRAINT IF EXISTS "BAZ_NN";
ALTER TABLE w ALTER COLUMN baz SET NOT NULL;`, "set-not-null-proven", "(baz IS NOT NULL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: schema})
			f := find(fs, tt.rule)
			if f == nil {
				t.Fatalf("no %s in %v", tt.rule, fs)
			}
			if !strings.Contains(f.Message, tt.message) {
				t.Errorf("message %q does not contain %q", f.Message, tt.message)
			}
		})
	}
}
