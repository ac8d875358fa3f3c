// Package migrations holds the numbered SQL files that build the schema.
package migrations

import "embed"

// FS holds every migration, applied in order by internal/database.Migrate.
//
//go:embed *.sql
var FS embed.FS
