package notify

import (
	"context"
	"log/slog"
	"strings"
)

// Sender delivers one message. An error means it was not delivered and may be tried again.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// LogSender writes each message to the log instead of sending it, for a registry without a
// mail server: one structured line with the recipient, the subject and the body.
type LogSender struct {
	Log *slog.Logger // slog.Default() when nil
}

// Send logs m and never fails.
func (s LogSender) Send(ctx context.Context, m Message) error {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "mail (no SMTP server configured)",
		"kind", m.Kind, "to", m.To, "subject", m.Subject, "body", m.Body)
	return nil
}

// SenderFromURL returns the Sender that REGISTRY_SMTP_URL asks for: a LogSender writing to log
// when rawURL is empty, an SMTPSender otherwise (see NewSMTPSender for the URL's form).
func SenderFromURL(rawURL string, log *slog.Logger) (Sender, error) {
	if strings.TrimSpace(rawURL) == "" {
		return LogSender{Log: log}, nil
	}
	s, err := NewSMTPSender(rawURL)
	if err != nil {
		return nil, err
	}
	return s, nil
}
