package notify

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSMTPURL(t *testing.T) {
	const from = "from=registry@example.org"
	ok := []struct {
		url  string
		want smtpConfig
	}{
		{"smtp://mail.example.org?" + from,
			smtpConfig{host: "mail.example.org", port: 587, tls: tlsStartTLS, from: "<registry@example.org>"}},
		{"SMTP://mail.example.org/?" + from + "&tls=starttls",
			smtpConfig{host: "mail.example.org", port: 587, tls: tlsStartTLS, from: "<registry@example.org>"}},
		{"smtp://mail.example.org:25?" + from + "&tls=none",
			smtpConfig{host: "mail.example.org", port: 25, tls: tlsNone, from: "<registry@example.org>"}},
		{"smtp://mail.example.org?" + from + "&tls=tls",
			smtpConfig{host: "mail.example.org", port: 465, tls: tlsImplicit, from: "<registry@example.org>"}},
		{"smtps://mailer:p%40ss%3Aw0rd@mail.example.org?" + from,
			smtpConfig{host: "mail.example.org", port: 465, tls: tlsImplicit, user: "mailer", password: "p@ss:w0rd", from: "<registry@example.org>"}},
		{"smtps://mail.example.org:2465?" + from + "&tls=tls",
			smtpConfig{host: "mail.example.org", port: 2465, tls: tlsImplicit, from: "<registry@example.org>"}},
		{"smtp://mailer:secret@mail.example.org:2525?" + from,
			smtpConfig{host: "mail.example.org", port: 2525, tls: tlsStartTLS, user: "mailer", password: "secret", from: "<registry@example.org>"}},
		{"smtp://mailer:secret@localhost:25?" + from + "&tls=none",
			smtpConfig{host: "localhost", port: 25, tls: tlsNone, user: "mailer", password: "secret", from: "<registry@example.org>"}},
		{"smtp://[::1]:2525?" + from + "&tls=none",
			smtpConfig{host: "::1", port: 2525, tls: tlsNone, from: "<registry@example.org>"}},
		{"smtp://mail.example.org?from=Registre%20d%27algorismes%20%3Cregistry@example.org%3E",
			smtpConfig{host: "mail.example.org", port: 587, tls: tlsStartTLS, from: `"Registre d'algorismes" <registry@example.org>`}},
	}
	for _, tt := range ok {
		t.Run(tt.url, func(t *testing.T) {
			got, err := parseSMTPURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got.redacted = ""
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(smtpConfig{})); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if _, err := NewSMTPSender(tt.url); err != nil {
				t.Errorf("NewSMTPSender: %v", err)
			}
		})
	}

	bad := []struct{ url, why string }{
		{"", "scheme"},
		{"mail.example.org:587", "scheme"},
		{"http://mailer:hunter2@mail.example.org?" + from, "scheme"},
		{"smtp:mail.example.org?" + from, "no host"},
		{"smtp://?" + from, "no host"},
		{"smtp://mailer:hunter2@mail.example.org", "from"},
		{"smtp://mail.example.org?from=", "from"},
		{"smtp://mailer:hunter2@mail.example.org?from=registry", "from"},
		{"smtp://mail.example.org:0?" + from, "port"},
		{"smtp://mail.example.org:65536?" + from, "port"},
		{"smtp://mailer:hunter2@mail.example.org:smtp?" + from, "parse"},
		{"smtp://mail.example.org?" + from + "&tls=ssl", "tls="},
		{"smtp://mail.example.org?" + from + "&tls=none&tls=starttls", "2 times"},
		{"smtps://mailer:hunter2@mail.example.org?" + from + "&tls=starttls", "smtps means tls=tls"},
		{"smtps://mail.example.org?" + from + "&tls=none", "smtps means tls=tls"},
		{"smtp://mail.example.org?" + from + "&tsl=none", "unknown parameter"},
		{"smtp://mail.example.org/relay?" + from, "path"},
		{"smtp://:hunter2@mail.example.org?" + from, "without a user"},
		{"smtp://mailer:hunter2@mail.example.org?" + from + "&tls=none", "in clear"},
		{"smtp://mailer:hunter%zz@mail.example.org?" + from, "parse"},
	}
	for _, tt := range bad {
		t.Run(tt.url, func(t *testing.T) {
			_, err := parseSMTPURL(tt.url)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
			if strings.Contains(err.Error(), "hunter") {
				t.Errorf("error %q shows the password", err)
			}
			if _, err := NewSMTPSender(tt.url); err == nil {
				t.Error("NewSMTPSender accepted it")
			}
		})
	}
}
