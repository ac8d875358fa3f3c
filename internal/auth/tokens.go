package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
)

// API tokens look like "reg_" followed by 32 random bytes in unpadded base64url: the
// marker makes a leaked token easy to recognise (and to scan for in code), and 256 bits
// make guessing one pointless, so a lookup by hash needs no throttling.
const (
	tokenMarker       = "reg_"
	tokenLength       = len(tokenMarker) + 43
	tokenPrefixLength = 8
	// MaxTokenName is the longest token name, in characters.
	MaxTokenName = 100
	// tokenTouchInterval spaces out the writes that record when a token was last used, so
	// that a busy client does not write a row on every request.
	tokenTouchInterval = time.Minute
)

// Token is an API token as its owner sees it; the token itself is shown once, at creation,
// and only its hash is stored.
type Token struct {
	ID         string
	UserID     string
	Name       string
	Prefix     string // the token's first characters, to tell tokens apart
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	ExpiresAt  *time.Time
}

// Expired reports whether the token has passed its expiry time at now.
func (t Token) Expired(now time.Time) bool { return t.ExpiresAt != nil && !t.ExpiresAt.After(now) }

// Active reports whether the token still signs requests in at now.
func (t Token) Active(now time.Time) bool { return t.RevokedAt == nil && !t.Expired(now) }

var errBadToken = apperr.New(apperr.Unauthenticated, "Invalid or revoked API token.")

// validateTokenName returns the trimmed name, or an Invalid error for the field "name".
func validateTokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	msg := ""
	switch {
	case name == "":
		msg = "Enter a name for the token."
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		msg = "The name cannot contain line breaks or control characters."
	case utf8.RuneCountInString(name) > MaxTokenName:
		msg = "Use at most 100 characters."
	}
	if msg != "" {
		return "", apperr.InvalidFields("Please correct the errors below.", map[string]string{"name": msg})
	}
	return name, nil
}

const tokenColumns = `id, user_id, name, prefix, created_at, last_used_at, revoked_at, expires_at`

func scanToken(row pgx.Row) (Token, error) {
	var t Token
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt, &t.ExpiresAt)
	return t, err
}

// isBadUUID reports whether err is PostgreSQL refusing a malformed value (22P02), as for an
// ID in an address that is not a UUID: such an ID names nothing.
func isBadUUID(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "22P02"
}

// tokenSubject names a token in audit events. It starts with the owner's e-mail, so the
// events show up among the account's own.
func tokenSubject(email, name string) string { return email + ": " + name }

// CreateToken makes a new API token for the account userID and returns it in plain text,
// the only time it is ever available. It returns Invalid (field "name") for an empty or
// overlong name, NotFound for an unknown account and Conflict for a disabled one.
func (s *Service) CreateToken(ctx context.Context, userID, name string, by Actor) (string, *Token, error) {
	name, err := validateTokenName(name)
	if err != nil {
		return "", nil, err
	}
	plaintext := tokenMarker + randomToken()
	var tok Token
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		var email string
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT email, disabled_at IS NOT NULL FROM users WHERE id = $1 FOR SHARE`, userID).
			Scan(&email, &disabled)
		if errors.Is(err, pgx.ErrNoRows) || isBadUUID(err) {
			return apperr.New(apperr.NotFound, "No such account.")
		}
		if err != nil {
			return err
		}
		if disabled {
			return apperr.New(apperr.Conflict, "The account is disabled.")
		}
		tok, err = scanToken(tx.QueryRow(ctx, `
			INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, $2, $3, $4)
			RETURNING `+tokenColumns, userID, name, hashToken(plaintext), plaintext[:tokenPrefixLength]))
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return audit.Record(ctx, tx, by.event(audit.TokenCreated, tokenSubject(email, name),
			map[string]any{"token_id": tok.ID, "prefix": tok.Prefix}))
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("auth: create token: %w", err)
	}
	return plaintext, &tok, nil
}

// ListTokens returns the tokens of the account userID: those not revoked first, newest first.
func (s *Service) ListTokens(ctx context.Context, userID string) ([]Token, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1
		ORDER BY revoked_at IS NOT NULL, created_at DESC, id`, userID)
	if err != nil {
		if isBadUUID(err) {
			return nil, apperr.New(apperr.NotFound, "No such account.")
		}
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	tokens, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Token, error) { return scanToken(row) })
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	return tokens, nil
}

// RevokeToken ends the token tokenID of the account userID. It returns NotFound when the
// account has no such token, so that nobody learns of another's tokens; revoking a token
// twice is not an error (and is audited once).
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID string, by Actor) error {
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		var email, name, prefix string
		var revoked bool
		err := tx.QueryRow(ctx, `
			SELECT u.email, t.name, t.prefix, t.revoked_at IS NOT NULL
			FROM api_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.id = $1 AND t.user_id = $2
			FOR UPDATE OF t`, tokenID, userID).Scan(&email, &name, &prefix, &revoked)
		if errors.Is(err, pgx.ErrNoRows) || isBadUUID(err) {
			return apperr.New(apperr.NotFound, "No such token.")
		}
		if err != nil {
			return err
		}
		if revoked {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, tokenID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(audit.TokenRevoked, tokenSubject(email, name),
			map[string]any{"token_id": tokenID, "prefix": prefix}))
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return err
		}
		return fmt.Errorf("auth: revoke token: %w", err)
	}
	return nil
}

// UserForToken returns the account a token acts for. It returns Unauthenticated, with one
// message for every case so that a caller learns nothing, for a malformed, unknown, revoked
// or expired token and for a disabled account. It records when the token was last used, at
// most once per tokenTouchInterval.
func (s *Service) UserForToken(ctx context.Context, plaintext string) (*User, error) {
	if len(plaintext) != tokenLength || !strings.HasPrefix(plaintext, tokenMarker) {
		return nil, errBadToken
	}
	var id, userID string
	var touch bool
	err := s.DB.QueryRow(ctx, `
		SELECT id, user_id, last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2)
		FROM api_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
		hashToken(plaintext), tokenTouchInterval.Seconds()).Scan(&id, &userID, &touch)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find token: %w", err)
	}
	u, err := s.Users.ByID(ctx, userID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && u.Disabled) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if touch {
		// The condition repeats the check, so that parallel requests write the row once.
		if _, err := s.DB.Exec(ctx, `UPDATE api_tokens SET last_used_at = now()
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
			id, tokenTouchInterval.Seconds()); err != nil {
			return nil, fmt.Errorf("auth: touch token: %w", err)
		}
	}
	return u, nil
}
