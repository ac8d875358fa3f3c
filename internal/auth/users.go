package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/database"
)

// The roles a staff member may hold; a person may hold several.
const (
	RoleAuthor   = "author"
	RoleReviewer = "reviewer"
	RoleExpert   = "expert" // an external expert of the ethics committee: reviews, and counts as one
	RoleAdmin    = "admin"
)

// Roles lists every role in display order.
var Roles = []string{RoleAuthor, RoleReviewer, RoleExpert, RoleAdmin}

// User is a staff account.
type User struct {
	ID           string
	Email        string
	Name         string
	Roles        []string
	TOTPEnabled  bool
	Disabled     bool
	CreatedAt    time.Time
	passwordHash string
	totpSecret   string
	totpLastStep int64
}

// Has reports whether u holds any of roles.
func (u *User) Has(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

// NewUser is what creating an account needs.
type NewUser struct {
	Email    string
	Name     string
	Roles    []string
	Password string
}

// Validate returns an Invalid error naming each bad field.
func (n *NewUser) Validate() error {
	fields := map[string]string{}
	if _, err := mail.ParseAddress(n.Email); err != nil || strings.ContainsAny(n.Email, "<> ") {
		fields["email"] = "Enter a valid e-mail address."
	}
	if strings.TrimSpace(n.Name) == "" {
		fields["name"] = "Enter a name."
	}
	if msg := validateRoles(n.Roles); msg != "" {
		fields["roles"] = msg
	}
	if msg := ValidatePassword(n.Password); msg != "" {
		fields["password"] = msg
	}
	if len(fields) > 0 {
		return apperr.InvalidFields("Please correct the errors below.", fields)
	}
	return nil
}

func validateRoles(roles []string) string {
	if len(roles) == 0 {
		return "Choose at least one role."
	}
	for _, r := range roles {
		if !slices.Contains(Roles, r) {
			return "Choose roles from the list."
		}
	}
	return ""
}

// Users stores accounts in the users table.
type Users struct {
	db *pgxpool.Pool
}

// NewUsers returns the account store on db.
func NewUsers(db *pgxpool.Pool) *Users { return &Users{db: db} }

const userColumns = `id, email, name, roles, totp_enabled_at IS NOT NULL, disabled_at IS NOT NULL,
	created_at, password_hash, COALESCE(totp_secret, ''), totp_last_step`

func scanUser(row pgx.Row) (*User, error) {
	u := &User{}
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Roles, &u.TOTPEnabled, &u.Disabled,
		&u.CreatedAt, &u.passwordHash, &u.totpSecret, &u.totpLastStep)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "No such account.")
	}
	return u, err
}

// Create adds an account. It returns Invalid for bad fields or an e-mail already in use.
func (s *Users) Create(ctx context.Context, tx pgx.Tx, n NewUser) (*User, error) {
	n.Email = strings.TrimSpace(n.Email)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	row := tx.QueryRow(ctx, `INSERT INTO users (email, name, roles, password_hash) VALUES ($1, $2, $3, $4)
		RETURNING `+userColumns, n.Email, strings.TrimSpace(n.Name), normaliseRoles(n.Roles), hash)
	u, err := scanUser(row)
	if database.IsUniqueViolation(err, "") {
		return nil, apperr.InvalidFields("Please correct the errors below.",
			map[string]string{"email": "An account with this e-mail already exists."})
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create user: %w", err)
	}
	return u, nil
}

func normaliseRoles(roles []string) []string {
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out)
}

// ByEmail returns the account with email; NotFound when there is none.
func (s *Users) ByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, strings.TrimSpace(email)))
}

// ByID returns the account with id; NotFound when there is none.
func (s *Users) ByID(ctx context.Context, id string) (*User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// List returns every account, by e-mail.
func (s *Users) List(ctx context.Context) ([]*User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*User, error) { return scanUser(row) })
}

// SetDisabled disables or re-enables an account; disabling ends all its sessions in the same
// transaction.
func (s *Users) SetDisabled(ctx context.Context, tx pgx.Tx, id string, disabled bool) error {
	tag, err := tx.Exec(ctx, `UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, now()) END,
		updated_at = now() WHERE id = $1`, id, disabled)
	if err != nil {
		return fmt.Errorf("auth: disable user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.NotFound, "No such account.")
	}
	if disabled {
		return revokeSessions(ctx, tx, id)
	}
	return nil
}

// SetRoles replaces an account's roles.
func (s *Users) SetRoles(ctx context.Context, tx pgx.Tx, id string, roles []string) error {
	if msg := validateRoles(roles); msg != "" {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"roles": msg})
	}
	tag, err := tx.Exec(ctx, `UPDATE users SET roles = $2, updated_at = now() WHERE id = $1`, id, normaliseRoles(roles))
	if err != nil {
		return fmt.Errorf("auth: set roles: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.NotFound, "No such account.")
	}
	return nil
}

// SetPassword replaces an account's password and ends its other sessions.
func (s *Users) SetPassword(ctx context.Context, tx pgx.Tx, id, password string) error {
	if msg := ValidatePassword(password); msg != "" {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"password": msg})
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, hash)
	if err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.NotFound, "No such account.")
	}
	return revokeSessions(ctx, tx, id)
}

// MFARequired reports whether any of roles must use a second factor.
func (s *Users) MFARequired(ctx context.Context, roles []string) (bool, error) {
	var required bool
	err := s.db.QueryRow(ctx, `SELECT COALESCE(bool_or(mfa_required), false) FROM role_policies WHERE role = ANY($1)`,
		roles).Scan(&required)
	return required, err
}

// RolePolicies returns, per role, whether it must use a second factor.
func (s *Users) RolePolicies(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.Query(ctx, `SELECT role, mfa_required FROM role_policies`)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	var role string
	var required bool
	_, err = pgx.ForEachRow(rows, []any{&role, &required}, func() error { out[role] = required; return nil })
	return out, err
}

// SetMFARequired sets which roles must use a second factor.
func (s *Users) SetMFARequired(ctx context.Context, tx pgx.Tx, required []string) error {
	_, err := tx.Exec(ctx, `UPDATE role_policies SET mfa_required = (role = ANY($1))`, required)
	return err
}

// WithAnyRole returns the enabled accounts holding any of roles.
func (s *Users) WithAnyRole(ctx context.Context, roles ...string) ([]*User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM users WHERE roles && $1 AND disabled_at IS NULL ORDER BY email`, roles)
	if err != nil {
		return nil, fmt.Errorf("auth: users with roles: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*User, error) { return scanUser(row) })
}

// ByIDs returns the enabled accounts among ids.
func (s *Users) ByIDs(ctx context.Context, ids []string) ([]*User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = ANY($1::uuid[]) AND disabled_at IS NULL ORDER BY email`, ids)
	if err != nil {
		return nil, fmt.Errorf("auth: users by id: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*User, error) { return scanUser(row) })
}
