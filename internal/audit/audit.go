// Package audit keeps the append-only record of who did what: sign-ins, refused requests,
// account changes and every state change of an entry. The application's database role may
// insert and read audit events, never change or delete them.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Actions recorded by the foundation; other packages add their own.
const (
	Login             = "login"
	LoginFailed       = "login_failed"
	LoginThrottled    = "login_throttled"
	Logout            = "logout"
	Forbidden         = "forbidden"
	UserCreated       = "user_created"
	UserDisabled      = "user_disabled"
	UserEnabled       = "user_enabled"
	UserRoles         = "user_roles_changed"
	UserPassword      = "user_password_changed"
	MFAEnabled        = "mfa_enabled"
	MFADisabled       = "mfa_disabled"
	MFAPolicy         = "mfa_policy_changed"
	TokenCreated      = "token_created"
	TokenRevoked      = "token_revoked"
	SessionsRevoked   = "sessions_revoked"
	DepartmentAdded   = "department_added"
	DepartmentChanged = "department_changed"
)

// Event is one audit record. ActorID is empty for anonymous or system actions.
type Event struct {
	ID         int64
	At         time.Time
	ActorID    string
	ActorEmail string
	Action     string
	Subject    string
	ClientIP   string
	RequestID  string
	Details    map[string]any
}

// Execer is a pool or a transaction: an event is written in the transaction of the action it
// records, so that both land or neither does.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Querier runs queries on a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Record appends e.
func Record(ctx context.Context, db Execer, e Event) error {
	details, err := json.Marshal(e.Details)
	if err != nil {
		return fmt.Errorf("audit: details: %w", err)
	}
	if e.Details == nil {
		details = []byte("{}")
	}
	_, err = db.Exec(ctx, `
		INSERT INTO audit_events (actor_id, actor_email, action, subject, client_ip, request_id, details)
		VALUES (NULLIF($1, '')::uuid, $2, $3, $4, $5, $6, $7)`,
		e.ActorID, e.ActorEmail, e.Action, e.Subject, e.ClientIP, e.RequestID, details)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

// Filter selects events for List. Zero fields match everything.
type Filter struct {
	Action  string
	Actor   string // e-mail, exact
	Subject string // prefix
	Before  int64  // events with a smaller ID, for paging backwards
	Limit   int
}

// List returns events newest first.
func List(ctx context.Context, db Querier, f Filter) ([]Event, error) {
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Actor != "" {
		add("actor_email = $%d", f.Actor)
	}
	if f.Subject != "" {
		add("starts_with(subject, $%d)", f.Subject)
	}
	if f.Before > 0 {
		add("id < $%d", f.Before)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	sql := `SELECT id, at, COALESCE(actor_id::text, ''), actor_email, action, subject, client_ip, request_id, details
		FROM audit_events WHERE ` + joinAnd(where) + fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorEmail, &e.Action, &e.Subject, &e.ClientIP, &e.RequestID, &e.Details)
		return e, err
	})
}

func joinAnd(parts []string) string {
	out := parts[0]
	for _, p := range parts[1:] {
		out += " AND " + p
	}
	return out
}
