package auth

import (
	"context"
	"net/http"

	"github.com/gorilla/sessions"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/web"
)

type ctxKey int

const sessionKey ctxKey = iota

// SessionFrom returns the request's session (nil outside LoadSession).
func SessionFrom(ctx context.Context) *sessions.Session {
	s, _ := ctx.Value(sessionKey).(*sessions.Session)
	return s
}

// Middleware guards staff routes.
type Middleware struct {
	svc *Service
	rd  *web.Renderer
}

// NewMiddleware returns the guards for svc, rendering refusals with rd.
func NewMiddleware(svc *Service, rd *web.Renderer) *Middleware { return &Middleware{svc: svc, rd: rd} }

// ActorOf describes the request's viewer for audit events.
func ActorOf(r *http.Request) Actor {
	a := Actor{ClientIP: web.ClientIP(r), RequestID: web.RequestIDOf(r)}
	if v := web.ViewerFrom(r.Context()); v != nil {
		a.ID, a.Email = v.ID, v.Email
	}
	return a
}

// LoadSession reads the session cookie and, for a fully signed-in, enabled account, puts
// the viewer in the request context. A session of a disabled account is deleted.
func (m *Middleware) LoadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.svc.Sessions.New(r, m.svc.Sessions.Name)
		if err != nil {
			m.rd.Error(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), sessionKey, s)
		userID, _ := s.Values[keyUserID].(string)
		pending, _ := s.Values[keyMFAPending].(bool)
		if userID != "" && !pending {
			u, err := m.svc.Users.ByID(ctx, userID)
			switch {
			case err == nil && !u.Disabled:
				ctx = web.WithViewer(ctx, viewerOf(u))
			case err == nil || apperr.Is(err, apperr.NotFound):
				s.Options.MaxAge = -1
				if err := s.Save(r, w); err != nil {
					m.rd.Error(w, r, err)
					return
				}
			default:
				m.rd.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func viewerOf(u *User) *web.Viewer {
	return &web.Viewer{ID: u.ID, Email: u.Email, Name: u.Name, Roles: u.Roles, MFAEnabled: u.TOTPEnabled}
}

// RequireSignIn lets through any signed-in staff member, whether or not a second factor is
// set up yet: the account pages, where it is set up, sit behind it.
func (m *Middleware) RequireSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.ViewerFrom(r.Context()) == nil {
			m.rd.Error(w, r, apperr.New(apperr.Unauthenticated, "Please sign in."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireRole lets through a signed-in viewer holding any of roles. Anonymous visitors are sent to sign in and brought back; a viewer without
// the role gets 403, recorded as an audit event. A viewer whose role requires a second
// factor that is not yet set up is sent to set it up first.
func (m *Middleware) RequireRole(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v := web.ViewerFrom(r.Context())
			if v == nil {
				m.rd.Error(w, r, apperr.New(apperr.Unauthenticated, "Please sign in."))
				return
			}
			if !v.Has(roles...) {
				by := ActorOf(r)
				if err := m.svc.Record(r.Context(), by, audit.Forbidden, r.Method+" "+r.URL.Path,
					map[string]any{"needs": roles, "has": v.Roles}); err != nil {
					m.rd.Error(w, r, err)
					return
				}
				m.rd.Error(w, r, apperr.New(apperr.Forbidden, ""))
				return
			}
			if !v.MFAEnabled {
				required, err := m.svc.Users.MFARequired(r.Context(), v.Roles)
				if err != nil {
					m.rd.Error(w, r, err)
					return
				}
				if required && !web.IsAPI(r) {
					_ = m.rd.Redirect(w, r, "/account/totp", "Your role requires a second factor. Set it up to continue.")
					return
				}
				if required {
					m.rd.Error(w, r, apperr.New(apperr.Forbidden, "Your role requires a second factor. Set it up to continue."))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
