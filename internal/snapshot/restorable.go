package snapshot

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
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
}

// Obstacles lists what would make a restore of a snapshot taken now fail for lack of privileges, as
// restore performs it: role is the role the restore connects as. The clear drops every object of the
// restored schemas (all but public and ExcludeSchemas, which it keeps, and the system's), and the dump's
// SQL creates each again and gives it back to its owner (ALTER ... OWNER TO), restores the default
// privileges of each role (ALTER DEFAULT PRIVILEGES FOR ROLE) and comments on the extensions it keeps.
// Each of these needs the restoring role to act as the owner: a superuser, or a member of the owner that
// has its privileges (pg_has_role USAGE) and, from PostgreSQL 16, may SET ROLE to it. It returns at most
// limit obstacles (all when limit <= 0) and how many there are. It changes nothing.
func (p *PGDump) Obstacles(ctx context.Context, limit int) (role string, obs []Obstacle, total int, err error) {
	c, err := pgx.Connect(ctx, p.URL)
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
		if err := rows.Scan(&role, &o.Object, &o.Owner, &o.Superuser, &o.Privilege); err != nil {
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

// obstaclesSQL lists the objects the restore drops and recreates, or keeps and comments on, that the
// current role cannot act as the owner of ($1: the excluded schemas). Objects of extensions are left
// out: the extension recreates them. It follows clearScript and what pg_dump writes.
const obstaclesSQL = `
WITH me AS (
  SELECT rolsuper AS super, current_setting('server_version_num')::int >= 160000 AS has_set FROM pg_roles WHERE rolname = current_user
), restored AS (
  SELECT oid FROM pg_namespace
   WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' AND NOT nspname = ANY (coalesce($1::text[], ARRAY[]::text[]))
), objs AS (
  SELECT 'pg_namespace'::regclass AS c, n.oid AS o, n.nspowner AS owner, false AS su FROM pg_namespace n
   WHERE n.oid IN (SELECT oid FROM restored) AND n.nspname <> 'public'
  UNION ALL SELECT 'pg_class'::regclass, oid, relowner, false FROM pg_class
   WHERE relnamespace IN (SELECT oid FROM restored) AND relkind IN ('r','p','v','m','f','S','c')
  UNION ALL SELECT 'pg_proc'::regclass, oid, proowner, false FROM pg_proc WHERE pronamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_type'::regclass, t.oid, t.typowner, false FROM pg_type t
   WHERE t.typnamespace IN (SELECT oid FROM restored) AND t.typtype IN ('b','d','e','r','m','p')
     AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
  UNION ALL SELECT 'pg_collation'::regclass, oid, collowner, false FROM pg_collation WHERE collnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_conversion'::regclass, oid, conowner, false FROM pg_conversion WHERE connamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_operator'::regclass, oid, oprowner, false FROM pg_operator WHERE oprnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfowner, false FROM pg_opfamily WHERE opfnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_opclass'::regclass, oid, opcowner, false FROM pg_opclass WHERE opcnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgowner, false FROM pg_ts_config WHERE cfgnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictowner, false FROM pg_ts_dict WHERE dictnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_parser'::regclass, oid, 10, true FROM pg_ts_parser WHERE prsnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_ts_template'::regclass, oid, 10, true FROM pg_ts_template WHERE tmplnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_statistic_ext'::regclass, oid, stxowner, false FROM pg_statistic_ext WHERE stxnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_default_acl'::regclass, oid, defaclrole, false FROM pg_default_acl
   WHERE defaclnamespace = 0 OR defaclnamespace IN (SELECT oid FROM restored)
  UNION ALL SELECT 'pg_largeobject'::regclass, oid, lomowner, false FROM pg_largeobject_metadata
  UNION ALL SELECT 'pg_publication'::regclass, oid, pubowner, false FROM pg_publication
  UNION ALL SELECT 'pg_foreign_server'::regclass, oid, srvowner, false FROM pg_foreign_server
  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, fdwowner, true FROM pg_foreign_data_wrapper
  UNION ALL SELECT 'pg_language'::regclass, oid, lanowner, NOT lanpltrusted FROM pg_language WHERE oid >= 16384
  UNION ALL SELECT 'pg_event_trigger'::regclass, oid, evtowner, true FROM pg_event_trigger
  UNION ALL SELECT 'pg_am'::regclass, oid, 10, true FROM pg_am WHERE oid >= 16384
  -- Extensions: one in a kept schema stays, and the dump's COMMENT ON EXTENSION needs its owner; one in
  -- a restored schema goes with it, and only a superuser creates an untrusted one again.
  UNION ALL SELECT 'pg_extension'::regclass, e.oid, e.extowner,
         e.extnamespace IN (SELECT oid FROM restored) AND e.extnamespace <> 'public'::regnamespace
         AND NOT EXISTS (SELECT 1 FROM pg_available_extension_versions v WHERE v.name = e.extname AND v.version = e.extversion AND v.trusted)
    FROM pg_extension e
   WHERE e.extname <> 'plpgsql' AND (e.extnamespace NOT IN (SELECT oid FROM restored) OR e.extnamespace = 'public'::regnamespace
         OR NOT EXISTS (SELECT 1 FROM pg_available_extension_versions v WHERE v.name = e.extname AND v.version = e.extversion AND v.trusted))
)
SELECT current_user::text, pg_describe_object(s.c, s.o, 0), coalesce(pg_get_userbyid(s.owner)::text, s.owner::text), s.su, ''
  FROM objs s, me
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = s.c AND d.objid = s.o AND d.deptype = 'e')
   AND NOT me.super
   AND (s.su OR NOT (pg_has_role(s.owner, 'USAGE') AND CASE WHEN me.has_set THEN pg_has_role(s.owner, 'SET') ELSE true END))
-- The objects of public are created again in it, the other schemas in the database.
UNION ALL
SELECT current_user::text, 'schema public', pg_get_userbyid(n.nspowner)::text, false, 'CREATE on schema public'
  FROM pg_namespace n, me
 WHERE n.nspname = 'public' AND NOT me.super AND NOT has_schema_privilege(n.oid, 'CREATE')
   AND n.oid IN (SELECT oid FROM restored)
   AND (EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = n.oid) OR EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = n.oid)
        OR EXISTS (SELECT 1 FROM pg_type WHERE typnamespace = n.oid))
UNION ALL
SELECT current_user::text, 'database ' || quote_ident(current_database()), pg_get_userbyid(d.datdba)::text, false, 'CREATE on database ' || quote_ident(current_database())
  FROM pg_database d, me
 WHERE d.datname = current_database() AND NOT me.super AND NOT has_database_privilege(d.oid, 'CREATE')
   AND EXISTS (SELECT 1 FROM pg_namespace WHERE oid IN (SELECT oid FROM restored) AND nspname <> 'public')
 ORDER BY 4 DESC, 5 DESC, 2`
