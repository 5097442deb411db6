package snapshot

import (
	"context"
	"fmt"
)

// Obstacle is an object of the database that a restore of a snapshot taken now could not drop or
// recreate as the role it connects as.
type Obstacle struct {
	// Object is PostgreSQL's description of it ("table public.app_cache", "schema ops").
	Object string
	// Owner is its owner.
	Owner string
	// Superuser is set when recreating it takes a superuser whoever owns it (an event trigger, a
	// foreign-data wrapper, an access method, an untrusted language or extension).
	Superuser bool
	// Privilege, when set, is what the role lacks instead of acting as the owner: "CREATE on schema
	// public" (to create its objects again), "CREATE on database app" (to create its schemas again).
	Privilege string
	// OwnerLacks, when set, is what the owner lacks that giving the object back to it takes, while the
	// role may act as the owner: ALTER ... OWNER TO needs the new owner to have CREATE on the object's
	// schema ("CREATE on schema public"), or on the database for a publication.
	OwnerLacks string
	// Fix says how to give the owner what it lacks when OwnerLacks is set: a GRANT, or for a schema the
	// restore creates again (whose grants come back only after its objects) whom to give what.
	Fix string
}

// Obstacles lists what would make a restore of a snapshot taken now fail for lack of privileges, as
// restore performs it: role is the role the restore connects as. The clear drops every object of the
// restored schemas (all but ExcludeSchemas and the system's: public and the schemas extensions own or are
// in it keeps, setting back their owner, comment and grants to the snapshot's where a migration changed
// them, which a schema nothing changed needs nothing of its owner for), and the dump's SQL creates each
// again and gives it back to its owner (ALTER ... OWNER TO), restores the default privileges of each role
// (ALTER DEFAULT PRIVILEGES FOR ROLE) and the grants on the objects of the extensions, which it keeps
// (with their comments: the restore comments only on one whose comment changed since the snapshot,
// which took the privileges of its owner).
// Each of these needs the restoring role to act as the owner: a superuser, or a member of the owner that
// has its privileges (pg_has_role USAGE) and, from PostgreSQL 16, may SET ROLE to it; and the owner, when
// it is another role, needs CREATE on the object's schema (on the database for a publication). It
// returns at most limit obstacles (all when limit <= 0) and how many there are. It changes nothing.
func (p *PGDump) Obstacles(ctx context.Context, limit int) (role string, obs []Obstacle, total int, err error) {
	c, err := connect(ctx, p.URL)
	if err != nil {
		return "", nil, 0, fmt.Errorf("connect: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	rows, err := c.Query(ctx, obstaclesSQL, p.ExcludeSchemas)
	if err != nil {
		return "", nil, 0, fmt.Errorf("read owners: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o Obstacle
		if err := rows.Scan(&role, &o.Object, &o.Owner, &o.Superuser, &o.Privilege, &o.OwnerLacks, &o.Fix); err != nil {
			return "", nil, 0, fmt.Errorf("read owners: %w", err)
		}
		total++
		if limit <= 0 || len(obs) < limit {
			obs = append(obs, o)
		}
	}
	if err := rows.Err(); err != nil {
		return "", nil, 0, fmt.Errorf("read owners: %w", err)
	}
	if role == "" {
		err = c.QueryRow(ctx, "SELECT current_user").Scan(&role)
	}
	return role, obs, total, err
}

// obstaclesSQL lists the objects the restore drops and recreates, or keeps and grants on, that the
// current role cannot act as the owner of ($1: the excluded schemas). Objects of extensions are left
// out, but for their grants: the extension, which stays, keeps them. It follows clearScript, filterTOC
// and what pg_dump writes.
const obstaclesSQL = `
WITH me AS (
  SELECT rolsuper AS super, current_setting('server_version_num')::int >= 160000 AS has_set FROM pg_roles WHERE rolname = current_user
), restored AS (
  SELECT oid FROM pg_namespace
   WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' AND NOT nspname = ANY (coalesce($1::text[], ARRAY[]::text[]))
), kept AS (
  -- The restored schemas the clear empties instead of dropping them: public and those an extension owns
  -- or is in. Their owner, comment and grants come back from the snapshot's manifest where a migration
  -- changed them, and the dump's are left out: one nothing changed needs nothing of its owner (an
  -- admin's schema of extensions), nor CREATE on the database.
  SELECT oid FROM restored r
   WHERE r.oid IN (SELECT oid FROM pg_namespace WHERE nspname = 'public')
      OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = r.oid AND d.deptype = 'e')
      OR EXISTS (SELECT 1 FROM pg_extension e WHERE e.extnamespace = r.oid)
), objs AS (
  SELECT 'pg_namespace'::regclass AS c, n.oid AS o, n.nspowner AS owner, false AS su, 0::oid AS ns FROM pg_namespace n
   WHERE n.oid IN (SELECT oid FROM restored) AND n.oid NOT IN (SELECT oid FROM kept)
  UNION ALL SELECT 'pg_class'::regclass, oid, relowner, false, relnamespace FROM pg_class
   WHERE relnamespace IN (SELECT oid FROM restored) AND relkind IN ('r','p','v','m','f','S','c')
  UNION ALL SELECT 'pg_proc'::regclass, oid, proowner, false, pronamespace FROM pg_proc WHERE pronamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_type'::regclass, t.oid, t.typowner, false, t.typnamespace FROM pg_type t
   WHERE t.typnamespace IN (SELECT oid FROM restored) AND t.typtype IN ('b','d','e','r','m','p')
     AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
  UNION ALL SELECT 'pg_collation'::regclass, oid, collowner, false, collnamespace FROM pg_collation WHERE collnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_conversion'::regclass, oid, conowner, false, connamespace FROM pg_conversion WHERE connamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_operator'::regclass, oid, oprowner, false, oprnamespace FROM pg_operator WHERE oprnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfowner, false, opfnamespace FROM pg_opfamily WHERE opfnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_opclass'::regclass, oid, opcowner, false, opcnamespace FROM pg_opclass WHERE opcnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgowner, false, cfgnamespace FROM pg_ts_config WHERE cfgnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictowner, false, dictnamespace FROM pg_ts_dict WHERE dictnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_parser'::regclass, oid, 10, true, prsnamespace FROM pg_ts_parser WHERE prsnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_template'::regclass, oid, 10, true, tmplnamespace FROM pg_ts_template WHERE tmplnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_statistic_ext'::regclass, oid, stxowner, false, stxnamespace FROM pg_statistic_ext WHERE stxnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_default_acl'::regclass, oid, defaclrole, false, 0::oid FROM pg_default_acl
   WHERE defaclnamespace = 0 OR defaclnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_largeobject'::regclass, oid, lomowner, false, 0::oid FROM pg_largeobject_metadata
  UNION ALL SELECT 'pg_publication'::regclass, oid, pubowner, puballtables, 0::oid FROM pg_publication
  UNION ALL SELECT 'pg_foreign_server'::regclass, oid, srvowner, false, 0::oid FROM pg_foreign_server
  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, fdwowner, true, 0::oid FROM pg_foreign_data_wrapper
  UNION ALL SELECT 'pg_language'::regclass, oid, lanowner, NOT lanpltrusted, 0::oid FROM pg_language WHERE oid >= 16384
  UNION ALL SELECT 'pg_event_trigger'::regclass, oid, evtowner, true, 0::oid FROM pg_event_trigger
  UNION ALL SELECT 'pg_am'::regclass, oid, 10, true, 0::oid FROM pg_am WHERE oid >= 16384
), granted AS (
  -- The objects of the extensions the dump holds (which stay) whose grants differ from those the
  -- extension's script left (pg_init_privs), or whose columns' do: pg_dump writes nothing else of them,
  -- but grants and revokes the difference again, which takes the privileges of their owner. The
  -- extensions themselves need none: the restore leaves out the dump's COMMENT ON EXTENSION of those
  -- whose comment is still the snapshot's, which only a role with their owner's privileges can change.
  SELECT s.c, s.o, s.owner FROM (
    SELECT 'pg_class'::regclass AS c, oid AS o, relowner AS owner, relacl AS acl, (CASE relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char" AS k FROM pg_class
    UNION ALL SELECT 'pg_proc'::regclass, oid, proowner, proacl, 'f' FROM pg_proc
    UNION ALL SELECT 'pg_type'::regclass, oid, typowner, typacl, 'T' FROM pg_type
    UNION ALL SELECT 'pg_namespace'::regclass, oid, nspowner, nspacl, 'n' FROM pg_namespace
    UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, fdwowner, fdwacl, 'F' FROM pg_foreign_data_wrapper
    UNION ALL SELECT 'pg_foreign_server'::regclass, oid, srvowner, srvacl, 'S' FROM pg_foreign_server
    UNION ALL SELECT 'pg_language'::regclass, oid, lanowner, lanacl, 'l' FROM pg_language
  ) s
  JOIN pg_depend d ON d.classid = s.c AND d.objid = s.o AND d.objsubid = 0 AND d.deptype = 'e'
   AND d.refclassid = 'pg_extension'::regclass AND d.refobjid >= 16384
  LEFT JOIN pg_init_privs i ON i.classoid = s.c AND i.objoid = s.o AND i.objsubid = 0
  WHERE ARRAY(SELECT a::text FROM unnest(coalesce(s.acl, acldefault(s.k, s.owner))) a ORDER BY 1)
        <> ARRAY(SELECT a::text FROM unnest(coalesce(i.initprivs, acldefault(s.k, s.owner))) a ORDER BY 1)
     OR s.c = 'pg_class'::regclass AND EXISTS (
          SELECT 1 FROM pg_attribute t LEFT JOIN pg_init_privs ci ON ci.classoid = s.c AND ci.objoid = s.o AND ci.objsubid = t.attnum
           WHERE t.attrelid = s.o AND t.attnum > 0 AND NOT t.attisdropped
             AND ARRAY(SELECT a::text FROM unnest(coalesce(t.attacl, '{}')) a ORDER BY 1)
                 <> ARRAY(SELECT a::text FROM unnest(coalesce(ci.initprivs, '{}')) a ORDER BY 1))
)
SELECT current_user::text, pg_describe_object(s.c, s.o, 0), coalesce(pg_get_userbyid(s.owner)::text, s.owner::text), s.su, '', '', ''
  FROM objs s, me
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = s.c AND d.objid = s.o AND d.deptype = 'e')
   AND NOT me.super
   AND (s.su OR NOT (pg_has_role(s.owner, 'USAGE') AND CASE WHEN me.has_set THEN pg_has_role(s.owner, 'SET') ELSE true END))
UNION ALL
SELECT current_user::text, pg_describe_object(g.c, g.o, 0), coalesce(pg_get_userbyid(g.owner)::text, g.owner::text), false, '', '', ''
  FROM granted g, me
 WHERE NOT me.super AND NOT pg_has_role(g.owner, 'USAGE')
-- Giving an object back to another owner (ALTER ... OWNER TO) also takes the new owner's CREATE on the
-- object's schema (on the database for a publication). public and the schemas extensions own or are in
-- keep their grants through the restore; a schema the restore creates again gets its grants back only
-- after its objects went to their owners (pg_dump's ACLs come last), so there the owner must have the
-- privileges of the schema's owner.
UNION ALL
SELECT current_user::text, pg_describe_object(s.c, s.o, 0), pg_get_userbyid(s.owner)::text, false, '',
       CASE WHEN s.c = 'pg_publication'::regclass THEN 'CREATE on database ' || quote_ident(current_database())
            ELSE 'CREATE on schema ' || quote_ident(n.nspname) END,
       CASE WHEN s.c = 'pg_publication'::regclass THEN format('GRANT CREATE ON DATABASE %I TO %I', current_database(), pg_get_userbyid(s.owner))
            WHEN n.oid IN (SELECT oid FROM kept) THEN format('GRANT CREATE ON SCHEMA %I TO %I', n.nspname, pg_get_userbyid(s.owner))
            ELSE format('give schema %I to %I (ALTER SCHEMA %I OWNER TO %I) or %s to the schema''s owner %I: the restore creates the schema again owned by %I and grants CREATE on it to others only after its objects',
                        n.nspname, pg_get_userbyid(s.owner), n.nspname, pg_get_userbyid(s.owner), pg_describe_object(s.c, s.o, 0), pg_get_userbyid(n.nspowner), pg_get_userbyid(n.nspowner)) END
  FROM objs s LEFT JOIN pg_namespace n ON n.oid = s.ns, me
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = s.c AND d.objid = s.o AND d.deptype = 'e')
   AND NOT me.super AND NOT s.su
   AND s.owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
   AND pg_has_role(s.owner, 'USAGE') AND CASE WHEN me.has_set THEN pg_has_role(s.owner, 'SET') ELSE true END
   AND CASE WHEN s.c = 'pg_publication'::regclass
            THEN NOT has_database_privilege(s.owner, (SELECT oid FROM pg_database WHERE datname = current_database()), 'CREATE')
            WHEN n.oid IS NULL THEN false
            WHEN n.oid IN (SELECT oid FROM kept) THEN NOT has_schema_privilege(s.owner, n.oid, 'CREATE')
            ELSE NOT pg_has_role(s.owner, n.nspowner, 'USAGE') END
-- The objects of the kept schemas are created again in them, the other schemas and the publications in
-- the database.
UNION ALL
SELECT current_user::text, 'schema ' || quote_ident(n.nspname), pg_get_userbyid(n.nspowner)::text, false, 'CREATE on schema ' || quote_ident(n.nspname), '', ''
  FROM pg_namespace n, me
 WHERE n.oid IN (SELECT oid FROM kept) AND NOT me.super AND NOT has_schema_privilege(n.oid, 'CREATE')
   AND EXISTS (SELECT 1 FROM objs s WHERE s.ns = n.oid
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = s.c AND d.objid = s.o AND d.deptype = 'e'))
UNION ALL
SELECT current_user::text, 'database ' || quote_ident(current_database()), pg_get_userbyid(d.datdba)::text, false, 'CREATE on database ' || quote_ident(current_database()), '', ''
  FROM pg_database d, me
 WHERE d.datname = current_database() AND NOT me.super AND NOT has_database_privilege(d.oid, 'CREATE')
   AND (EXISTS (SELECT 1 FROM restored WHERE oid NOT IN (SELECT oid FROM kept))
        OR EXISTS (SELECT 1 FROM pg_publication))
 ORDER BY 4 DESC, 5 DESC, 2`
