// Package schema is the model of a PostgreSQL catalog (tables, columns, constraints, indexes, ...),
// the differences between two snapshots of it (Compare, Describe) and the rollback DDL that takes a
// database from one snapshot back to the other (GenerateDown). It is pure: inspection of a live
// database lives in pg.
package schema
