package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/departments"
	"github.com/civictech/registry/internal/review"
	"github.com/civictech/registry/internal/server"
)

// demoAccounts are created by --demo in a database with no accounts yet.
var demoAccounts = []auth.NewUser{
	{Email: demo.Author, Name: "Laia Puig (data scientist)", Roles: []string{auth.RoleAuthor}},
	{Email: demo.Author2, Name: "Marc Vidal (product owner)", Roles: []string{auth.RoleAuthor}},
	{Email: "reviewer@demo.example", Name: "Núria Soler (ethics committee)", Roles: []string{auth.RoleReviewer}},
	{Email: "expert@demo.example", Name: "Dr. Jordi Ferrer (external expert)", Roles: []string{auth.RoleExpert}},
	{Email: "admin@demo.example", Name: "Carme Roca (data office)", Roles: []string{auth.RoleAdmin}},
}

// seedDemo creates the demo accounts with generated passwords, printed once, and the demo
// entries, when the database has no accounts; otherwise it does nothing, so that a restart
// keeps what was changed.
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
	staff := demo.Staff{Authors: map[string]algorithms.Actor{}}
	for _, n := range demoAccounts {
		n.Password = auth.RandomPassword()
		u, err := svc.CreateUser(ctx, n, auth.Actor{Email: "demo", ClientIP: "local"})
		if err != nil {
			return fmt.Errorf("demo account %s: %w", n.Email, err)
		}
		fmt.Fprintf(env.stdout, "  %-24s %-9s %s\n", n.Email, n.Roles[0], n.Password)
		switch {
		case u.Has(auth.RoleAuthor):
			staff.Authors[u.Email] = algorithms.Actor{UserID: u.ID, Email: u.Email, ClientIP: "local"}
		case u.Has(auth.RoleReviewer):
			staff.Reviewer = review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles, ClientIP: "local"}
		case u.Has(auth.RoleExpert):
			staff.Expert = review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles, ClientIP: "local"}
		}
	}
	// Departments first, as the data office would have listed them before anyone
	// registered an entry: the entries then take the list's names in every language.
	d, err := seedDemoDepartments(ctx, srv)
	if err != nil {
		return err
	}
	n, err := demo.Seed(ctx, srv.Algorithms(), srv.Review(), staff)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "demo: %d entries registered and reviewed, %d departments\n", n, d)
	return nil
}

// seedDemoDepartments adds the departments the demo entries name in all three languages,
// as the data office would have, and returns how many.
func seedDemoDepartments(ctx context.Context, srv *server.Server) (int, error) {
	entries, err := demo.Entries()
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for _, e := range entries {
		var sheet struct {
			Department map[string]string `json:"department"`
		}
		if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
			return 0, fmt.Errorf("demo entry %s: %w", e.Slug, err)
		}
		names := sheet.Department
		if names["ca"] == "" || names["es"] == "" || names["en"] == "" || seen[strings.ToLower(names["ca"])] {
			continue
		}
		seen[strings.ToLower(names["ca"])] = true
		if _, err := srv.Departments().Add(ctx, names, departments.Actor{Email: "demo", ClientIP: "local"}); err != nil {
			return 0, fmt.Errorf("demo department %q: %w", names["ca"], err)
		}
	}
	return len(seen), nil
}
