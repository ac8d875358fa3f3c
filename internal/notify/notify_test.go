package notify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/notify"
	"github.com/civictech/registry/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func message(to string) notify.Message {
	return notify.Message{
		Kind:    notify.KindDecision,
		To:      to,
		Subject: "Decisió sobre «Previsió d'impagament»",
		Body:    "A reviewer approved revision 2.\n\nConditions: none.",
	}
}

func countOutbox(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueFollowsTheTransaction(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := notify.Enqueue(ctx, tx, message("ana@example.org")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countOutbox(t, pool); n != 0 {
		t.Fatalf("after rollback the outbox has %d messages, want 0", n)
	}

	err = database.Tx(ctx, pool, func(tx pgx.Tx) error {
		return notify.Enqueue(ctx, tx, message("ana@example.org"))
	})
	if err != nil {
		t.Fatal(err)
	}
	var kind, to, subject, body string
	var attempts int
	var sent bool
	err = pool.QueryRow(ctx, `SELECT kind, recipient, subject, body, attempts, sent_at IS NOT NULL FROM outbox`).
		Scan(&kind, &to, &subject, &body, &attempts, &sent)
	if err != nil {
		t.Fatal(err)
	}
	want := message("ana@example.org")
	if kind != want.Kind || to != want.To || subject != want.Subject || body != want.Body || attempts != 0 || sent {
		t.Errorf("stored (%q, %q, %q, %q, %d, sent %v), want %+v unsent", kind, to, subject, body, attempts, sent, want)
	}
}

func TestEnqueueDedupe(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()

	due := message("owner@example.org")
	due.Kind = notify.KindRevisionDue
	due.DedupeKey = "revision_due:0b8e5a4e-5f0e-4a8c-9d43-1f0a3c2b7d11:2026-05-01"
	for range 3 {
		err := database.Tx(ctx, pool, func(tx pgx.Tx) error { return notify.Enqueue(ctx, tx, due) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countOutbox(t, pool); n != 1 {
		t.Fatalf("same dedupe key three times: %d messages, want 1", n)
	}

	due.DedupeKey = "revision_due:0b8e5a4e-5f0e-4a8c-9d43-1f0a3c2b7d11:2027-05-01"
	if err := notify.Enqueue(ctx, pool, due); err != nil {
		t.Fatal(err)
	}
	// Without a key nothing is deduplicated.
	for range 2 {
		if err := notify.Enqueue(ctx, pool, message("ana@example.org")); err != nil {
			t.Fatal(err)
		}
	}
	if n := countOutbox(t, pool); n != 4 {
		t.Fatalf("got %d messages, want 4 (1 + a new key + 2 without a key)", n)
	}
}

func TestEnqueueRefusesBadMessages(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()

	tests := []struct {
		name string
		edit func(*notify.Message)
	}{
		{"header injection in subject", func(m *notify.Message) { m.Subject = "Hello\r\nBcc: eve@example.net" }},
		{"bare LF in subject", func(m *notify.Message) { m.Subject = "Hello\nBcc: eve@example.net" }},
		{"empty subject", func(m *notify.Message) { m.Subject = "  " }},
		{"recipient not an address", func(m *notify.Message) { m.To = "ana at example.org" }},
		{"recipient empty", func(m *notify.Message) { m.To = "" }},
		{"recipient with a name", func(m *notify.Message) { m.To = "Ana <ana@example.org>" }},
		{"two recipients", func(m *notify.Message) { m.To = "ana@example.org, eve@example.net" }},
		{"header injection in recipient", func(m *notify.Message) { m.To = "ana@example.org\r\nBcc: eve@example.net" }},
		{"no kind", func(m *notify.Message) { m.Kind = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := message("ana@example.org")
			tt.edit(&m)
			err := notify.Enqueue(ctx, pool, m)
			if !errors.Is(err, notify.ErrInvalidMessage) {
				t.Fatalf("Enqueue(%+v) = %v, want ErrInvalidMessage", m, err)
			}
		})
	}
	if n := countOutbox(t, pool); n != 0 {
		t.Fatalf("refused messages left %d rows", n)
	}

	// The table refuses a multi-line subject too, whoever writes it.
	_, err := pool.Exec(ctx, `INSERT INTO outbox (kind, recipient, subject, body) VALUES ('x', 'a@example.org', e'a\r\nBcc: b@example.org', '')`)
	if !database.HasCode(err, "23514") {
		t.Fatalf("direct insert of a two-line subject: %v, want check_violation", err)
	}
}
