package main

import (
	"context"
	"fmt"

	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/server"
)

// demoAccounts are created by --demo in a database with no accounts yet.
var demoAccounts = []auth.NewUser{
	{Email: "author@demo.example", Name: "Laia Puig (data scientist)", Roles: []string{auth.RoleAuthor}},
	{Email: "author2@demo.example", Name: "Marc Vidal (product owner)", Roles: []string{auth.RoleAuthor}},
	{Email: "reviewer@demo.example", Name: "Núria Soler (ethics committee)", Roles: []string{auth.RoleReviewer}},
	{Email: "expert@demo.example", Name: "Dr. Jordi Ferrer (external expert)", Roles: []string{auth.RoleExpert}},
	{Email: "admin@demo.example", Name: "Carme Roca (data office)", Roles: []string{auth.RoleAdmin}},
}

// seedDemo creates the demo accounts with generated passwords, printed once, when the
// database has no accounts; otherwise it does nothing, so a restart keeps what was changed.
func seedDemo(ctx context.Context, env environment, srv *server.Server) error {
	svc := srv.Auth()
	users, err := svc.Users.List(ctx)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		fmt.Fprintln(env.stdout, "demo: the database already has accounts; nothing seeded")
		return nil
	}
	fmt.Fprintln(env.stdout, "demo accounts (the passwords are shown only now):")
	for _, n := range demoAccounts {
		n.Password = auth.RandomPassword()
		if _, err := svc.CreateUser(ctx, n, auth.Actor{Email: "demo", ClientIP: "local"}); err != nil {
			return fmt.Errorf("demo account %s: %w", n.Email, err)
		}
		fmt.Fprintf(env.stdout, "  %-24s %-9s %s\n", n.Email, n.Roles[0], n.Password)
	}
	return nil
}
