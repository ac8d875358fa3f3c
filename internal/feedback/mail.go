package feedback

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/notify"
)

// Kinds of notification this package enqueues.
const (
	NotifyReceived = "feedback_received" // to owners and administrators: a citizen wrote
	NotifyAnswer   = "feedback_answer"   // to the citizen: the data office answered
)

// staffRecipients returns the addresses of the entry's owners and of every administrator,
// once each.
func (s *Store) staffRecipients(ctx context.Context, e *Entry) ([]string, error) {
	admins, err := s.users.WithAnyRole(ctx, auth.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var to []string
	seen := map[string]bool{}
	add := func(email string) {
		if k := strings.ToLower(email); email != "" && !seen[k] {
			seen[k] = true
			to = append(to, email)
		}
	}
	for _, o := range e.Algorithm.Owners {
		add(o.Email)
	}
	for _, u := range admins {
		add(u.Email)
	}
	return to, nil
}

// notifyStaff tells the owners and administrators (to) that a citizen wrote. Staff mail is in
// English like the rest of it. The citizen's e-mail address is left out: the data office
// answers, and only it needs the address.
func (s *Store) notifyStaff(ctx context.Context, tx pgx.Tx, e *Entry, it *Item, to []string) error {
	name := e.Name(e.Latest.Sheet.Lang)
	what, subject := "a question", "Citizen question: "
	if it.Kind == KindError {
		what, subject = "an error report", "Error reported by a citizen: "
	}
	reply := "They left no e-mail address, so an answer can only be published under the fact sheet."
	if it.Email != "" {
		reply = "They left an e-mail address for the answer; administrators see it on the moderation page."
	}
	body := fmt.Sprintf("A citizen sent %s about %q (published revision %d), in %s.\n\n%s\n\n%s\n\n"+
		"The data office moderates and answers it: %s/admin/feedback?status=new\nPublic fact sheet: %s\n",
		what, name, it.Revision, i18n.Lang(it.Lang).Name(), quote(it.Body), reply, s.baseURL, s.factSheetURL(e, it.Lang))
	for _, addr := range to {
		if err := notify.Enqueue(ctx, tx, notify.Message{Kind: NotifyReceived, To: addr,
			Subject: subject + oneLine(name), Body: body}); err != nil {
			return err
		}
	}
	return nil
}

// mailAnswer sends the answer to the citizen who left an address, in the language they wrote
// in.
func (s *Store) mailAnswer(ctx context.Context, tx pgx.Tx, e *Entry, it *Item) error {
	l, _ := i18n.Parse(it.Lang)
	name := e.Name(string(l))
	var b strings.Builder
	b.WriteString(s.cat.T(l, "The data office of the algorithm register has answered the message you sent on %s about %s.",
		it.CreatedAt.UTC().Format("2006-01-02"), name))
	b.WriteString("\n\n" + s.cat.T(l, "Your message:") + "\n\n" + quote(it.Body) + "\n\n")
	b.WriteString(s.cat.T(l, "Answer:") + "\n\n" + it.Answer + "\n\n")
	b.WriteString(s.cat.T(l, "Fact sheet:") + " " + s.factSheetURL(e, string(l)) + "\n\n")
	b.WriteString(s.cat.T(l, "We used your e-mail address only to send you this answer. It is never published.") + "\n")
	return notify.Enqueue(ctx, tx, notify.Message{Kind: NotifyAnswer, To: it.Email,
		Subject: oneLine(s.cat.T(l, "Answer to your message about %s", name)), Body: b.String()})
}

func (s *Store) factSheetURL(e *Entry, lang string) string {
	return s.baseURL + "/" + lang + "/algorithms/" + e.Algorithm.Slug
}

// quote marks each line of a citizen's text as quoted, so that it cannot pass for the
// register's own words in the mail.
func quote(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
