package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
)

// Service signs staff in and manages accounts; every step that changes something is one
// transaction with its audit event.
type Service struct {
	DB       *pgxpool.Pool
	Users    *Users
	Sessions *SessionStore
	// Secrets seals the keys of second-factor apps (see SecretBox); without it no one can
	// turn the second factor on.
	Secrets *SecretBox
	Now     func() time.Time
}

// NewService wires the account store and the session store on db.
func NewService(db *pgxpool.Pool, hashKey []byte, secure bool) *Service {
	return &Service{DB: db, Users: NewUsers(db), Sessions: NewSessionStore(db, hashKey, secure), Now: time.Now}
}

// Actor identifies who does an action, for audit events.
type Actor struct {
	ID, Email, ClientIP, RequestID string
}

func (a Actor) event(action, subject string, details map[string]any) audit.Event {
	return audit.Event{ActorID: a.ID, ActorEmail: a.Email, ClientIP: a.ClientIP, RequestID: a.RequestID,
		Action: action, Subject: subject, Details: details}
}

var errBadCredentials = apperr.New(apperr.Unauthenticated, "Incorrect e-mail or password.")

// Authenticate checks a password. It returns TooManyRequests (with RetryAfter) while the
// account or address is throttled, Unauthenticated for a wrong e-mail, password or a disabled
// account (the same message, so that it reveals nothing), and the user otherwise. Each
// failure is counted and audited even though an error is returned.
func (s *Service) Authenticate(ctx context.Context, email, password string, by Actor) (*User, error) {
	var user *User
	var result error
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		wait, err := throttled(ctx, tx, email, by.ClientIP)
		if err != nil {
			return err
		}
		if wait > 0 {
			result = &apperr.Error{Code: apperr.TooManyRequests, Message: "Too many failed sign-ins. Please wait and try again.", RetryAfter: wait}
			return audit.Record(ctx, tx, by.event(audit.LoginThrottled, email, nil))
		}
		u, err := s.Users.ByEmail(ctx, email)
		hash := dummyHash
		if err == nil {
			hash = u.passwordHash
		} else if !apperr.Is(err, apperr.NotFound) {
			return err
		}
		ok, err := CheckPassword(hash, password)
		if err != nil {
			return err
		}
		if u == nil || !ok || u.Disabled {
			result = errBadCredentials
			if err := recordFailure(ctx, tx, email, by.ClientIP); err != nil {
				return err
			}
			return audit.Record(ctx, tx, by.event(audit.LoginFailed, email, map[string]any{"reason": failReason(u, ok)}))
		}
		user = u
		return clearFailures(ctx, tx, email)
	})
	if err != nil {
		return nil, fmt.Errorf("auth: authenticate: %w", err)
	}
	return user, result
}

func failReason(u *User, passwordOK bool) string {
	switch {
	case u == nil:
		return "unknown account"
	case u.Disabled:
		return "disabled account"
	case !passwordOK:
		return "wrong password"
	}
	return ""
}

// VerifyTOTP checks the second factor of a user who passed the password step. A wrong code
// counts as a failed sign-in for throttling.
func (s *Service) VerifyTOTP(ctx context.Context, userID, code string, by Actor) (*User, error) {
	var user *User
	var result error
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		u, err := s.Users.ByID(ctx, userID)
		if err != nil {
			return err
		}
		wait, err := throttled(ctx, tx, u.Email, by.ClientIP)
		if err != nil {
			return err
		}
		if wait > 0 {
			result = &apperr.Error{Code: apperr.TooManyRequests, Message: "Too many failed sign-ins. Please wait and try again.", RetryAfter: wait}
			return audit.Record(ctx, tx, by.event(audit.LoginThrottled, u.Email, nil))
		}
		ok, err := s.useTOTP(ctx, tx, u, code)
		if err != nil {
			return err
		}
		if !ok || u.Disabled || !u.TOTPEnabled {
			result = apperr.InvalidFields("Please correct the errors below.", map[string]string{"code": "The code is not valid. Enter the current code from your app."})
			if err := recordFailure(ctx, tx, u.Email, by.ClientIP); err != nil {
				return err
			}
			return audit.Record(ctx, tx, by.event(audit.LoginFailed, u.Email, map[string]any{"reason": "wrong second-factor code"}))
		}
		user = u
		return clearFailures(ctx, tx, u.Email)
	})
	if err != nil {
		return nil, fmt.Errorf("auth: verify totp: %w", err)
	}
	return user, result
}

// RecordLogin audits a completed sign-in.
func (s *Service) RecordLogin(ctx context.Context, u *User, by Actor) error {
	by.ID, by.Email = u.ID, u.Email
	return audit.Record(ctx, s.DB, by.event(audit.Login, u.Email, nil))
}

// Record audits an event outside a larger transaction.
func (s *Service) Record(ctx context.Context, by Actor, action, subject string, details map[string]any) error {
	return audit.Record(ctx, s.DB, by.event(action, subject, details))
}

// CreateUser adds an account and audits it.
func (s *Service) CreateUser(ctx context.Context, n NewUser, by Actor) (*User, error) {
	var u *User
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		if u, err = s.Users.Create(ctx, tx, n); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(audit.UserCreated, u.Email, map[string]any{"roles": u.Roles}))
	})
	return u, err
}

// SetDisabled disables (ending every session) or re-enables the account with email.
func (s *Service) SetDisabled(ctx context.Context, email string, disabled bool, by Actor) error {
	return s.changeUser(ctx, email, by, func(tx pgx.Tx, u *User) (string, map[string]any, error) {
		if disabled && u.ID == by.ID {
			return "", nil, apperr.New(apperr.Conflict, "You cannot disable your own account.")
		}
		action := audit.UserEnabled
		if disabled {
			action = audit.UserDisabled
		}
		return action, nil, s.Users.SetDisabled(ctx, tx, u.ID, disabled)
	})
}

// SetRoles replaces the roles of the account with email.
func (s *Service) SetRoles(ctx context.Context, email string, roles []string, by Actor) error {
	return s.changeUser(ctx, email, by, func(tx pgx.Tx, u *User) (string, map[string]any, error) {
		details := map[string]any{"from": u.Roles, "to": normaliseRoles(roles)}
		return audit.UserRoles, details, s.Users.SetRoles(ctx, tx, u.ID, roles)
	})
}

// SetPassword replaces the password of the account with email and ends its sessions.
func (s *Service) SetPassword(ctx context.Context, email, password string, by Actor) error {
	return s.changeUser(ctx, email, by, func(tx pgx.Tx, u *User) (string, map[string]any, error) {
		return audit.UserPassword, nil, s.Users.SetPassword(ctx, tx, u.ID, password)
	})
}

// RevokeSessions ends every session of the account with email.
func (s *Service) RevokeSessions(ctx context.Context, email string, by Actor) error {
	return s.changeUser(ctx, email, by, func(tx pgx.Tx, u *User) (string, map[string]any, error) {
		return audit.SessionsRevoked, nil, revokeSessions(ctx, tx, u.ID)
	})
}

// EnableTOTP turns on the second factor with secret once code proves the user's app has it.
func (s *Service) EnableTOTP(ctx context.Context, userID, secret, code string, by Actor) error {
	step := matchTOTP(secret, code, s.Now())
	if step == 0 {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"code": "The code is not valid. Enter the current code from your app."})
	}
	sealed, err := s.Secrets.Seal(userID, secret)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = $2, totp_enabled_at = now(), totp_last_step = $3,
			updated_at = now() WHERE id = $1`, userID, sealed, step); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(audit.MFAEnabled, by.Email, nil))
	})
}

// DisableTOTP turns off the second factor, unless a role of the user requires it.
func (s *Service) DisableTOTP(ctx context.Context, u *User, code string, by Actor) error {
	required, err := s.Users.MFARequired(ctx, u.Roles)
	if err != nil {
		return err
	}
	if required {
		return apperr.New(apperr.Conflict, "Your role requires a second factor.")
	}
	return pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		ok, err := s.useTOTP(ctx, tx, u, code)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.InvalidFields("Please correct the errors below.", map[string]string{"code": "The code is not valid. Enter the current code from your app."})
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, updated_at = now()
			WHERE id = $1`, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(audit.MFADisabled, u.Email, nil))
	})
}

// SetMFAPolicy sets which roles must use a second factor.
func (s *Service) SetMFAPolicy(ctx context.Context, required []string, by Actor) error {
	if len(required) > 0 && validateRoles(required) != "" {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"mfa": "Choose roles from the list."})
	}
	return pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		if err := s.Users.SetMFARequired(ctx, tx, required); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(audit.MFAPolicy, "", map[string]any{"required": required}))
	})
}

func (s *Service) changeUser(ctx context.Context, email string, by Actor,
	change func(pgx.Tx, *User) (string, map[string]any, error)) error {
	u, err := s.Users.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		action, details, err := change(tx, u)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(action, u.Email, details))
	})
}

// Cleanup deletes expired sessions and old failure counts.
func (s *Service) Cleanup(ctx context.Context) error {
	_, err := s.DB.Exec(ctx, `DELETE FROM login_failures WHERE failed_at < now() - interval '1 day'`)
	return errors.Join(err, s.Sessions.DeleteExpired(ctx))
}
