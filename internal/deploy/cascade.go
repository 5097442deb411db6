package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
)

// cascadeSQL lists what DROP ... CASCADE of an object (class $1, OID $2) drops that holds data: tables,
// and columns of tables and of composite types (whose values tables may hold), as pg_describe_object
// names them, the first three and how many in all. It follows pg_depend as the server's drop does: every
// object that depends on one dropped (normally, automatically, internally or as an extension's member)
// is dropped too, and so is the object one dropped is an internal part of (the composite type's relation
// for its row type). A view, index, constraint, default or function dropped loses no data.
const cascadeSQL = `
WITH RECURSIVE dropped(classid, objid, objsubid) AS (
    SELECT $1::regclass::oid, $2::oid, 0
  UNION
    SELECT CASE WHEN fwd THEN d.classid ELSE d.refclassid END, CASE WHEN fwd THEN d.objid ELSE d.refobjid END,
           CASE WHEN fwd THEN d.objsubid ELSE 0 END
      FROM dropped x JOIN pg_depend d
        ON (d.refclassid = x.classid AND d.refobjid = x.objid AND (x.objsubid = 0 OR d.refobjsubid = x.objsubid)
            AND d.deptype IN ('n', 'a', 'i', 'e', 'x'))
        OR (x.objsubid = 0 AND d.classid = x.classid AND d.objid = x.objid AND d.deptype = 'i'),
      LATERAL (SELECT d.refclassid = x.classid AND d.refobjid = x.objid AS fwd) f
), data AS (
  SELECT pg_describe_object(x.classid, x.objid, x.objsubid) AS what
    FROM dropped x JOIN pg_class c ON x.classid = 'pg_class'::regclass AND c.oid = x.objid
   WHERE c.relkind IN ('r', 'p') OR c.relkind = 'c' AND x.objsubid > 0
)
SELECT coalesce((SELECT string_agg(what, ', ') FROM (SELECT what FROM data ORDER BY what LIMIT 3) w), ''),
       (SELECT count(*) FROM data)`

// referencesSQL lists the foreign keys that reference table $1 or a partitioned table it is a partition
// of (its partitions have those keys too), other than from those tables themselves: one line each, the
// table it belongs to (its catalog key, schema.Key: a name holding a dot, a quote or a parenthesis in
// double quotes), its ON DELETE action (confdeltype) and its columns, tab-separated
// (dbRefs reads them). Keys cloned onto partitions (conparentid) are their parent's.
const referencesSQL = `
WITH target AS (SELECT $1::oid AS relid UNION SELECT relid FROM pg_partition_ancestors($1::oid))
SELECT coalesce(string_agg(CASE WHEN n.nspname = '' OR n.nspname ~ '[."(]' THEN '"' || replace(n.nspname, '"', '""') || '"' ELSE n.nspname END || '.' ||
         CASE WHEN c.relname = '' OR c.relname ~ '[."(]' THEN '"' || replace(c.relname, '"', '""') || '"' ELSE c.relname END || E'\t' || k.confdeltype::text || E'\t' ||
         (SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)),
         E'\n' ORDER BY n.nspname, c.relname, k.conname), '')
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE k.contype = 'f' AND k.conparentid = 0 AND k.confrelid IN (SELECT relid FROM target)
   AND k.conrelid NOT IN (SELECT relid FROM target)`

// readCascades reads, before the run changes anything, what each DROP TYPE, DROP DOMAIN and DROP
// EXTENSION with CASCADE of the pending ups would take with it (cascadeSQL), for upLosesData: by "type
// name" ("domain name", "extension name") as the drop writes the name, "" for nothing that holds data
// (also for one the database does not have: the run creates it, or the drop finds none). A name it
// could not read is left out: its drop counts as one that loses data. Only the database as it is before
// the first up can say it: once the up has run, what it dropped is gone.
//
// It reads too the foreign keys that reference the tables from before the run that the migrations'
// TRUNCATE ... CASCADE and the ups' DELETE reach (factsNeeded, referencesSQL), for downLosesData and
// upLosesData (links.empty): by "references schema.table", "" for none (also for a table the database
// does not have). An up may drop or change them before the rollback, and a partition the run creates
// inherits those of its parents before the down runs.
func (d *deployer) readCascades(ctx context.Context, pending []*migrate.Migration) {
	if d.cascades == nil {
		d.cascades = map[string]string{}
	}
	if d.conn == nil || d.conn.IsClosed() {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, m := range pending {
		for _, l := range analyze(m.Up).Losses {
			key := l.object + " " + l.relation
			if _, done := d.cascades[key]; l.what != "cascade" || done {
				continue
			}
			var oid *uint32
			var class string
			var err error
			if l.object == "extension" {
				class = "pg_extension"
				err = d.conn.QueryRow(ctx, "SELECT (SELECT oid FROM pg_extension WHERE extname = $1)", l.relation).Scan(&oid)
			} else {
				class = "pg_type"
				err = d.conn.QueryRow(ctx, "SELECT to_regtype($1)::oid", pgx.Identifier(strings.Split(l.relation, ".")).Sanitize()).Scan(&oid)
			}
			if err != nil {
				d.log.Warn("read what a drop with CASCADE takes with it", "object", key, "error", err)
				continue
			}
			if oid == nil {
				d.cascades[key] = ""
				continue
			}
			var took string
			var n int
			if err := d.conn.QueryRow(ctx, cascadeSQL, class, *oid).Scan(&took, &n); err != nil {
				d.log.Warn("read what a drop with CASCADE takes with it", "object", key, "error", err)
				continue
			}
			if n > 3 {
				took += fmt.Sprintf(" and %d more", n-3)
			}
			d.cascades[key] = took
		}
	}
	for _, name := range factsNeeded(pending, d.o.Set.SearchPath) {
		key := dbKey(name)
		if _, done := d.cascades[key]; done {
			continue
		}
		var oid *uint32
		if err := d.conn.QueryRow(ctx, "SELECT to_regclass($1)::oid", regName(name)).Scan(&oid); err != nil {
			d.log.Warn("read the foreign keys that reference a table", "table", name, "error", err)
			continue
		}
		if oid == nil {
			d.cascades[key] = ""
			continue
		}
		var refs string
		if err := d.conn.QueryRow(ctx, referencesSQL, *oid).Scan(&refs); err != nil {
			d.log.Warn("read the foreign keys that reference a table", "table", name, "error", err)
			continue
		}
		d.cascades[key] = refs
	}
}
