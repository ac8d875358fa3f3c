package web

import (
	"net/http"
	"net/url"

	"github.com/civictech/registry/internal/apperr"
)

// Form is a submitted form with its answers and its errors by field, so that a page can be
// shown again with what the user typed and a message at each field that needs fixing.
type Form struct {
	Values url.Values
	Errors map[string]string // field → translated message
}

// NewForm returns a form holding values.
func NewForm(values url.Values) *Form {
	if values == nil {
		values = url.Values{}
	}
	return &Form{Values: values, Errors: map[string]string{}}
}

// Get returns the first value of field.
func (f *Form) Get(field string) string { return f.Values.Get(field) }

// Has reports whether field carries value among its values (a checked checkbox).
func (f *Form) Has(field, value string) bool {
	for _, v := range f.Values[field] {
		if v == value {
			return true
		}
	}
	return false
}

// Err returns the message for field, or "".
func (f *Form) Err(field string) string { return f.Errors[field] }

// Valid reports whether no field has an error.
func (f *Form) Valid() bool { return len(f.Errors) == 0 }

// Fail records the errors of err on the form, translated for r, and reports whether err was
// an Invalid error (to be shown at the fields) rather than something else.
func (rd *Renderer) Fail(r *http.Request, f *Form, err error) bool {
	e, ok := apperr.As(err)
	if !ok || (e.Code != apperr.Invalid && e.Code != apperr.Unauthenticated && e.Code != apperr.TooManyRequests && e.Code != apperr.Conflict) {
		return false
	}
	for field, msg := range e.Fields {
		f.Errors[field] = rd.T(r, msg, e.FieldArgs[field]...)
	}
	if len(e.Fields) == 0 {
		f.Errors["form"] = rd.T(r, e.Message)
	}
	return true
}

// ParseForm parses r's form body; a body over the limit becomes a 413.
func ParseForm(r *http.Request) (*Form, error) {
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return NewForm(r.PostForm), nil
}
