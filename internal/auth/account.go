package auth

import (
	"net/http"

	"github.com/gorilla/sessions"

	"github.com/civictech/registry/internal/web"
)

type accountData struct {
	User        *User
	MFARequired bool
	Form        *web.Form
}

func (h *Handlers) viewerUser(r *http.Request) (*User, error) {
	return h.svc.Users.ByID(r.Context(), web.ViewerFrom(r.Context()).ID)
}

func (h *Handlers) renderAccount(w http.ResponseWriter, r *http.Request, status int, f *web.Form) error {
	u, err := h.viewerUser(r)
	if err != nil {
		return err
	}
	required, err := h.svc.Users.MFARequired(r.Context(), u.Roles)
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, status, "account", web.Page{Title: h.rd.T(r, "Your account"),
		Data: accountData{User: u, MFARequired: required, Form: f}})
}

// Account shows the viewer's profile, password form and second-factor status.
func (h *Handlers) Account(w http.ResponseWriter, r *http.Request) error {
	return h.renderAccount(w, r, http.StatusOK, web.NewForm(nil))
}

// ChangePassword checks the current password, sets the new one and signs in again, since
// changing a password ends every session of the account.
func (h *Handlers) ChangePassword(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	u, err := h.viewerUser(r)
	if err != nil {
		return err
	}
	if ok, err := CheckPassword(u.passwordHash, f.Get("current")); err != nil {
		return err
	} else if !ok {
		f.Errors["current"] = h.rd.T(r, "Your current password is not correct.")
	}
	if f.Get("new") != f.Get("confirm") {
		f.Errors["confirm"] = h.rd.T(r, "The two new passwords differ.")
	}
	if f.Valid() {
		err = h.svc.SetPassword(r.Context(), u.Email, f.Get("new"), ActorOf(r))
		if err == nil {
			return h.rd.Redirect(w, r, "/login", "Your password was changed. Please sign in again.")
		}
		if !h.rd.Fail(r, f, err) {
			return err
		}
		if msg, ok := f.Errors["password"]; ok {
			delete(f.Errors, "password")
			f.Errors["new"] = msg
		}
	}
	return h.renderAccount(w, r, http.StatusUnprocessableEntity, f)
}

type totpData struct {
	Enrolment *TOTPEnrolment
	Enabled   bool
	Form      *web.Form
}

const keyTOTPSecret = "totp_secret"

// TOTPSetup shows a new key to scan, kept in the session until confirmed, or, when the second
// factor is on, the form to turn it off.
func (h *Handlers) TOTPSetup(w http.ResponseWriter, r *http.Request) error {
	return h.renderTOTP(w, r, http.StatusOK, web.NewForm(nil))
}

func (h *Handlers) renderTOTP(w http.ResponseWriter, r *http.Request, status int, f *web.Form) error {
	u, err := h.viewerUser(r)
	if err != nil {
		return err
	}
	data := totpData{Enabled: u.TOTPEnabled, Form: f}
	if !u.TOTPEnabled {
		s := SessionFrom(r.Context())
		secret, err := h.pendingSecret(s, u.ID)
		if err != nil {
			return err
		}
		if secret == "" || status == http.StatusOK {
			enrol, err := NewTOTP(u.Email)
			if err != nil {
				return err
			}
			// Sealed in the session too: sessions are rows of the database.
			if s.Values[keyTOTPSecret], err = h.svc.Secrets.Seal(u.ID, enrol.Secret); err != nil {
				return err
			}
			if err := s.Save(r, w); err != nil {
				return err
			}
			data.Enrolment = enrol
		} else {
			data.Enrolment, err = enrolmentFor(u.Email, secret)
			if err != nil {
				return err
			}
		}
	}
	return h.rd.Render(w, r, status, "account_totp", web.Page{Title: h.rd.T(r, "Two-step verification"), Data: data})
}

// pendingSecret returns the key being enrolled, kept sealed in the session s of userID; ""
// when there is none.
func (h *Handlers) pendingSecret(s *sessions.Session, userID string) (string, error) {
	sealed, _ := s.Values[keyTOTPSecret].(string)
	if sealed == "" {
		return "", nil
	}
	return h.svc.Secrets.Open(userID, sealed)
}

// EnableTOTP turns the second factor on when the code matches the key shown.
func (h *Handlers) EnableTOTP(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	s := SessionFrom(r.Context())
	v := web.ViewerFrom(r.Context())
	secret, err := h.pendingSecret(s, v.ID)
	if err != nil {
		return err
	}
	if secret == "" {
		return h.rd.Redirect(w, r, "/account/totp", "")
	}
	if err := h.svc.EnableTOTP(r.Context(), v.ID, secret, f.Get("code"), ActorOf(r)); err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderTOTP(w, r, http.StatusUnprocessableEntity, f)
	}
	delete(s.Values, keyTOTPSecret)
	if err := s.Save(r, w); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/account", "Two-step verification is on.")
}

// DisableTOTP turns the second factor off, given a current code.
func (h *Handlers) DisableTOTP(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	u, err := h.viewerUser(r)
	if err != nil {
		return err
	}
	if err := h.svc.DisableTOTP(r.Context(), u, f.Get("code"), ActorOf(r)); err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderTOTP(w, r, http.StatusUnprocessableEntity, f)
	}
	return h.rd.Redirect(w, r, "/account", "Two-step verification is off.")
}
