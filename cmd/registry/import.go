package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/opendata"
)

// importCommand creates drafts from a native export, a Eurocities export or a Hugging Face
// model card, owned by an author. The whole file is read and checked before anything is
// created, so a malformed file creates nothing.
func importCommand(ctx context.Context, env environment, args []string) error {
	c := config{share: true}
	set := newFlagSet("import", env.stderr)
	c.flags(set)
	owner := set.String("owner", "", "e-mail of the author who owns the drafts (default: the only author account)")
	// The file comes first, flags after it (registry import FILE --owner E), or the other way.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := set.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if file == "" && set.NArg() > 0 {
		file = set.Arg(0)
	} else if set.NArg() > 0 {
		return usageError("registry import: one file at a time")
	}
	if file == "" {
		return usageError("usage: registry import FILE [--owner EMAIL]")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	defs, err := risk.Load()
	if err != nil {
		return err
	}
	imp, err := opendata.Parse(file, data, defs)
	if err != nil {
		return fmt.Errorf("import %s: %w; nothing imported", file, err)
	}
	d, err := openDatabase(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	by, err := importOwner(ctx, auth.NewUsers(d.pool), *owner)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: %d %s from a %s (%s), owned by %s\n", file, len(imp.Drafts),
		plural(len(imp.Drafts), "draft", "drafts"), imp.Source, imp.Format, by.Email)
	created, err := imp.Create(ctx, algorithms.NewStore(d.pool, defs), by)
	if err != nil {
		return fmt.Errorf("nothing imported: %w", explain(err))
	}
	for _, c := range created {
		printCreated(env.stdout, c)
	}
	return nil
}

// importOwner is the author account named by email or, when email is empty, the only one.
func importOwner(ctx context.Context, users *auth.Users, email string) (algorithms.Actor, error) {
	var u *auth.User
	if email == "" {
		authors, err := users.WithAnyRole(ctx, auth.RoleAuthor)
		if err != nil {
			return algorithms.Actor{}, err
		}
		switch len(authors) {
		case 0:
			return algorithms.Actor{}, fmt.Errorf("no author account to own the drafts: create one with registry user add EMAIL --role author")
		case 1:
			u = authors[0]
		default:
			emails := make([]string, len(authors))
			for i, a := range authors {
				emails[i] = a.Email
			}
			return algorithms.Actor{}, usageError("registry import: several authors could own the drafts; choose one with --owner (" +
				strings.Join(emails, ", ") + ")")
		}
	} else {
		var err error
		if u, err = users.ByEmail(ctx, email); apperr.Is(err, apperr.NotFound) {
			return algorithms.Actor{}, fmt.Errorf("--owner %s: no such account", email)
		} else if err != nil {
			return algorithms.Actor{}, err
		}
	}
	switch {
	case u.Disabled:
		return algorithms.Actor{}, fmt.Errorf("--owner %s: the account is disabled", u.Email)
	case !u.Has(auth.RoleAuthor):
		return algorithms.Actor{}, fmt.Errorf("--owner %s: the account is not an author", u.Email)
	}
	return algorithms.Actor{UserID: u.ID, Email: u.Email, ClientIP: "local", RequestID: "import"}, nil
}

// printCreated writes one created draft and, grouped by reason, what it did not import and
// what its author should check.
func printCreated(w io.Writer, c opendata.Created) {
	fmt.Fprintf(w, "created draft %s  /workspace/%s  (%s)\n", c.Slug, c.AlgorithmID, c.Source)
	for _, group := range []struct {
		label string
		items []opendata.Skipped
	}{{"not imported", c.Skipped}, {"check", c.Notes}} {
		var reasons []string
		fields := map[string][]string{}
		for _, s := range group.items {
			if fields[s.Reason] == nil {
				reasons = append(reasons, s.Reason)
			}
			fields[s.Reason] = append(fields[s.Reason], s.Field)
		}
		for _, r := range reasons {
			fmt.Fprintf(w, "  %s: %s: %s\n", group.label, strings.Join(fields[r], ", "), r)
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
