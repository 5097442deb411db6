package schema

import "fmt"

// This file writes what a generated down does for foreign-data wrappers, servers, user mappings and
// casts. Those the up added are dropped once the foreign tables the up added are gone (mappings, then
// servers, then wrappers; casts before the types and functions they use); those it dropped are created
// again once the functions are back and before the foreign tables are (wrappers, then servers, then
// mappings; casts too); and the options, owner, privileges and comment of each are restored. A cast
// whose function, context or method changed is dropped and created again; a server whose type or
// wrapper changed cannot be (its foreign tables and mappings hold it), and is left to a person.

// mappingUser is the SQL of a user mapping's role: PUBLIC, CURRENT_USER for the role the catalogs were
// read as (see roleIn), or the role's name.
func (g *downGen) mappingUser(m *UserMapping) string {
	if m.User == "public" {
		return "PUBLIC"
	}
	return g.roleIn(m.User)
}

// foreignRenames undoes renames of wrappers and servers, recognised by OID: the server's foreign tables and
// user mappings follow it.
func (g *downGen) foreignRenames() {
	a, b := g.a, g.b
	movedByOID(a.ForeignDataWrappers, b.ForeignDataWrappers, func(x *ForeignDataWrapper) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *ForeignDataWrapper) {
			g.add(fmt.Sprintf("rename foreign-data wrapper %s back to %s", x.Name, bx.Name),
				"ALTER FOREIGN DATA WRAPPER "+Ident(x.Name)+" RENAME TO "+Ident(bx.Name))
			delete(a.ForeignDataWrappers, ak)
			x.Name = bx.Name
			a.ForeignDataWrappers[bk] = x
			for _, s := range a.ForeignServers {
				if s.Wrapper == ak {
					s.Wrapper = bk
				}
			}
		})
	movedByOID(a.ForeignServers, b.ForeignServers, func(x *ForeignServer) uint32 { return x.OID }, nil,
		func(ak, bk string, x, bx *ForeignServer) {
			g.add(fmt.Sprintf("rename server %s back to %s", x.Name, bx.Name), "ALTER SERVER "+Ident(x.Name)+" RENAME TO "+Ident(bx.Name))
			delete(a.ForeignServers, ak)
			x.Name = bx.Name
			a.ForeignServers[bk] = x
			for _, t := range a.Tables {
				if t.Foreign() && t.Server == ak {
					t.Server = bk
				}
			}
			for mk, m := range a.UserMappings {
				if m.Server == ak {
					delete(a.UserMappings, mk)
					m.Server = bk
					a.UserMappings[m.Key()] = m
				}
			}
		})
}

// dropForeign drops the user mappings, servers, wrappers and casts the up added, and the casts it
// changed (no ALTER CAST takes a change back).
func (g *downGen) dropForeign() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(a.UserMappings) {
		if x := a.UserMappings[k]; b.UserMappings[k] == nil {
			g.add("drop user mapping for "+x.User+" on server "+x.Server+" (added by the up)",
				"DROP USER MAPPING FOR "+g.mappingUser(x)+" SERVER "+Ident(x.Server))
			delete(a.UserMappings, k)
		}
	}
	for _, k := range sortedKeys(a.ForeignServers) {
		x, bx := a.ForeignServers[k], b.ForeignServers[k]
		switch {
		case bx == nil:
			g.add("drop server "+x.Name+" (added by the up)", "DROP SERVER "+Ident(x.Name))
			delete(a.ForeignServers, k)
		case x.Type != bx.Type || x.Wrapper != bx.Wrapper:
			// ALTER SERVER takes neither back, and its foreign tables and mappings keep it from being dropped.
			g.irreversible(fmt.Sprintf("not restored: server %s (%s, was %s)", x.Name, foreignServerSummary(x), foreignServerSummary(bx)))
		}
	}
	for _, k := range sortedKeys(a.ForeignDataWrappers) {
		if x := a.ForeignDataWrappers[k]; b.ForeignDataWrappers[k] == nil {
			g.add("drop foreign-data wrapper "+x.Name+" (added by the up)", "DROP FOREIGN DATA WRAPPER "+Ident(x.Name))
			delete(a.ForeignDataWrappers, k)
		}
	}
	for _, k := range sortedKeys(a.Casts) {
		x, bx := a.Casts[k], b.Casts[k]
		if bx == nil || castChanged(x, bx) {
			why := " (added by the up)"
			if bx != nil {
				why = " to create it again as it was"
			}
			g.add("drop cast "+k+why, "DROP CAST "+k)
			delete(a.Casts, k)
		}
	}
}

// castChanged tells whether a cast must be dropped and created again: none of it can be altered.
func castChanged(x, bx *Cast) bool {
	return x.Function != bx.Function || x.Context != bx.Context || x.Method != bx.Method
}

// createForeign creates again the wrappers, servers, user mappings and casts of the before-catalog the
// after-catalog lacks (or that dropForeign dropped), and restores the handler, validator, version,
// options, owner, privileges and comment of each.
func (g *downGen) createForeign() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.ForeignDataWrappers) {
		bx, x := b.ForeignDataWrappers[k], a.ForeignDataWrappers[k]
		target := Ident(bx.Name)
		fresh := x == nil
		if fresh {
			g.add("re-create foreign-data wrapper "+bx.Name,
				"CREATE FOREIGN DATA WRAPPER "+target+" "+foreignWrapperSummary(bx)+foreignOptionsSQL(bx.Options))
			x = &ForeignDataWrapper{Handler: bx.Handler, Validator: bx.Validator, Options: bx.Options}
		}
		if x.Handler != bx.Handler {
			h := "NO HANDLER"
			if bx.Handler != "" {
				h = "HANDLER " + bx.Handler
			}
			g.add("restore the handler of foreign-data wrapper "+bx.Name, "ALTER FOREIGN DATA WRAPPER "+target+" "+h)
		}
		if x.Validator != bx.Validator {
			v := "NO VALIDATOR"
			if bx.Validator != "" {
				v = "VALIDATOR " + bx.Validator
			}
			g.add("restore the validator of foreign-data wrapper "+bx.Name, "ALTER FOREIGN DATA WRAPPER "+target+" "+v)
		}
		if o := alterOptionsSQL(bx.Options, x.Options); o != "" {
			g.add("restore the options of foreign-data wrapper "+bx.Name, "ALTER FOREIGN DATA WRAPPER "+target+o)
		}
		g.foreignNotes(KindForeignWrapper, k, "FOREIGN DATA WRAPPER", target, bx.Access, x.Access, bx.Comment, x.Comment, fresh)
	}
	for _, k := range sortedKeys(b.ForeignServers) {
		bx, x := b.ForeignServers[k], a.ForeignServers[k]
		target := Ident(bx.Name)
		fresh := x == nil
		if fresh {
			g.add("re-create server "+bx.Name, "CREATE SERVER "+target+" "+foreignServerSummary(bx)+foreignOptionsSQL(bx.Options))
			x = &ForeignServer{Version: bx.Version, Options: bx.Options}
		}
		if x.Version != bx.Version {
			v := "NULL"
			if bx.Version != "" {
				v = Literal(bx.Version)
			}
			g.add("restore the version of server "+bx.Name, "ALTER SERVER "+target+" VERSION "+v)
		}
		if o := alterOptionsSQL(bx.Options, x.Options); o != "" {
			g.add("restore the options of server "+bx.Name, "ALTER SERVER "+target+o)
		}
		g.foreignNotes(KindForeignServer, k, "FOREIGN SERVER", target, bx.Access, x.Access, bx.Comment, x.Comment, fresh)
	}
	for _, k := range sortedKeys(b.UserMappings) {
		bx, x := b.UserMappings[k], a.UserMappings[k]
		on := "FOR " + g.mappingUser(bx) + " SERVER " + Ident(bx.Server)
		if x == nil {
			g.add("re-create user mapping for "+bx.User+" on server "+bx.Server, "CREATE USER MAPPING "+on+foreignOptionsSQL(bx.Options))
			continue
		}
		if o := alterOptionsSQL(bx.Options, x.Options); o != "" {
			g.add("restore the options of user mapping for "+bx.User+" on server "+bx.Server, "ALTER USER MAPPING "+on+o)
		}
	}
	for _, k := range sortedKeys(b.Casts) {
		bx, x := b.Casts[k], a.Casts[k]
		if x == nil {
			g.add("re-create cast "+k, "CREATE CAST "+k+" "+castSummary(bx))
			if bx.Comment != "" {
				g.add("restore the comment on cast "+k, commentSQL("CAST "+k, bx.Comment))
			}
		} else if x.Comment != bx.Comment {
			g.add("restore the comment on cast "+k, commentSQL("CAST "+k, bx.Comment))
		}
	}
}

// foreignNotes restores the owner, privileges and comment of a wrapper or server (fresh: the down created
// it again).
func (g *downGen) foreignNotes(kind, key, keyword, target string, want, have Access, comment, hadComment string, fresh bool) {
	if fresh {
		have, hadComment = Access{}, ""
	}
	g.access(kind, key, keyword, target, want, have, fresh)
	if comment != hadComment {
		if keyword == "FOREIGN SERVER" {
			keyword = "SERVER" // as COMMENT ON calls it
		}
		g.add(fmt.Sprintf("restore the comment on %s %s", kind, display(key)), commentSQL(keyword+" "+target, comment))
	}
}
