package notify_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/civictech/registry/internal/notify"
)

// smtpSession is what the test server received in one mail transaction.
type smtpSession struct {
	auth string // decoded AUTH PLAIN response: "\x00user\x00password"
	from string // MAIL FROM argument
	rcpt []string
	data []byte
}

// startSMTPServer runs a minimal SMTP server on 127.0.0.1: greeting, EHLO without STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. Each completed DATA is sent on the channel.
func startSMTPServer(t *testing.T) (addr string, received <-chan smtpSession) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan smtpSession, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSMTP(conn, ch)
		}
	}()
	return ln.Addr().String(), ch
}

func serveSMTP(conn net.Conn, received chan<- smtpSession) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := textproto.NewReader(bufio.NewReader(conn))
	reply := func(lines ...string) {
		for _, l := range lines {
			if _, err := io.WriteString(conn, l+"\r\n"); err != nil {
				return
			}
		}
	}
	reply("220 test.localhost ESMTP ready")
	var s smtpSession
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-test.localhost", "250-8BITMIME", "250 AUTH PLAIN")
		case "HELO":
			reply("250 test.localhost")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if mech != "PLAIN" {
				reply("504 5.5.4 unknown mechanism")
				continue
			}
			if resp == "" {
				reply("334 ")
				if resp, err = r.ReadLine(); err != nil {
					return
				}
			}
			dec, err := base64.StdEncoding.DecodeString(resp)
			if err != nil {
				reply("501 5.5.2 bad base64")
				continue
			}
			s.auth = string(dec)
			reply("235 2.7.0 authenticated")
		case "MAIL":
			s.from = strings.TrimPrefix(arg, "FROM:")
			reply("250 2.1.0 ok")
		case "RCPT":
			s.rcpt = append(s.rcpt, strings.TrimPrefix(arg, "TO:"))
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			if s.data, err = r.ReadDotBytes(); err != nil {
				return
			}
			reply("250 2.0.0 queued")
			received <- s
			s = smtpSession{auth: s.auth}
		case "RSET":
			s = smtpSession{auth: s.auth}
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.1 not implemented")
		}
	}
}

// decodeBody returns the text of a single-part message, undoing its transfer encoding.
func decodeBody(t *testing.T, msg *netmail.Message) string {
	t.Helper()
	var r io.Reader = msg.Body
	switch enc := strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")); enc {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("unexpected Content-Transfer-Encoding %q", enc)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

func TestSMTPSenderDelivers(t *testing.T) {
	addr, received := startSMTPServer(t)
	want := notify.Message{
		Kind:    notify.KindComment,
		To:      "autora@example.org",
		Subject: "Nou comentari: «Risc de caiguda d'arbrat»",
		Body:    "Un revisor ha comentat la revisió 3.\n\nLínia amb accents: àèéíòóú ç·l.\n.\nA line that is only a dot, above.",
	}

	tests := []struct {
		name     string
		url      string
		wantAuth string
	}{
		{"no auth", "smtp://" + addr + "?from=registry@example.org&tls=none", ""},
		// PLAIN in clear is allowed to 127.0.0.1 only.
		{"auth plain", "smtp://mailer:s%40cret@" + addr + "?from=registry@example.org&tls=none", "\x00mailer\x00s@cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := notify.NewSMTPSender(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Send(ctx, want); err != nil {
				t.Fatal(err)
			}
			var got smtpSession
			select {
			case got = <-received:
			case <-ctx.Done():
				t.Fatal("the server received no message")
			}

			if got.auth != tt.wantAuth {
				t.Errorf("AUTH PLAIN = %q, want %q", got.auth, tt.wantAuth)
			}
			if !strings.HasPrefix(got.from, "<registry@example.org>") {
				t.Errorf("MAIL FROM:%s, want <registry@example.org>", got.from)
			}
			if len(got.rcpt) != 1 || !strings.HasPrefix(got.rcpt[0], "<autora@example.org>") {
				t.Errorf("RCPT TO: %q, want one <autora@example.org>", got.rcpt)
			}

			msg, err := netmail.ReadMessage(bytes.NewReader(got.data))
			if err != nil {
				t.Fatalf("parse message: %v\n%s", err, got.data)
			}
			from, err := netmail.ParseAddress(msg.Header.Get("From"))
			if err != nil || from.Address != "registry@example.org" {
				t.Errorf("From: %q (%v)", msg.Header.Get("From"), err)
			}
			to, err := netmail.ParseAddress(msg.Header.Get("To"))
			if err != nil || to.Address != want.To {
				t.Errorf("To: %q (%v)", msg.Header.Get("To"), err)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || subject != want.Subject {
				t.Errorf("Subject: %q decodes to %q (%v), want %q", msg.Header.Get("Subject"), subject, err, want.Subject)
			}
			if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type: %q, want text/plain", ct)
			}
			if h := msg.Header.Get("Auto-Submitted"); h != "auto-generated" {
				t.Errorf("Auto-Submitted: %q, want auto-generated", h)
			}
			if body := decodeBody(t, msg); body != want.Body {
				t.Errorf("body:\n%s\nwant:\n%s", body, want.Body)
			}
		})
	}
}

func TestSMTPSenderErrors(t *testing.T) {
	addr, _ := startSMTPServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := notify.Message{Kind: "test", To: "ana@example.org", Subject: "Hello", Body: "Hi"}

	t.Run("STARTTLS required by default", func(t *testing.T) {
		s, err := notify.NewSMTPSender("smtp://" + addr + "?from=registry@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, m); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("Send to a server without STARTTLS = %v, want a refusal", err)
		}
	})

	t.Run("no password in errors", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		ln.Close()
		s, err := notify.NewSMTPSender("smtp://mailer:hunter2@" + closed + "?from=registry@example.org&tls=none")
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(ctx, m)
		if err == nil {
			t.Fatal("Send to a closed port succeeded")
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(s.String(), "hunter2") {
			t.Errorf("password leaked: error %q, sender %q", err, s)
		}
	})

	t.Run("invalid message", func(t *testing.T) {
		s, err := notify.NewSMTPSender("smtp://" + addr + "?from=registry@example.org&tls=none")
		if err != nil {
			t.Fatal(err)
		}
		bad := m
		bad.Subject = "Hello\r\nBcc: eve@example.net"
		if err := s.Send(ctx, bad); !errors.Is(err, notify.ErrInvalidMessage) {
			t.Fatalf("Send with a two-line subject = %v, want ErrInvalidMessage", err)
		}
	})
}

func TestSenderFromURL(t *testing.T) {
	s, err := notify.SenderFromURL("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(notify.LogSender); !ok {
		t.Errorf("SenderFromURL(\"\") = %T, want LogSender", s)
	}
	s, err = notify.SenderFromURL("smtps://mail.example.org?from=registry@example.org", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*notify.SMTPSender); !ok {
		t.Errorf("SenderFromURL(smtps://…) = %T, want *SMTPSender", s)
	}
	if _, err := notify.SenderFromURL("http://mail.example.org", nil); err == nil {
		t.Error("SenderFromURL(http://…) succeeded")
	}
}
