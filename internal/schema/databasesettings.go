package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file compares and restores the database's own settings (ALTER DATABASE … SET, pg_db_role_setting
// rows of no role, Catalog.DatabaseSettings): what every new session of the database starts with, as a
// role's settings are for its sessions. The database's name is not part of them: the rehearsal's
// throwaway database, its copy and production's are each called otherwise.

// databaseKey is the key of the one KindDatabase object a catalog has.
const databaseKey = "database"

// databaseObject is the database's settings as one object that every catalog has (listed: a setting
// that comes or goes is a property that changes, from or to not set), its properties named "setting
// name" with the value.
func (c *Catalog) databaseObject() object {
	var props []PropertyChange
	for name, v := range settingMap(c.DatabaseSettings) {
		props = append(props, prop(settingProperty+name, v))
	}
	slices.SortFunc(props, func(a, b PropertyChange) int { return strings.Compare(a.Property, b.Property) })
	return object{kind: KindDatabase, key: databaseKey, listed: true, props: props}
}

// databaseSentence describes a change of one of the database's settings: "the database's setting
// work_mem is 64MB after the down, was not set".
func databaseSentence(pc PropertyChange, when string) string {
	name := strings.TrimPrefix(pc.Property, settingProperty)
	return fmt.Sprintf("the database's setting %s is %s %s, was %s", name, or(pc.New, "not set"), when, or(pc.Old, "not set"))
}

// databaseSettings restores the database's settings the up set, changed or reset. The statements name
// the database the down runs in, whatever it is called there.
func (g *downGen) databaseSettings() {
	want, have := settingMap(g.b.DatabaseSettings), settingMap(g.a.DatabaseSettings)
	stmt := func(clause string) string {
		return "DO " + Literal("BEGIN EXECUTE format('ALTER DATABASE %I ', current_database()) || "+Literal(clause)+"; END")
	}
	for _, k := range sortedKeys(want) {
		if v, ok := have[k]; ok && v == want[k] {
			continue
		}
		g.add("restore the database's setting "+k, stmt("SET "+SettingSQL(k, want[k])))
	}
	for _, k := range sortedKeys(have) {
		if _, ok := want[k]; !ok {
			g.add("reset the database's setting "+k+" (the up set it)", stmt("RESET "+Ident(k)))
		}
	}
}
