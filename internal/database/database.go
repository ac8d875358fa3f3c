// Package database opens connection pools and applies the embedded migrations.
package database

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/civictech/registry/migrations"
)

// AppRole is the restricted role the application works as. The migrations grant it what it
// needs and nothing more: for example it cannot UPDATE or DELETE audit events.
const AppRole = "registry_app"

// Open connects a pool to url. Each connection switches to AppRole, so a bug or an injection
// in application code cannot rewrite what the schema protects, even when url names the owner.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := OpenLazily(url)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: ping: %w", err)
	}
	return pool, nil
}

// OpenLazily is Open without connecting first: the pool connects when first used, so a
// server that is down now (a read replica, say) does not stop the caller from starting.
func OpenLazily(url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database: parse url: %w", err)
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET ROLE "+AppRole)
		return err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	return pool, nil
}

// Migrate applies every migration not yet applied, under tern's advisory lock and one
// transaction per file, as the role named in url (the schema owner). It is idempotent.
func Migrate(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("database: connect for migration: %w", err)
	}
	defer conn.Close(context.Background())
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return fmt.Errorf("database: migrator: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return fmt.Errorf("database: load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("database: migrate: %w", err)
	}
	return nil
}

// Tx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
func Tx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation (23505), optionally
// on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return false
	}
	return constraint == "" || pgErr.ConstraintName == constraint
}

// HasCode reports whether err is a PostgreSQL error with SQLSTATE code.
func HasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
