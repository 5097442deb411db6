// Package schema is the model of a PostgreSQL catalog (tables, columns, constraints, indexes, ...) and
// the differences between two snapshots of it. It is pure: inspection of a live database lives in pg.
package schema
