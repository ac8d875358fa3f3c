package main

import (
	"context"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/pgtest"
)

func TestTokenCommands(t *testing.T) {
	pool, url := pgtest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	ctx := context.Background()
	svc := auth.NewService(pool, nil, false)
	if _, err := run(t, "a long enough password\n", "user", "add", "laia@example.org", "--name", "Laia Puig", "--role", "author", "--password-stdin"); err != nil {
		t.Fatal(err)
	}

	out, err := run(t, "", "token", "create", "laia@example.org", "--name", "CI pipeline")
	if err != nil {
		t.Fatal(err)
	}
	token, ok := strings.CutSuffix(out, "\n")
	if !ok || strings.ContainsAny(token, "\n ") || !strings.HasPrefix(token, "reg_") {
		t.Fatalf("token create printed %q, want the token alone on one line", out)
	}
	u, err := svc.UserForToken(ctx, token)
	if err != nil || u.Email != "laia@example.org" {
		t.Fatalf("the printed token: %v, %v", u, err)
	}

	out, err = run(t, "", "token", "list", "laia@example.org")
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := svc.ListTokens(ctx, u.ID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens: %v, %v", tokens, err)
	}
	for _, want := range []string{tokens[0].ID, "CI pipeline", token[:8] + "…", "active"} {
		if !strings.Contains(out, want) {
			t.Errorf("token list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, token) {
		t.Error("token list shows the token")
	}

	if _, err := run(t, "", "token", "revoke", "laia@example.org", tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UserForToken(ctx, token); !apperr.Is(err, apperr.Unauthenticated) {
		t.Errorf("revoked token: %v, want Unauthenticated", err)
	}
	if out, _ := run(t, "", "token", "list", "laia@example.org"); !strings.Contains(out, "revoked") {
		t.Errorf("token list after revoke:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token"}, "usage"},
		{[]string{"token", "frobnicate", "laia@example.org"}, "unknown subcommand"},
		{[]string{"token", "create"}, "e-mail"},
		{[]string{"token", "create", "laia@example.org"}, "name: Enter a name for the token."},
		{[]string{"token", "create", "nobody@example.org", "--name", "x"}, "No such account."},
		{[]string{"token", "revoke", "laia@example.org"}, "ID"},
		{[]string{"token", "revoke", "laia@example.org", "not-an-id"}, "No such token."},
		{[]string{"token", "list", "laia@example.org", "extra"}, "unexpected argument"},
	} {
		if _, err := run(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
}
