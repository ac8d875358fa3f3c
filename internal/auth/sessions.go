package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Session lifetimes: a session ends after 30 minutes without a request, and 12 hours after
// sign-in whatever happens.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// Session values the store keeps in their own columns.
const (
	keyUserID     = "user_id"
	keyMFAPending = "mfa_pending"
)

// SessionStore is a gorilla/sessions Store kept in PostgreSQL, so that sessions can be listed
// and revoked: the cookie holds a signed random token, the sessions table its SHA-256.
type SessionStore struct {
	db      *pgxpool.Pool
	codec   *securecookie.SecureCookie
	Name    string
	Options sessions.Options
}

// NewSessionStore returns a store signing cookies with hashKey. Behind HTTPS (secure) the
// cookie is Secure and takes the __Host- prefix, which pins it to this host and path /.
func NewSessionStore(db *pgxpool.Pool, hashKey []byte, secure bool) *SessionStore {
	name := "session"
	if secure {
		name = "__Host-session"
	}
	codec := securecookie.New(hashKey, nil)
	codec.MaxAge(int(AbsoluteTimeout.Seconds()))
	return &SessionStore{
		db:    db,
		codec: codec,
		Name:  name,
		Options: sessions.Options{Path: "/", HttpOnly: true, Secure: secure,
			SameSite: http.SameSiteLaxMode},
	}
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Get returns the request's session; see New.
func (st *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return st.New(r, name)
}

// New loads the session named by the request's cookie, or returns a new empty one when
// there is none, or it expired, or it was revoked. Loading it counts as activity.
func (st *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(st, name)
	opts := st.Options
	s.Options = &opts
	s.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return s, nil
	}
	var token string
	if err := st.codec.Decode(name, c.Value, &token); err != nil {
		return s, nil // a forged or expired cookie is the same as none
	}
	var userID *string
	var mfaPending, stale bool
	var data []byte
	err = st.db.QueryRow(r.Context(), `
		SELECT user_id::text, mfa_pending, data, last_seen_at < now() - interval '1 minute'
		FROM sessions
		WHERE token_hash = $1 AND last_seen_at > now() - make_interval(secs => $2)
		  AND created_at > now() - make_interval(secs => $3)`,
		hashToken(token), IdleTimeout.Seconds(), AbsoluteTimeout.Seconds()).Scan(&userID, &mfaPending, &data, &stale)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("auth: load session: %w", err)
	}
	if len(data) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s.Values); err != nil {
			return s, fmt.Errorf("auth: decode session: %w", err)
		}
	}
	if userID != nil {
		s.Values[keyUserID] = *userID
	}
	s.Values[keyMFAPending] = mfaPending
	s.ID, s.IsNew = token, false
	if stale {
		// Only once a minute: enough for a 30-minute idle limit, and spares a write per request.
		if _, err := st.db.Exec(r.Context(), `UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1`,
			hashToken(token)); err != nil {
			return s, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return s, nil
}

// Save writes s and its cookie. A session with MaxAge < 0 is deleted. An existing session is
// only ever updated, never re-created, so a request racing a revocation cannot revive it.
func (st *SessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	ctx := r.Context()
	if s.Options.MaxAge < 0 {
		if s.ID != "" {
			if _, err := st.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(s.ID)); err != nil {
				return fmt.Errorf("auth: delete session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(s.Name(), "", s.Options))
		return nil
	}
	userID, _ := s.Values[keyUserID].(string)
	mfaPending, _ := s.Values[keyMFAPending].(bool)
	rest := map[any]any{}
	for k, v := range s.Values {
		if k != keyUserID && k != keyMFAPending {
			rest[k] = v
		}
	}
	var data bytes.Buffer
	if err := gob.NewEncoder(&data).Encode(rest); err != nil {
		return fmt.Errorf("auth: encode session: %w", err)
	}
	if s.ID == "" {
		s.ID = randomToken()
		if _, err := st.db.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, mfa_pending, data)
			VALUES ($1, NULLIF($2, '')::uuid, $3, $4)`, hashToken(s.ID), userID, mfaPending, data.Bytes()); err != nil {
			return fmt.Errorf("auth: insert session: %w", err)
		}
	} else if _, err := st.db.Exec(ctx, `UPDATE sessions SET user_id = NULLIF($2, '')::uuid, mfa_pending = $3,
		data = $4, last_seen_at = now() WHERE token_hash = $1`, hashToken(s.ID), userID, mfaPending, data.Bytes()); err != nil {
		return fmt.Errorf("auth: update session: %w", err)
	}
	encoded, err := st.codec.Encode(s.Name(), s.ID)
	if err != nil {
		return fmt.Errorf("auth: encode cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(s.Name(), encoded, s.Options))
	return nil
}

// Renew deletes s from the store and clears its ID, so the next Save issues a new token:
// done at sign-in, so that a token planted before it is worthless after it.
func (st *SessionStore) Renew(ctx context.Context, s *sessions.Session) error {
	if s.ID != "" {
		if _, err := st.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(s.ID)); err != nil {
			return fmt.Errorf("auth: renew session: %w", err)
		}
	}
	s.ID = ""
	s.IsNew = true
	return nil
}

// revokeSessions ends every session of a user.
func revokeSessions(ctx context.Context, tx pgx.Tx, userID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("auth: revoke sessions: %w", err)
	}
	return nil
}

// DeleteExpired removes sessions past either limit.
func (st *SessionStore) DeleteExpired(ctx context.Context) error {
	_, err := st.db.Exec(ctx, `DELETE FROM sessions WHERE last_seen_at < now() - make_interval(secs => $1)
		OR created_at < now() - make_interval(secs => $2)`, IdleTimeout.Seconds(), AbsoluteTimeout.Seconds())
	return err
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
