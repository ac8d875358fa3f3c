package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/pgstart"
)

// db is an open, migrated database, and the private server behind it when there is one.
type db struct {
	pool     *pgxpool.Pool
	ownerURL string
	cluster  *pgstart.Cluster
}

func (d *db) Close() {
	if d.pool != nil {
		d.pool.Close()
	}
	if d.cluster != nil {
		_ = d.cluster.Stop()
	}
}

// privateDatabase is the name of the register's database in its private server.
const privateDatabase = "registry"

// openDatabase connects to DATABASE_URL, or starts the private server under the data
// directory; then it applies the migrations and opens the application pool.
func openDatabase(ctx context.Context, c config, log *slog.Logger) (*db, error) {
	d := &db{ownerURL: c.databaseURL}
	if d.ownerURL == "" {
		dir, err := filepath.Abs(filepath.Join(c.dataDir, "postgres"))
		if err != nil {
			return nil, err
		}
		if d.cluster, err = pgstart.Start(ctx, dir, pgstart.Options{Logger: log, Share: c.share}); err != nil {
			return nil, err
		}
		if err := createDatabase(ctx, d.cluster.URL("postgres"), privateDatabase); err != nil {
			d.Close()
			return nil, err
		}
		d.ownerURL = d.cluster.URL(privateDatabase)
	}
	if err := database.Migrate(ctx, d.ownerURL); err != nil {
		d.Close()
		return nil, err
	}
	pool, err := database.Open(ctx, d.ownerURL)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.pool = pool
	return d, nil
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to private server: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}
