package auth

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/web"
)

// AdminHome links to the administration pages.
func (h *Handlers) AdminHome(w http.ResponseWriter, r *http.Request) error {
	return h.rd.Render(w, r, http.StatusOK, "admin/index", web.Page{Title: h.rd.T(r, "Administration")})
}

type usersData struct {
	Users    []*User
	Roles    []string
	Form     *web.Form
	Password string // a generated password, shown once after creating an account
	Created  string
}

// UsersPage lists accounts with the form to add one.
func (h *Handlers) UsersPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderUsers(w, r, http.StatusOK, web.NewForm(nil), "", "")
}

func (h *Handlers) renderUsers(w http.ResponseWriter, r *http.Request, status int, f *web.Form, created, password string) error {
	users, err := h.svc.Users.List(r.Context())
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, status, "admin/users", web.Page{Title: h.rd.T(r, "Accounts"),
		Data: usersData{Users: users, Roles: Roles, Form: f, Created: created, Password: password}})
}

// CreateUser adds an account with a generated password, shown once.
func (h *Handlers) CreateUser(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	password := RandomPassword()
	u, err := h.svc.CreateUser(r.Context(), NewUser{Email: f.Get("email"), Name: f.Get("name"),
		Roles: f.Values["roles"], Password: password}, ActorOf(r))
	if err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderUsers(w, r, http.StatusUnprocessableEntity, f, "", "")
	}
	return h.renderUsers(w, r, http.StatusCreated, web.NewForm(nil), u.Email, password)
}

type userData struct {
	User  *User
	Roles []string
	Form  *web.Form
	Audit []audit.Event
}

func (h *Handlers) userFromURL(r *http.Request) (*User, error) {
	return h.svc.Users.ByID(r.Context(), chi.URLParam(r, "id"))
}

// UserPage shows one account with its roles, status and recent audit events.
func (h *Handlers) UserPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderUser(w, r, http.StatusOK, nil)
}

func (h *Handlers) renderUser(w http.ResponseWriter, r *http.Request, status int, f *web.Form) error {
	u, err := h.userFromURL(r)
	if err != nil {
		return err
	}
	if f == nil {
		f = web.NewForm(url.Values{"roles": u.Roles})
	}
	events, err := audit.List(r.Context(), h.svc.DB, audit.Filter{Subject: u.Email, Limit: 20})
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, status, "admin/user", web.Page{Title: u.Name,
		Data: userData{User: u, Roles: Roles, Form: f, Audit: events}})
}

// UpdateUser applies one of the account actions: roles, disable, enable, revoke sessions.
func (h *Handlers) UpdateUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.userFromURL(r)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	by := ActorOf(r)
	var flash string
	switch f.Get("action") {
	case "roles":
		err, flash = h.svc.SetRoles(r.Context(), u.Email, f.Values["roles"], by), "Roles saved."
	case "disable":
		err, flash = h.svc.SetDisabled(r.Context(), u.Email, true, by), "Account disabled; its sessions ended."
	case "enable":
		err, flash = h.svc.SetDisabled(r.Context(), u.Email, false, by), "Account enabled."
	case "revoke":
		err, flash = h.svc.RevokeSessions(r.Context(), u.Email, by), "Sessions ended."
	default:
		return apperr.New(apperr.BadRequest, "")
	}
	if err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderUser(w, r, web.Status(apperr.CodeOf(err)), f)
	}
	return h.rd.Redirect(w, r, "/admin/users/"+u.ID, flash)
}

type securityData struct {
	Roles    []string
	Required map[string]bool
	Form     *web.Form
}

// SecurityPage shows which roles must use a second factor.
func (h *Handlers) SecurityPage(w http.ResponseWriter, r *http.Request) error {
	policies, err := h.svc.Users.RolePolicies(r.Context())
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, http.StatusOK, "admin/security", web.Page{Title: h.rd.T(r, "Sign-in security"),
		Data: securityData{Roles: Roles, Required: policies, Form: web.NewForm(nil)}})
}

// SetSecurity saves which roles must use a second factor.
func (h *Handlers) SetSecurity(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	if err := h.svc.SetMFAPolicy(r.Context(), f.Values["mfa"], ActorOf(r)); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/admin/security", "Saved.")
}

type auditData struct {
	Events []audit.Event
	Filter audit.Filter
	Next   int64
}

// AuditLog lists audit events, newest first, with filters.
func (h *Handlers) AuditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	f := audit.Filter{Action: q.Get("action"), Actor: q.Get("actor"), Subject: q.Get("subject"), Before: before, Limit: 100}
	events, err := audit.List(r.Context(), h.svc.DB, f)
	if err != nil {
		return err
	}
	d := auditData{Events: events, Filter: f}
	if len(events) == f.Limit {
		d.Next = events[len(events)-1].ID
	}
	return h.rd.Render(w, r, http.StatusOK, "admin/audit", web.Page{Title: h.rd.T(r, "Audit log"), Data: d})
}
