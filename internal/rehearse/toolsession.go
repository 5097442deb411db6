package rehearse

import (
	"context"
	"fmt"
	"strings"
)

// toolSession prepares the database as the folder's tool does before its first migration: Flyway
// creates the schemas it manages (migrate.Set.Schemas) and runs every migration with its default
// schema in front of the search path (migrate.Set.SearchPath). The search path becomes the database's
// default, and the session starts again: every migration starts from a reset session (see
// pg.ResetSession), which then has it, as each Flyway migration has it.
func (r *run) toolSession(ctx context.Context) error {
	set := r.opts.Set
	if set == nil || len(set.Schemas) == 0 && set.SearchPath == "" {
		return nil
	}
	for _, s := range set.Schemas {
		if _, err := r.conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident(s)); err != nil {
			return fmt.Errorf("create schema %s, as %s does before its first migration: %w", s, set.Format, err)
		}
	}
	if set.SearchPath == "" {
		return nil
	}
	var db, path string
	if err := r.conn.QueryRow(ctx, "SELECT current_database(), current_setting('search_path')").Scan(&db, &path); err != nil {
		return err
	}
	bare := strings.Trim(set.SearchPath, `"`)
	if path == bare || strings.HasPrefix(path, bare+",") || strings.HasPrefix(path, set.SearchPath+",") {
		return nil
	}
	if _, err := r.conn.Exec(ctx, "ALTER DATABASE "+ident(db)+" SET search_path = "+set.SearchPath+", "+path); err != nil {
		return fmt.Errorf("set the search path %s runs migrations with (%s first): %w", set.Format, set.SearchPath, err)
	}
	r.opts.Progress("migrations run with search_path %s, %s, as %s runs them", set.SearchPath, path, set.Format)
	r.close(ctx)
	return r.connect(ctx)
}
