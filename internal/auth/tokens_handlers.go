package auth

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

// LoadToken signs in API requests that carry "Authorization: Bearer <token>": the token's
// account becomes the viewer, with no session. An Authorization header that is not a
// bearer token, or a token that is unknown, revoked or expired, or whose account is
// disabled, is answered 401 with WWW-Authenticate, never treated as anonymous: a client
// that meant to authenticate should learn that it did not.
//
// Tokens act only under /api/: the pages keep to sessions, so that a leaked token cannot
// mint further tokens or change the account in the browser pages, and so that a Basic
// header added by a proxy in front of the site does not lock everyone out of the pages.
// Requests without the header, and pages, pass through untouched.
func (m *Middleware) LoadToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values("Authorization")
		if len(values) == 0 || !web.IsAPI(r) {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := bearerToken(values)
		var u *User
		var err error
		if ok {
			u, err = m.svc.UserForToken(r.Context(), token)
		} else {
			err = errBadToken
		}
		if err != nil {
			if apperr.Is(err, apperr.Unauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			m.rd.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(web.WithViewer(r.Context(), viewerOf(u))))
	})
}

// bearerToken returns the token of a single "Bearer <token>" header (RFC 6750 §2.1; the
// scheme is case-insensitive).
func bearerToken(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimLeft(token, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

type tokensData struct {
	Tokens    []Token
	Form      *web.Form
	Created   *Token // the token just created, whose Plaintext is shown once
	Plaintext string
	Now       time.Time
}

// Tokens lists the viewer's API tokens with the form to create one.
func (h *Handlers) Tokens(w http.ResponseWriter, r *http.Request) error {
	return h.renderTokens(w, r, http.StatusOK, web.NewForm(nil), nil, "")
}

func (h *Handlers) renderTokens(w http.ResponseWriter, r *http.Request, status int, f *web.Form, created *Token, plaintext string) error {
	tokens, err := h.svc.ListTokens(r.Context(), web.ViewerFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, status, "account_tokens", web.Page{Title: h.rd.T(r, "API tokens"),
		Data: tokensData{Tokens: tokens, Form: f, Created: created, Plaintext: plaintext, Now: h.svc.Now()}})
}

// CreateToken makes a token for the viewer and shows it, this once, on the list page
// (201 rather than a redirect, since the token must not travel in a cookie or an address).
func (h *Handlers) CreateToken(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	plaintext, tok, err := h.svc.CreateToken(r.Context(), web.ViewerFrom(r.Context()).ID, f.Get("name"), ActorOf(r))
	if err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderTokens(w, r, web.Status(apperr.CodeOf(err)), f, nil, "")
	}
	return h.renderTokens(w, r, http.StatusCreated, web.NewForm(nil), tok, plaintext)
}

// RevokeToken ends one of the viewer's tokens.
func (h *Handlers) RevokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.RevokeToken(r.Context(), web.ViewerFrom(r.Context()).ID, chi.URLParam(r, "id"), ActorOf(r)); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/account/tokens", "The token was revoked.")
}
