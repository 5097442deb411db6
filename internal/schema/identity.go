package schema

import "fmt"

// Identity tells where a down gave back a table or column of the same name and shape as before the up
// but not the one the up started from: Compare matches objects by name, so a down that drops what the
// up set aside (ALTER TABLE users RENAME TO users_old; CREATE TABLE users ... undone by DROP TABLE
// users_old) or drops and adds a column again (to undo ALTER COLUMN TYPE) passes it, while the rows or
// values the table or column held are gone. before, after and afterDown are three catalogs of the same
// database (before the up, after it, after the down), whose OIDs and attribute numbers say which object
// is which.
//
// Every table (not a foreign table, whose rows live elsewhere; views and materialized views are no
// tables, their content derived) that the up kept, under any name, must be the table under its
// before-name after the down, and every column of it the up kept must be the column under its
// before-name (a generated column's values are derived too). What the up dropped or
// created again itself has no identity to keep; a table or column the down leaves missing is
// Compare's to tell. The sentences are of changes of the before-name, Side 0.
func Identity(before, after, afterDown *Catalog) []Sentence {
	if before == nil || after == nil || afterDown == nil {
		return nil
	}
	afterByOID, downByOID := tablesByOID(after), tablesByOID(afterDown)
	var out []Sentence
	for _, k := range sortedKeys(before.Tables) {
		bt := before.Tables[k]
		if bt.OID == 0 || bt.Foreign() {
			continue
		}
		ak, at := afterByOID[bt.OID], after.Tables[afterByOID[bt.OID]]
		dt := afterDown.Tables[k]
		if at == nil || dt == nil || dt.OID == 0 {
			continue
		}
		if dt.OID != bt.OID {
			text := "table " + display(k) + " after the down is not the table the up started from: " +
				replaced("table", display(k), display(ak), displayOrNone(downByOID[bt.OID]), "created", "its rows")
			out = append(out, Sentence{Text: text, Change: Change{Kind: KindTable, Name: k}})
			continue
		}
		for _, bc := range bt.Columns {
			ac := columnByNum(at, bc.Num)
			dc := dt.Column(bc.Name)
			if bc.Generated != "" || ac == nil || dc == nil || dc.Num == bc.Num {
				continue
			}
			var now string
			if c := columnByNum(dt, bc.Num); c != nil {
				now = KeyPart(c.Name)
			}
			up := KeyPart(ac.Name)
			if ak != k {
				up = display(subKey(ak, ac.Name))
			}
			name := subKey(k, bc.Name)
			text := "column " + display(name) + " after the down is not the column the up started from: " +
				replaced("column", KeyPart(bc.Name), up, now, "added", "its values")
			out = append(out, Sentence{Text: text, Change: Change{Kind: KindColumn, Name: name, Table: k}})
		}
	}
	return out
}

// replaced says what became of the object the up started from, named was before the up, up after it
// and down after the down ("" when the down dropped it), which another now stands in for. A column's
// names are its own, or qualified where the up moved its table.
func replaced(kind, was, up, down, made, content string) string {
	if down != "" {
		return fmt.Sprintf("the down left that %s as %s and put another in its place", kind, down)
	}
	upped := ""
	if up != was {
		upped = " (the up had renamed it to " + up + ")"
	}
	if upped == "" {
		return fmt.Sprintf("the down dropped that %s and %s another in its place: %s would be lost", kind, made, content)
	}
	return fmt.Sprintf("the down dropped that %s%s and left another in its place: %s would be lost", kind, upped, content)
}

// displayOrNone is display of key, "" for none.
func displayOrNone(key string) string {
	if key == "" {
		return ""
	}
	return display(key)
}

// tablesByOID maps the OID of each table of c to its key.
func tablesByOID(c *Catalog) map[uint32]string {
	out := make(map[uint32]string, len(c.Tables))
	for k, t := range c.Tables {
		if t.OID != 0 {
			out[t.OID] = k
		}
	}
	return out
}

// columnByNum is t's column of attribute number num, or nil.
func columnByNum(t *Table, num int) *Column {
	for _, c := range t.Columns {
		if c.Num == num {
			return c
		}
	}
	return nil
}
