package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/civictech/registry/internal/auth"
)

// stringList is a repeatable flag (--role a --role b).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cliActor is who the command line acts as in audit events.
var cliActor = auth.Actor{Email: "cli", ClientIP: "local"}

func migrateCommand(ctx context.Context, env environment, args []string) error {
	c := config{share: true}
	set := newFlagSet("migrate", env.stderr)
	c.flags(set)
	if err := set.Parse(args); err != nil {
		return usageError(err.Error())
	}
	d, err := openDatabase(ctx, c, slog.New(slog.NewTextHandler(env.stderr, nil)))
	if err != nil {
		return err
	}
	d.Close()
	fmt.Fprintln(env.stdout, "migrations applied")
	return nil
}

func userCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 {
		return usageError("usage: registry user add|list|disable|enable|roles|passwd …")
	}
	sub, rest := args[0], args[1:]
	c := config{share: true}
	set := newFlagSet("user "+sub, env.stderr)
	c.flags(set)
	name := set.String("name", "", "full name")
	var roles stringList
	set.Var(&roles, "role", "role: author, reviewer, expert or admin (repeatable)")
	passwordStdin := set.Bool("password-stdin", false, "read the password from standard input")
	// The e-mail comes first, flags after it: registry user add EMAIL --name N.
	var email string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		email, rest = rest[0], rest[1:]
	}
	if err := set.Parse(rest); err != nil {
		return usageError(err.Error())
	}
	if email == "" && sub != "list" {
		return usageError("registry user " + sub + ": name the account's e-mail address")
	}
	d, err := openDatabase(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	svc := auth.NewService(d.pool, nil, false)

	readPassword := func() (string, error) {
		if !*passwordStdin {
			return "", usageError("registry user " + sub + ": give the password with --password-stdin")
		}
		line, err := bufio.NewReader(env.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	switch sub {
	case "add":
		password, err := readPassword()
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: email, Name: *name, Roles: roles, Password: password}, cliActor)
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(env.stdout, "created %s (%s) with roles %s\n", u.Email, u.Name, strings.Join(u.Roles, ", "))
	case "list":
		users, err := svc.Users.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLES\tSTATUS\tMFA")
		for _, u := range users {
			status, mfa := "active", "off"
			if u.Disabled {
				status = "disabled"
			}
			if u.TOTPEnabled {
				mfa = "on"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, strings.Join(u.Roles, ","), status, mfa)
		}
		return tw.Flush()
	case "disable", "enable":
		if err := svc.SetDisabled(ctx, email, sub == "disable", cliActor); err != nil {
			return explain(err)
		}
		fmt.Fprintf(env.stdout, "%sd %s\n", sub, email)
	case "roles":
		if err := svc.SetRoles(ctx, email, roles, cliActor); err != nil {
			return explain(err)
		}
		fmt.Fprintf(env.stdout, "%s now has roles %s\n", email, strings.Join(roles, ", "))
	case "passwd":
		password, err := readPassword()
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, email, password, cliActor); err != nil {
			return explain(err)
		}
		fmt.Fprintf(env.stdout, "password of %s changed; its sessions ended\n", email)
	default:
		return usageError("registry user: unknown subcommand " + sub)
	}
	return nil
}
