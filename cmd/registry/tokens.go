package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/civictech/registry/internal/auth"
)

// tokenCommand runs "registry token create EMAIL --name N", "token list EMAIL" and
// "token revoke EMAIL ID". create prints the token alone on one line, so a script can
// capture it: registry token create a@b.org --name CI > token.
func tokenCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 {
		return usageError("usage: registry token create EMAIL --name N | list EMAIL | revoke EMAIL ID")
	}
	sub, rest := args[0], args[1:]
	c := config{share: true}
	set := newFlagSet("token "+sub, env.stderr)
	c.flags(set)
	name := set.String("name", "", "what the token is for")
	// The arguments come first, flags after them: registry token create EMAIL --name N.
	var positional []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		positional, rest = append(positional, rest[0]), rest[1:]
	}
	if err := set.Parse(rest); err != nil {
		return usageError(err.Error())
	}
	positional = append(positional, set.Args()...)
	want := map[string]int{"create": 1, "list": 1, "revoke": 2}
	n, ok := want[sub]
	switch {
	case !ok:
		return usageError("registry token: unknown subcommand " + sub)
	case len(positional) < 1:
		return usageError("registry token " + sub + ": name the account's e-mail address")
	case len(positional) < n:
		return usageError("registry token revoke: name the token's ID (see registry token list)")
	case len(positional) > n:
		return usageError(fmt.Sprintf("registry token %s: unexpected argument %q", sub, positional[n]))
	}
	email := positional[0]

	d, err := openDatabase(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	svc := auth.NewService(d.pool, nil, false)
	u, err := svc.Users.ByEmail(ctx, email)
	if err != nil {
		return explain(err)
	}
	switch sub {
	case "create":
		token, _, err := svc.CreateToken(ctx, u.ID, *name, cliActor)
		if err != nil {
			return explain(err)
		}
		fmt.Fprintln(env.stdout, token)
	case "list":
		tokens, err := svc.ListTokens(ctx, u.ID)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED (UTC)\tLAST USED (UTC)\tSTATUS")
		for _, t := range tokens {
			lastUsed, status := "never", "active"
			if t.LastUsedAt != nil {
				lastUsed = t.LastUsedAt.UTC().Format(time.DateTime)
			}
			switch {
			case t.RevokedAt != nil:
				status = "revoked"
			case t.Expired(now):
				status = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix,
				t.CreatedAt.UTC().Format(time.DateTime), lastUsed, status)
		}
		return tw.Flush()
	case "revoke":
		if err := svc.RevokeToken(ctx, u.ID, positional[1], cliActor); err != nil {
			return explain(err)
		}
		fmt.Fprintf(env.stdout, "revoked token %s of %s\n", positional[1], u.Email)
	}
	return nil
}
