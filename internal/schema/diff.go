package schema

// Diff is what changed between two catalogs, grouped by table (objects not tied to a table are grouped
// under their own kind).
type Diff struct {
	Added   []Change `json:"added"`
	Changed []Change `json:"changed"`
	Removed []Change `json:"removed"`
}

// Change is one object added, changed or removed.
type Change struct {
	// Kind is the object kind: schema, table, column, constraint, index, sequence, view, ...
	Kind string `json:"kind"`
	// Name is the object's qualified name, e.g. "public.users.email" for a column.
	Name string `json:"name"`
	// Table is the table the object belongs to, when it belongs to one.
	Table string `json:"table,omitempty"`
	// Properties lists what changed (only for changed objects).
	Properties []PropertyChange `json:"properties,omitempty"`
	// Definition is the object's definition (DDL or a summary) for added and removed objects.
	Definition string `json:"definition,omitempty"`
}

// PropertyChange is one property of a changed object, old → new.
type PropertyChange struct {
	Property string `json:"property"`
	Old      string `json:"old"`
	New      string `json:"new"`
}

// Empty reports whether nothing changed.
func (d *Diff) Empty() bool {
	return d == nil || len(d.Added)+len(d.Changed)+len(d.Removed) == 0
}
