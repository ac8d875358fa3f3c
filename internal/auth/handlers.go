package auth

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/web"
)

// Handlers serve sign-in, sign-out and the account pages.
type Handlers struct {
	svc *Service
	rd  *web.Renderer
}

// NewHandlers returns the sign-in and account handlers.
func NewHandlers(svc *Service, rd *web.Renderer) *Handlers { return &Handlers{svc: svc, rd: rd} }

// safeNext keeps a post-sign-in destination only when it is a path on this site, so the
// sign-in page cannot be used to send people elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}

func landing(u *User) string {
	switch {
	case u.Has(RoleAuthor):
		return "/workspace"
	case u.Has(RoleReviewer, RoleExpert):
		return "/review"
	case u.Has(RoleAdmin):
		return "/admin"
	}
	return "/account"
}

// LoginPage shows the sign-in form.
func (h *Handlers) LoginPage(w http.ResponseWriter, r *http.Request) error {
	if v := web.ViewerFrom(r.Context()); v != nil {
		return h.rd.Redirect(w, r, "/account", "")
	}
	f := web.NewForm(nil)
	f.Values.Set("next", safeNext(r.URL.Query().Get("next")))
	return h.rd.Render(w, r, http.StatusOK, "login", web.Page{Title: h.rd.T(r, "Staff sign-in"), Data: f})
}

// Login checks the password, then either completes the sign-in or asks for the second factor.
func (h *Handlers) Login(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	email, password := strings.TrimSpace(f.Get("email")), f.Get("password")
	if email == "" || password == "" {
		f.Errors["email"] = h.rd.T(r, "Enter your e-mail address and password.")
		return h.rd.Render(w, r, http.StatusUnprocessableEntity, "login", web.Page{Title: h.rd.T(r, "Staff sign-in"), Data: f})
	}
	u, err := h.svc.Authenticate(r.Context(), email, password, ActorOf(r))
	if err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		status := web.Status(apperr.CodeOf(err))
		if e, ok := apperr.As(err); ok && e.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfter(e))
		}
		return h.rd.Render(w, r, status, "login", web.Page{Title: h.rd.T(r, "Staff sign-in"), Data: f})
	}
	s := SessionFrom(r.Context())
	if err := h.svc.Sessions.Renew(r.Context(), s); err != nil {
		return err
	}
	s.Values[keyUserID] = u.ID
	s.Values[keyMFAPending] = u.TOTPEnabled
	s.Values["next"] = safeNext(f.Get("next"))
	if err := s.Save(r, w); err != nil {
		return err
	}
	if u.TOTPEnabled {
		return h.rd.Redirect(w, r, "/login/totp", "")
	}
	return h.complete(w, r, u)
}

func (h *Handlers) complete(w http.ResponseWriter, r *http.Request, u *User) error {
	s := SessionFrom(r.Context())
	next, _ := s.Values["next"].(string)
	delete(s.Values, "next")
	s.Values[keyMFAPending] = false
	if err := s.Save(r, w); err != nil {
		return err
	}
	if err := h.svc.RecordLogin(r.Context(), u, ActorOf(r)); err != nil {
		return err
	}
	if next == "" {
		next = landing(u)
	}
	return h.rd.Redirect(w, r, next, "You are signed in.")
}

func retryAfter(e *apperr.Error) string {
	return strconv.Itoa(int(e.RetryAfter.Seconds() + 0.999))
}

func (h *Handlers) pendingUser(r *http.Request) string {
	s := SessionFrom(r.Context())
	id, _ := s.Values[keyUserID].(string)
	if pending, _ := s.Values[keyMFAPending].(bool); !pending {
		return ""
	}
	return id
}

// TOTPPage asks for the second-factor code after a correct password.
func (h *Handlers) TOTPPage(w http.ResponseWriter, r *http.Request) error {
	if h.pendingUser(r) == "" {
		return h.rd.Redirect(w, r, "/login", "")
	}
	return h.rd.Render(w, r, http.StatusOK, "login_totp", web.Page{Title: h.rd.T(r, "Two-step verification"), Data: web.NewForm(nil)})
}

// TOTP checks the second-factor code and completes the sign-in.
func (h *Handlers) TOTP(w http.ResponseWriter, r *http.Request) error {
	userID := h.pendingUser(r)
	if userID == "" {
		return h.rd.Redirect(w, r, "/login", "")
	}
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	u, err := h.svc.VerifyTOTP(r.Context(), userID, f.Get("code"), ActorOf(r))
	if err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		if e, ok := apperr.As(err); ok && e.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfter(e))
		}
		return h.rd.Render(w, r, web.Status(apperr.CodeOf(err)), "login_totp", web.Page{Title: h.rd.T(r, "Two-step verification"), Data: f})
	}
	return h.complete(w, r, u)
}

// Logout ends the session.
func (h *Handlers) Logout(w http.ResponseWriter, r *http.Request) error {
	s := SessionFrom(r.Context())
	if v := web.ViewerFrom(r.Context()); v != nil {
		if err := h.svc.Record(r.Context(), ActorOf(r), audit.Logout, v.Email, nil); err != nil {
			return err
		}
	}
	s.Options.MaxAge = -1
	if err := s.Save(r, w); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/login", "You are signed out.")
}

// SetLang remembers the chosen language in a cookie and goes back to the page.
func (h *Handlers) SetLang(w http.ResponseWriter, r *http.Request, lang i18n.Lang) error {
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: string(lang), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.svc.Sessions.Options.Secure})
	next := safeNext(r.URL.Query().Get("next"))
	if next == "" {
		next = "/" + string(lang) + "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
