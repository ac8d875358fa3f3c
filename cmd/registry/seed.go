package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/server"
)

// syntheticOwner owns synthetic entries unless --owner names someone else. The account is
// created disabled: it exists only so that the entries have an owner.
const syntheticOwner = "synthetic@example.org"

// seedCommand fills the database without serving it: --demo seeds the demo accounts and
// entries (as `serve --demo` does); --scale N adds N synthetic published entries of
// realistic size, for measuring the register at scale.
func seedCommand(ctx context.Context, env environment, args []string) error {
	c := config{share: true}
	set := newFlagSet("seed", env.stderr)
	c.flags(set)
	demo := set.Bool("demo", false, "seed the demo accounts and entries into a database with no accounts")
	scale := set.Int("scale", 0, "add this many synthetic published entries")
	owner := set.String("owner", syntheticOwner, "e-mail of the account that owns the synthetic entries")
	if err := set.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if !*demo && *scale == 0 {
		return usageError("registry seed: say what to seed: --demo, --scale N or both")
	}
	if *scale < 0 {
		return usageError("registry seed: --scale must be a positive number")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := openDatabase(ctx, c, log)
	if err != nil {
		return err
	}
	defer d.Close()
	srv, err := seedServer(c, d, log)
	if err != nil {
		return err
	}
	if *demo {
		if err := seedDemo(ctx, env, srv); err != nil {
			return err
		}
	}
	if *scale > 0 {
		return seedScale(ctx, env, srv, *scale, *owner)
	}
	return nil
}

// seedServer assembles the application on d without serving it, so that seeding goes
// through the same services (and the same keys and addresses) as the running register.
func seedServer(c config, d *db, log *slog.Logger) (*server.Server, error) {
	key, err := loadKey(c.dataDir, "session.key", 64)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	secrets, err := loadKey(c.dataDir, secretsKeyFile, 32)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	baseURL := envOr("REGISTRY_BASE_URL", "http://"+envOr("REGISTRY_ADDR", "127.0.0.1:8080"))
	return server.New(server.Config{BaseURL: baseURL, SessionKey: key, SecretsKey: secrets[:32], Publisher: publisherFromEnv()}, d.pool, log)
}

// seedScale adds n synthetic entries owned by the account with e-mail owner; the default
// owner is created (disabled) when missing.
func seedScale(ctx context.Context, env environment, srv *server.Server, n int, owner string) error {
	svc := srv.Auth()
	u, err := svc.Users.ByEmail(ctx, owner)
	if apperr.Is(err, apperr.NotFound) && owner == syntheticOwner {
		u, err = svc.CreateUser(ctx, auth.NewUser{Email: owner, Name: "Synthetic entries", Roles: []string{auth.RoleAuthor},
			Password: auth.RandomPassword()}, cliActor)
		if err == nil {
			err = svc.SetDisabled(ctx, owner, true, cliActor)
		}
	}
	if err != nil {
		return explain(err)
	}
	start := time.Now()
	if err := srv.Algorithms().SeedSynthetic(ctx, n, algorithms.Actor{UserID: u.ID, Email: u.Email, ClientIP: "local"}); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "seed: %d synthetic entries published in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
