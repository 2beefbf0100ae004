// Package migrations holds the SQL schema migrations, embedded in the binary.
//
// Files are goose migrations named NNNNN_snake_name.sql with "-- +goose Up"
// and "-- +goose Down" sections; each applies in its own transaction. Never
// edit a merged migration: add a new one, and write it so that the previous
// release still works on the new schema (rolling upgrades).
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
