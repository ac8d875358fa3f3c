// Package notify sends the registry's e-mail: reviewers when a revision is submitted, authors
// on a comment or a decision, owners when an entry's revision_date is due.
//
// A notification is enqueued in the outbox table inside the transaction of the action that
// causes it, so that it exists exactly when the action committed. A Worker delivers the outbox
// in the background through a Sender: SMTP when REGISTRY_SMTP_URL is set, the log otherwise.
// Delivery is at least once: a mail is sent again only if its worker dies between sending it
// and committing that it was sent.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Kinds of notification, as the product names them. Kind is free text in the outbox; these
// keep the senders and whoever reads the table agreeing on the names.
const (
	KindSubmitted   = "submitted"    // to reviewers: a revision waits for review
	KindComment     = "comment"      // to authors: a reviewer commented
	KindDecision    = "decision"     // to authors: a reviewer decided
	KindRevisionDue = "revision_due" // to owners: the entry's revision_date has come
)

// ErrInvalidMessage is returned, wrapped with the reason, for a message that cannot be sent.
var ErrInvalidMessage = errors.New("notify: invalid message")

// Message is one e-mail to one person.
type Message struct {
	Kind    string // what the mail is about, e.g. KindDecision
	To      string // a bare address: "ana@example.org", without a display name
	Subject string // one line
	Body    string // plain text
	// DedupeKey, when set, makes Enqueue a no-op if a message with the same key was ever
	// enqueued, e.g. "revision_due:<revision id>:<date>" for a reminder sent once per date.
	DedupeKey string
}

// Validate reports, as an ErrInvalidMessage, a message without a kind, whose recipient is not
// a bare e-mail address, or whose subject is empty or spans lines (a line break in a header
// would let the value add headers of its own, e.g. a Bcc).
func (m Message) Validate() error {
	if strings.TrimSpace(m.Kind) == "" {
		return fmt.Errorf("%w: no kind", ErrInvalidMessage)
	}
	addr, err := mail.ParseAddress(m.To)
	if err != nil || addr.Name != "" || addr.Address != m.To || strings.ContainsAny(m.To, "\r\n") {
		return fmt.Errorf("%w: recipient %q is not an e-mail address", ErrInvalidMessage, m.To)
	}
	if strings.TrimSpace(m.Subject) == "" {
		return fmt.Errorf("%w: empty subject", ErrInvalidMessage)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: line break in subject", ErrInvalidMessage)
	}
	return nil
}

// Execer is a pool or a transaction. Pass the transaction of the action that causes the
// notification, so that both land or neither does.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Enqueue adds m to the outbox, to be delivered by a Worker after the transaction commits.
// A message whose DedupeKey is already in the outbox is dropped without error. It returns an
// ErrInvalidMessage, before touching the database, for a message that fails Validate.
func Enqueue(ctx context.Context, db Execer, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `
		INSERT INTO outbox (kind, recipient, subject, body, dedupe_key)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''))
		ON CONFLICT (dedupe_key) DO NOTHING`,
		m.Kind, m.To, m.Subject, m.Body, m.DedupeKey)
	if err != nil {
		return fmt.Errorf("notify: enqueue %s: %w", m.Kind, err)
	}
	return nil
}
