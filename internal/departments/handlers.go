package departments

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/web"
)

// Handlers are the data office's pages for the departments.
type Handlers struct {
	rd    *web.Renderer
	store *Store
	// actor returns who makes a request (auth.ActorOf), for the audit trail.
	actor func(*http.Request) Actor
}

// NewHandlers returns the pages over store.
func NewHandlers(rd *web.Renderer, store *Store, actor func(*http.Request) Actor) *Handlers {
	return &Handlers{rd: rd, store: store, actor: actor}
}

type listData struct {
	Departments []Department
	Langs       []i18n.Lang
	Form        *web.Form
	Added       string
}

// ListPage lists every department, with the form to add one.
func (h *Handlers) ListPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderList(w, r, http.StatusOK, web.NewForm(nil), "")
}

func (h *Handlers) renderList(w http.ResponseWriter, r *http.Request, status int, f *web.Form, added string) error {
	list, err := h.store.List(r.Context(), true)
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, status, "admin/departments", web.Page{Title: h.rd.T(r, "Departments"),
		Data: listData{Departments: list, Langs: i18n.Langs, Form: f, Added: added}})
}

// namesOf reads the name_ca, name_es and name_en fields of f.
func namesOf(f *web.Form) map[string]string {
	names := map[string]string{}
	for _, l := range i18n.Langs {
		names[string(l)] = f.Get("name_" + string(l))
	}
	return names
}

// Add adds the department of the form.
func (h *Handlers) Add(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	d, err := h.store.Add(r.Context(), namesOf(f), h.actor(r))
	if err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderList(w, r, http.StatusUnprocessableEntity, f, "")
	}
	return h.renderList(w, r, http.StatusCreated, web.NewForm(nil), d.Name(web.LangFrom(r.Context())))
}

type editData struct {
	Department *Department
	Langs      []i18n.Lang
	Form       *web.Form
}

// Page shows one department's form.
func (h *Handlers) Page(w http.ResponseWriter, r *http.Request) error {
	d, err := h.store.ByID(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	f := web.NewForm(nil)
	for l, name := range d.Names {
		f.Values.Set("name_"+l, name)
	}
	if d.Active {
		f.Values.Set("active", "1")
	}
	return h.renderEdit(w, r, http.StatusOK, d, f)
}

func (h *Handlers) renderEdit(w http.ResponseWriter, r *http.Request, status int, d *Department, f *web.Form) error {
	return h.rd.Render(w, r, status, "admin/department", web.Page{Title: d.Name(web.LangFrom(r.Context())),
		Data: editData{Department: d, Langs: i18n.Langs, Form: f}})
}

// Update saves one department's names and whether authors may choose it.
func (h *Handlers) Update(w http.ResponseWriter, r *http.Request) error {
	d, err := h.store.ByID(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	if err := h.store.Update(r.Context(), d.ID, namesOf(f), f.Get("active") == "1", h.actor(r)); err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderEdit(w, r, http.StatusUnprocessableEntity, d, f)
	}
	return h.rd.Redirect(w, r, "/admin/departments", "Saved.")
}
