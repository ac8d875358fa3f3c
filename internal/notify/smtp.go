package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail"
)

// SMTPSender sends messages through an SMTP server, one connection per message.
type SMTPSender struct {
	client   *mail.Client
	from     string
	server   string // host:port, for errors
	redacted string // the URL without its password, for logs
}

// NewSMTPSender configures an SMTPSender from a URL of the form
//
//	smtp://user:password@host:port?from=registry@example.org&tls=starttls
//
// smtp:// talks to port 587 and upgrades the connection with STARTTLS, refusing a server that
// does not offer it; tls=none sends in clear and tls=tls speaks TLS from the start (port 465).
// smtps:// means tls=tls. from, the sender's address, is required; it may carry a name
// (percent-encoded: "Registre <registry@example.org>"). User and password, percent-encoded,
// are optional; when given they are sent with AUTH PLAIN, which is refused in clear except to
// localhost. Errors show the URL with its password redacted.
func NewSMTPSender(rawURL string) (*SMTPSender, error) {
	cfg, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	opts := []mail.Option{mail.WithPort(cfg.port)}
	switch cfg.tls {
	case tlsNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case tlsStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case tlsImplicit:
		opts = append(opts, mail.WithSSL())
	}
	if cfg.user != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(cfg.user), mail.WithPassword(cfg.password))
	}
	client, err := mail.NewClient(cfg.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: SMTP client for %s: %w", cfg.redacted, err)
	}
	return &SMTPSender{
		client:   client,
		from:     cfg.from,
		server:   cfg.server(),
		redacted: cfg.redacted,
	}, nil
}

// String returns the URL the sender was made from, with the password redacted.
func (s *SMTPSender) String() string { return s.redacted }

// Send delivers m in one SMTP session. It returns an ErrInvalidMessage for a message that
// fails Validate.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("notify: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	msg.Subject(m.Subject)
	// RFC 3834: tells auto-responders (out of office) not to answer a machine.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	if err := s.client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("notify: SMTP %s: %w", s.server, err)
	}
	return nil
}

type tlsMode string

const (
	tlsNone     tlsMode = "none"
	tlsStartTLS tlsMode = "starttls"
	tlsImplicit tlsMode = "tls"
)

// smtpConfig is what an SMTP URL says.
type smtpConfig struct {
	host           string
	port           int
	tls            tlsMode
	user, password string
	from           string
	redacted       string
}

func (c smtpConfig) server() string {
	return net.JoinHostPort(c.host, strconv.Itoa(c.port))
}

func parseSMTPURL(rawURL string) (smtpConfig, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		// url.Parse quotes the whole URL, password included, in its error.
		return smtpConfig{}, errors.New("notify: the SMTP URL does not parse " +
			"(user name and password must be percent-encoded)")
	}
	cfg := smtpConfig{redacted: u.Redacted()}
	bad := func(format string, args ...any) (smtpConfig, error) {
		return smtpConfig{}, fmt.Errorf("notify: SMTP URL %s: %s", cfg.redacted, fmt.Sprintf(format, args...))
	}
	switch u.Scheme {
	case "smtp":
		cfg.tls = tlsStartTLS
	case "smtps":
		cfg.tls = tlsImplicit
	default:
		return bad("scheme %q, want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("no host; write smtp://host:port?from=…")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("unexpected path %q", u.Path)
	}
	cfg.host = u.Hostname()
	if cfg.host == "" {
		return bad("no host")
	}

	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("query does not parse")
	}
	for key, values := range query {
		if key != "from" && key != "tls" {
			return bad("unknown parameter %q (known: from, tls)", key)
		}
		if len(values) > 1 {
			return bad("parameter %q given %d times", key, len(values))
		}
	}
	switch mode := tlsMode(query.Get("tls")); mode {
	case "":
	case tlsNone, tlsStartTLS, tlsImplicit:
		if u.Scheme == "smtps" && mode != tlsImplicit {
			return bad("smtps means tls=tls, not tls=%s", mode)
		}
		cfg.tls = mode
	default:
		return bad("tls=%q, want none, starttls or tls", string(mode))
	}

	cfg.port = 587
	if cfg.tls == tlsImplicit {
		cfg.port = 465
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("port %q out of range", p)
		}
		cfg.port = n
	}

	from := query.Get("from")
	if from == "" {
		return bad("no from=… (the sender's address)")
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return bad("from=%q is not an e-mail address", from)
	}
	cfg.from = addr.String()

	if u.User != nil {
		cfg.user = u.User.Username()
		cfg.password, _ = u.User.Password()
		if cfg.user == "" && cfg.password != "" {
			return bad("a password without a user name")
		}
	}
	if cfg.user != "" {
		// go-mail refuses PLAIN in clear except to these names; say so now, not at the first mail.
		if cfg.tls == tlsNone && cfg.host != "localhost" && cfg.host != "127.0.0.1" && cfg.host != "::1" {
			return bad("tls=none would send the password in clear; use starttls or tls")
		}
	}
	return cfg, nil
}
