package pg

// builtInPrivilegesSQL reads the privileges on built-in objects (OIDs below 16384: pg_catalog's and
// information_schema's relations, columns, functions, types, schemas and the built-in languages) and on
// objects an extension owns (those and its foreign-data wrappers and servers), one privilege of one
// grantee each, where they differ from the object's initial privileges (see schema.BuiltInPrivilege):
// pg_init_privs, or where it has no row the defaults of the object's kind. initdb grants SELECT on
// information_schema's relations and USAGE on the schema to PUBLIC after it fills pg_init_privs, so
// those count as initial there. The server filters: only objects whose ACL was set (not NULL) and
// differs from the initial one as a whole are taken apart, so a read costs a pass over the built-in
// rows of these catalogs and brings back nothing while no migration granted or revoked on them. The
// rows of user objects no extension owns are left out by OID first, then by an index probe of
// pg_depend for those that have an ACL; columns are read only of the built-in relations and the
// extensions' (found from pg_depend's side), not by a probe per relation of the database. An empty ACL
// (a column with no initial privileges has none) is no array aclexplode takes: nullif makes it no rows. A schema the catalog's own section reads (ns) is left out.
const builtInPrivilegesSQL = `(SELECT coalesce(json_agg(json_build_object('object', o.object, 'on', o.target, 'column', o.col, 'grantee', g.grantee,
      'privilege', g.priv, 'held', g.held, 'initially', g.initially)), '[]')
  FROM (
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'table' END
        || ' ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS object,
      CASE c.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS target, '' AS col,
      c.relacl AS acl, coalesce(ip.initprivs, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)
        || CASE WHEN n.nspname = 'information_schema' THEN ARRAY[makeaclitem(0, c.relowner, 'SELECT', false)] ELSE '{}' END) AS init
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_init_privs ip ON ip.objoid = c.oid AND ip.classoid = 'pg_class'::regclass AND ip.objsubid = 0
    WHERE c.relacl IS NOT NULL AND (c.oid < 16384 OR EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'))
    UNION ALL
    SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'table' END
        || ' ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname),
      'TABLE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname, a.attacl, coalesce(ip.initprivs, '{}')
    FROM (SELECT oid FROM pg_class WHERE oid < 16384
        UNION SELECT e.objid FROM pg_depend e WHERE e.refclassid = 'pg_extension'::regclass AND e.classid = 'pg_class'::regclass AND e.deptype = 'e') r
      JOIN pg_attribute a ON a.attrelid = r.oid JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_init_privs ip ON ip.objoid = a.attrelid AND ip.classoid = 'pg_class'::regclass AND ip.objsubid = a.attnum
    WHERE a.attacl IS NOT NULL AND NOT a.attisdropped
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END || ' ' || x.sig, 'ROUTINE ' || x.sig, '',
      p.proacl, coalesce(ip.initprivs, acldefault('f', p.proowner))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      CROSS JOIN LATERAL (SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
        || '(' || coalesce((SELECT string_agg(format_type(a.t, NULL), ', ' ORDER BY a.i) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY a(t, i)), '') || ')' AS sig) x
      LEFT JOIN pg_init_privs ip ON ip.objoid = p.oid AND ip.classoid = 'pg_proc'::regclass AND ip.objsubid = 0
    WHERE p.proacl IS NOT NULL AND (p.oid < 16384 OR EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e'))
    UNION ALL
    SELECT 'type ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname), 'TYPE ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname), '',
      t.typacl, coalesce(ip.initprivs, acldefault('T', t.typowner))
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_init_privs ip ON ip.objoid = t.oid AND ip.classoid = 'pg_type'::regclass AND ip.objsubid = 0
    WHERE t.typacl IS NOT NULL AND (t.oid < 16384 OR EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'))
    UNION ALL
    SELECT 'schema ' || quote_ident(n.nspname), 'SCHEMA ' || quote_ident(n.nspname), '', n.nspacl, coalesce(ip.initprivs, acldefault('n', n.nspowner)
        || CASE WHEN n.nspname = 'information_schema' THEN ARRAY[makeaclitem(0, n.nspowner, 'USAGE', false)] ELSE '{}' END)
    FROM pg_namespace n LEFT JOIN pg_init_privs ip ON ip.objoid = n.oid AND ip.classoid = 'pg_namespace'::regclass AND ip.objsubid = 0
    WHERE n.nspacl IS NOT NULL AND n.oid NOT IN (SELECT oid FROM ns) AND (n.oid < 16384 OR EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e'))
    UNION ALL
    SELECT 'language ' || quote_ident(l.lanname), 'LANGUAGE ' || quote_ident(l.lanname), '', l.lanacl, coalesce(ip.initprivs, acldefault('l', l.lanowner))
    FROM pg_language l LEFT JOIN pg_init_privs ip ON ip.objoid = l.oid AND ip.classoid = 'pg_language'::regclass AND ip.objsubid = 0
    WHERE l.lanacl IS NOT NULL AND (l.oid < 16384 OR EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_language'::regclass AND e.objid = l.oid AND e.deptype = 'e'))
    UNION ALL
    SELECT 'foreign-data wrapper ' || quote_ident(w.fdwname), 'FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname), '', w.fdwacl, coalesce(ip.initprivs, acldefault('F', w.fdwowner))
    FROM pg_foreign_data_wrapper w LEFT JOIN pg_init_privs ip ON ip.objoid = w.oid AND ip.classoid = 'pg_foreign_data_wrapper'::regclass AND ip.objsubid = 0
    WHERE w.fdwacl IS NOT NULL AND EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_foreign_data_wrapper'::regclass AND e.objid = w.oid AND e.deptype = 'e')
    UNION ALL
    SELECT 'server ' || quote_ident(s.srvname), 'FOREIGN SERVER ' || quote_ident(s.srvname), '', s.srvacl, coalesce(ip.initprivs, acldefault('S', s.srvowner))
    FROM pg_foreign_server s LEFT JOIN pg_init_privs ip ON ip.objoid = s.oid AND ip.classoid = 'pg_foreign_server'::regclass AND ip.objsubid = 0
    WHERE s.srvacl IS NOT NULL AND EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_foreign_server'::regclass AND e.objid = s.oid AND e.deptype = 'e')
  ) o
` + privilegeDifferencesSQL

// privilegeDifferencesSQL takes apart the ACLs of the objects o (object, target, col, acl, init) that
// differ from their initial ones: one row g (grantee, priv, held, initially) per privilege of one
// grantee held otherwise than initially.
const privilegeDifferencesSQL = `  CROSS JOIN LATERAL (SELECT coalesce(i.grantee, b.grantee) AS grantee, coalesce(i.priv, b.priv) AS priv, coalesce(i.held, '') AS held,
      coalesce(b.held, '') AS initially
    FROM (SELECT CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee) END AS grantee, x.privilege_type AS priv,
            CASE WHEN bool_or(x.is_grantable) THEN 'granted with grant option' ELSE 'granted' END AS held
          FROM aclexplode(nullif(o.acl, '{}')) x GROUP BY 1, 2) i
      FULL JOIN (SELECT CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee) END AS grantee, x.privilege_type AS priv,
            CASE WHEN bool_or(x.is_grantable) THEN 'granted with grant option' ELSE 'granted' END AS held
          FROM aclexplode(nullif(o.init, '{}')) x GROUP BY 1, 2) b ON b.grantee = i.grantee AND b.priv = i.priv
    WHERE i.held IS DISTINCT FROM b.held) g
  WHERE o.acl IS DISTINCT FROM o.init)`

// parameterACLRowsSQL is the rows of pg_parameter_acl (GRANT SET / ALTER SYSTEM ON PARAMETER) as XML
// elements, one per parameter, read through table_to_xml so that the query does not name the table:
// PostgreSQL 15 made it, and on an older server to_regclass finds none and this is no row.
const parameterACLRowsSQL = `unnest(xpath('/*/row', table_to_xml(to_regclass('pg_catalog.pg_parameter_acl'), false, false, '')))`

// databasePrivilegesSQL reads the privileges on the current database (GRANT ... ON DATABASE) where they
// differ from its owner's defaults (acldefault), and those on configuration parameters
// (pg_parameter_acl, which has a row only for a parameter some GRANT named: none initially but the
// bootstrap superuser's, which the row's ACL starts with and which are left out), one privilege of one
// grantee each, as builtInPrivilegesSQL does (see schema.BuiltInPrivilege). table_to_xml writes the
// ACL's items one element each, and escapes &, < and > in their text (role names): they are put back
// before each is read as an ACL item.
const databasePrivilegesSQL = `(SELECT coalesce(json_agg(json_build_object('object', o.object, 'on', o.target, 'column', o.col, 'grantee', g.grantee,
      'privilege', g.priv, 'held', g.held, 'initially', g.initially)), '[]')
  FROM (
    SELECT 'the database' AS object, 'DATABASE' AS target, '' AS col, d.datacl AS acl, acldefault('d', d.datdba) AS init
    FROM pg_database d WHERE d.datname = current_database() AND d.datacl IS NOT NULL
    UNION ALL
    SELECT 'parameter ' || p.parname, 'PARAMETER ' || p.parname, '', p.acl, '{}'::aclitem[]
    FROM (SELECT (xpath('/row/parname/text()', r))[1]::text AS parname,
        ARRAY(SELECT a FROM unnest(xpath('/row/paracl/element/text()', r)) e,
            CAST(replace(replace(replace(e::text, '&lt;', '<'), '&gt;', '>'), '&amp;', '&') AS aclitem) a
          WHERE NOT EXISTS (SELECT 1 FROM aclexplode(ARRAY[a]) x WHERE x.grantee = 10)) AS acl
      FROM ` + parameterACLRowsSQL + ` r) p
  ) o
` + privilegeDifferencesSQL

// builtInPrivilegeReasons are the probe's reasons for a whole read that GRANT and REVOKE on built-in
// objects and extensions' objects give: they write the object's row and lock nothing, and only whole
// reads have these privileges (see builtInPrivilegesSQL). The built-in rows written since the mark are
// found by a pass over the built-in range of pg_class, pg_proc, pg_type and pg_language (pg_namespace
// is read whole by the probe already; an extension's foreign-data wrappers and servers have user OIDs,
// which it reads too); the user-range rows it has read already (new_class, new_proc, new_type) are
// looked up in pg_depend by index (OFFSET 0 keeps each look-up a subquery: joined, the generic plan
// hashes all of pg_depend whenever a migration wrote a row). A column's privileges rewrite
// pg_attribute rows: the script's text has the read after it be whole (see UnseenChanges).
//
// The pass costs a third of a probe that finds nothing, and only GRANT, REVOKE and a few other
// statements write those rows: it runs only when the input asks for it (builtins, see Ran). The
// condition is a subquery on no row of the catalogs, which the plan checks once, before it starts the
// scans (a one-time filter), so a probe that does not ask for them reads none of these rows.
const builtInPrivilegeReasons = `  UNION ALL SELECT 'privileges on built-in ' || x.k FROM (
      SELECT 'relation ' || x.oid::regclass::text AS k FROM pg_class x, h WHERE x.oid < 16384 AND age(x.xmin) <= age(h.h)
      UNION ALL SELECT 'function ' || x.oid::regprocedure::text FROM pg_proc x, h WHERE x.oid < 16384 AND age(x.xmin) <= age(h.h)
      UNION ALL SELECT 'type ' || x.oid::regtype::text FROM pg_type x, h WHERE x.oid < 16384 AND age(x.xmin) <= age(h.h)
      UNION ALL SELECT 'language ' || x.lanname FROM pg_language x, h WHERE x.oid < 16384 AND age(x.xmin) <= age(h.h)) x
    WHERE (SELECT b FROM builtins)
  UNION ALL SELECT 'an extension member changed' FROM (SELECT 'pg_class'::regclass::oid AS c, oid FROM new_class
      UNION ALL SELECT 'pg_proc'::regclass, oid FROM new_proc UNION ALL SELECT 'pg_type'::regclass, oid FROM new_type) x
    WHERE EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = x.c AND d.objid = x.oid AND d.deptype = 'e' OFFSET 0)
`

// databaseCommentSQL is the comment on the database d (COMMENT ON DATABASE), NULL for none, for the
// mark a url run writes there (sandbox's urlMarkPrefix), which is schemagate's and changes as the run
// records the roles its migrations create, and for the comment initdb gives database postgres (the
// rehearsal's database on the local and docker providers), which is the throwaway server's: a down
// that removes the comment its up wrote (COMMENT ... IS NULL) leaves it as production has it.
const databaseCommentSQL = `(SELECT s.description FROM pg_shdescription s WHERE s.objoid = d.oid AND s.classoid = 'pg_database'::regclass
      AND s.description NOT LIKE 'schemagate rehearsal database %'
      AND NOT (d.datname = 'postgres' AND s.description = 'default administrative connection database'))`
